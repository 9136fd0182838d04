"""``posemu agent``: a terminal and its agent, headless, until stopped (Ctrl-C or SIGTERM).

For benches, CI and servers: the same terminal as the TUI's (journal, store-and-forward,
receipts, devices) without a screen, reporting to the TMS at ``--tms`` and taking its
remote commands. Without ``--tms`` an embedded broker starts on 127.0.0.1 and its URL is
printed, so ``posemu tms watch --broker URL`` can follow it. Without ``--host`` the host
simulator runs in-process (state under ``<data-dir>/host``).

``posemu repair`` records a repair request in a terminal's agent outbox (``--data-dir``) and
sends it now when ``--tms`` is given, or with the next ``posemu agent``/``posemu`` run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from terminal.cli.agent_options import add_agent_options, agent_broker, attach_agent
from terminal.cli.devices_opts import add_input_device_options

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "agent",
        help="a headless terminal with its device-management agent",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data-dir", type=Path, help="terminal data directory (default: per user)")
    p.add_argument("--host", help="acquirer host tcp://HOST:PORT (default: in-process simulator)")
    p.add_argument("--spec", default="iso87ascii", help="dialect name or dialect file")
    p.add_argument("--terminal-id", help="terminal ID, field 41 (default from the config)")
    p.add_argument(
        "--printer",
        default="none",
        help="receipt printer: pyserial URL (/dev/ttyUSB0, socket://H:P), file:PATH, text:PATH, "
        "stdout or none (default)",
    )
    p.add_argument("--firmware-url", help="firmware repository for the TMS update command")
    add_input_device_options(p)
    add_agent_options(p, embedded_default=True)
    p.set_defaults(func=run)

    r = sub.add_parser("repair", help="send a repair request to the TMS (after-sales)")
    r.add_argument("--data-dir", type=Path, help="the terminal's data directory")
    r.add_argument("--part", required=True, help="faulty part, e.g. printer, reader, screen")
    r.add_argument("--description", required=True, help="what happened")
    r.add_argument("--contact", required=True, help="who to call back, e.g. name and phone")
    r.add_argument("--tried", default="", help="what was already tried")
    r.add_argument("--terminal-id", help="terminal ID (default from the config)")
    r.add_argument("--flush", type=float, default=10.0, help="seconds to try sending now")
    add_agent_options(r, embedded_default=False)
    r.set_defaults(func=run_repair)


def _settings(args: argparse.Namespace) -> tuple[Any, bool, Path]:
    """Config (options > environment > settings.toml, the same as every terminal command),
    whether the host is the in-process simulator, and the data directory."""
    from terminal.cli.options import spec_from, terminal_settings

    extra: dict[str, tuple[Any, str]] = {}
    if getattr(args, "spec", None):
        extra["spec"] = (args.spec, "--spec")
    if getattr(args, "terminal_id", None):
        extra["terminal_id"] = (args.terminal_id, "--terminal-id")
    config, sources, data_dir = terminal_settings(args, **extra)
    spec_from(config.spec, flag="--spec")
    return config, sources["host"] == "default", data_dir


@contextlib.asynccontextmanager
async def _host(config: Any, spec: Any, data_dir: Path, embedded: bool) -> AsyncIterator[Any]:
    if not embedded:
        yield config
        return
    from iso8583.host import EmbeddedHost

    host = EmbeddedHost(spec, state_dir=data_dir / "host")
    address, port = host.start()
    try:
        yield config.with_(host=f"tcp://{address}:{port}")
    finally:
        host.stop()


def run(args: argparse.Namespace) -> int:
    from terminal.cli.devices_opts import open_devices
    from terminal.cli.iso8583_cmds import resolve_spec
    from terminal.devices import open_printer

    config, embedded, data_dir = _settings(args)
    spec = resolve_spec(config.spec)
    devices = open_devices(args)  # bad URLs fail before anything starts
    devices.printer = open_printer(args.printer, publish=devices.emit)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args, (config, embedded, data_dir), spec, devices))
    return 0


async def _run(
    args: argparse.Namespace, setup: tuple[Any, bool, Path], spec: Any, devices: Any
) -> None:
    import logging

    from terminal.runtime import TerminalRuntime

    problems = logging.StreamHandler(sys.stderr)  # warnings (broker unreachable...) on stderr
    problems.setLevel(logging.WARNING)
    problems.setFormatter(logging.Formatter("warning: %(message)s"))
    logging.getLogger("agent").addHandler(problems)

    config, embedded, data_dir = setup
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with agent_broker(args) as url, _host(config, spec, data_dir, embedded) as live:
        runtime = TerminalRuntime(live, data_dir=data_dir, spec=spec, printer=devices.printer)
        devices.attach_to(runtime)
        agent = None if args.no_tms else attach_agent(args, runtime, data_dir, url)
        try:
            devices.start()
            await runtime.start()
            where = f"TMS {agent.settings.url}" if agent else "no TMS"
            print(
                f"posemu agent: terminal {live.terminal_id} ({where}, host {live.host}); "
                "Ctrl-C to stop",
                file=sys.stderr,
                flush=True,
            )
            if not args.tms and agent is not None:
                print(f"TMS broker (embedded): {url}", flush=True)
            await stop.wait()
        finally:
            await runtime.stop()
            devices.stop()
            runtime.close()


def run_repair(args: argparse.Namespace) -> int:
    from agent.reports import DeviceIdentity
    from agent.service import Agent
    from agent.store import AgentStore
    from agent.terminal_agent import AGENT_DB
    from terminal.cli.tms_options import broker_settings

    for name in ("part", "description", "contact"):
        if not getattr(args, name).strip():
            print(f"error: --{name} must not be empty", file=sys.stderr)
            return 2
    config, _embedded, data_dir = _settings(args)
    tid = config.terminal_id
    settings = broker_settings(args, args.tms or "mqtt://127.0.0.1")
    identity = DeviceIdentity(
        tid,
        model=args.model or "POSEMU-S1",
        serial=args.serial or f"PSM-{tid}",
        purchase_date=args.purchase_date or "",
    )
    store = AgentStore(data_dir / AGENT_DB)
    try:
        agent = Agent(settings, identity, store, data_dir=data_dir)
        report_id = agent.repair_request(args.part, args.description, args.contact, args.tried)
        sent = (
            asyncio.run(_send_now(settings, tid, agent.outbox, args.flush)) if (args.tms) else False
        )
    finally:
        store.close()
    if sent:
        print(f"repair request {report_id} sent")
    else:
        print(
            f"repair request {report_id} stored in {data_dir / AGENT_DB}; it goes to the TMS "
            "with the terminal's next connection"
        )
    return 0


async def _send_now(settings: Any, tid: str, outbox: Any, timeout: float) -> bool:
    """Drain the terminal's outbox under a client ID of its own: never "online", no last will,
    so a terminal agent running on the same data directory is not disturbed."""
    import aiomqtt

    from agent.link import drain
    from agent.mqtt import make_client, settle

    client = make_client(settings, f"posemu-{tid}-repair")

    async def publish(topic: str, payload: bytes) -> None:
        await client.publish(topic, payload, qos=1)

    try:
        async with asyncio.timeout(timeout), client:
            await drain(outbox, publish)
    except (aiomqtt.MqttError, TimeoutError) as exc:
        print(f"warning: broker {settings.url}: {exc or 'timed out'}", file=sys.stderr)
    finally:
        settle(client)
    return outbox.depth() == 0
