"""Agent options for the terminal commands (``posemu``, ``posemu tui``, ``posemu agent``,
``posemu pay``) and the wiring that plugs a :class:`~agent.terminal_agent.TerminalAgent`
into a runtime. Parsers import no MQTT code; wiring imports it only when an agent runs."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal.cli.tms_options import add_broker_options, broker_settings, broker_url

if TYPE_CHECKING:
    from agent.terminal_agent import TerminalAgent
    from terminal.runtime import TerminalRuntime

__all__ = [
    "AGENT_DESTS",
    "add_agent_options",
    "agent_broker",
    "attach_agent",
    "wants_agent",
]


#: The agent's option dests; the top-level parser has them as ``global_<dest>``.
AGENT_DESTS = (
    "tms",
    "mqtt_version",
    "tms_prefix",
    "tms_ca",
    "tms_cert",
    "tms_cert_key",
    "no_tms",
    "tms_public_key",
    "heartbeat",
    "lost_receipts",
    "serial",
    "model",
    "purchase_date",
)
DEFAULT_HEARTBEAT = 30.0
DEFAULT_MODEL = "POSEMU-S1"


def add_agent_options(
    p: argparse.ArgumentParser, *, embedded_default: bool, dest_prefix: str = ""
) -> None:
    """Every default is None (the defaults apply in :func:`attach_agent`), so a top-level
    ``posemu --tms URL tui`` and ``posemu tui --tms URL`` merge without a false conflict."""
    pre = dest_prefix
    g = p.add_argument_group("device management (TMS over MQTT)")
    add_broker_options(g, flag="--tms", required=False, dest_prefix=pre)  # type: ignore[arg-type]
    g.add_argument(
        "--no-tms",
        dest=f"{pre}no_tms",
        action="store_true",
        default=None,
        help="run without the agent"
        + (
            " (default without --tms: an embedded broker on 127.0.0.1)"
            if embedded_default
            else " (the default without --tms)"
        ),
    )
    g.add_argument(
        "--tms-public-key",
        dest=f"{pre}tms_public_key",
        metavar="FILE",
        help="TMS Ed25519 public key: run only commands signed with it",
    )
    g.add_argument(
        "--heartbeat",
        dest=f"{pre}heartbeat",
        type=float,
        metavar="S",
        help=f"seconds between heartbeats (default {DEFAULT_HEARTBEAT:g})",
    )
    g.add_argument(
        "--lost-receipts",
        dest=f"{pre}lost_receipts",
        choices=("reprint", "offer"),
        help="when the printer works again: reprint failed copies as DUPLICATE "
        "(default) or offer them in the agent panel",
    )
    g.add_argument(
        "--serial",
        dest=f"{pre}serial",
        metavar="SERIAL",
        help="serial number reported to the TMS (default: PSM-<TID>)",
    )
    g.add_argument(
        "--model",
        dest=f"{pre}model",
        metavar="MODEL",
        help=f"model reported to the TMS (default {DEFAULT_MODEL})",
    )
    g.add_argument(
        "--purchase-date",
        dest=f"{pre}purchase_date",
        metavar="YYYY-MM-DD",
        help="purchase date sent with repair requests",
    )


def wants_agent(args: argparse.Namespace, *, embedded_default: bool) -> bool:
    if getattr(args, "no_tms", False):
        if broker_url(args):
            from agent.errors import AgentError

            raise AgentError("--tms and --no-tms contradict each other")
        return False
    return bool(broker_url(args)) or embedded_default


@contextlib.asynccontextmanager
async def agent_broker(args: argparse.Namespace) -> AsyncIterator[str]:
    """The broker URL: ``--tms``, or an embedded broker on 127.0.0.1 for as long as this runs."""
    if broker_url(args):
        yield str(broker_url(args))
        return
    from agent.broker import EmbeddedBroker

    async with EmbeddedBroker() as broker:
        yield broker.url


def attach_agent(
    args: argparse.Namespace,
    runtime: TerminalRuntime,
    data_dir: Path,
    url: str,
    *,
    flush_timeout: float = 5.0,
) -> TerminalAgent:
    """Build the agent and plug it into ``runtime`` (call before ``runtime.start()``)."""
    from datetime import date

    from agent.errors import AgentError
    from agent.service import AgentOptions
    from agent.terminal_agent import TerminalAgent, TerminalInfo

    heartbeat = DEFAULT_HEARTBEAT if args.heartbeat is None else args.heartbeat
    if heartbeat < 0.5:
        raise AgentError("--heartbeat must be at least 0.5 seconds")
    if args.purchase_date:
        try:
            date.fromisoformat(args.purchase_date)
        except ValueError:
            raise AgentError(f"--purchase-date {args.purchase_date!r}: use YYYY-MM-DD") from None
    key: Any = None
    if args.tms_public_key:
        from agent.signing import load_public_key

        key = load_public_key(args.tms_public_key)
    settings = broker_settings(args, url)
    info = TerminalInfo(
        model=args.model or DEFAULT_MODEL,
        serial=args.serial or "",
        purchase_date=args.purchase_date or "",
    )
    options = AgentOptions(heartbeat_interval=heartbeat, flush_timeout=flush_timeout)
    agent = TerminalAgent(
        runtime,
        settings,
        data_dir,
        info=info,
        options=options,
        key=key,
        lost_receipts=args.lost_receipts or "reprint",
        firmware_url=getattr(args, "firmware_url", None),
    )
    return agent.attach()
