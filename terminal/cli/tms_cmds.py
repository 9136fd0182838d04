"""``posemu tms watch|send|fleet|broker|keygen``: the TMS console side, against any MQTT broker.

``watch`` prints one JSON line per report (status, heartbeat, fault, result, repair), each
once (de-duplicated by ID), and keeps reconnecting if the broker goes away. ``send`` publishes
one command, waits for its result and prints it as JSON. ``fleet`` prints a table of the
terminals the broker knows (from their retained status and heartbeat). ``broker`` runs a
small MQTT broker on 127.0.0.1 to try all this without one of your own. ``keygen`` writes an
Ed25519 key pair: the private key signs commands (``send --sign-key``), terminals verify
with the public one (``posemu agent --tms-public-key``).

Exit status: 0 done (``send``: the command ran, status ok); 1 ``send``: refused or failed;
2 bad usage; 3 broker unreachable or no result within ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from terminal.cli.tms_options import add_broker_options, broker_settings

__all__ = ["add_parser"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


def add_parser(sub: argparse._SubParsersAction) -> None:
    tms = sub.add_parser(
        "tms",
        help="TMS console: watch terminals, send commands",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tsub = tms.add_subparsers(dest="tms_command", metavar="ACTION", required=True)

    watch = tsub.add_parser("watch", help="print reports as JSON lines")
    add_broker_options(watch, flag="--broker", required=True)
    watch.add_argument("--terminal", metavar="TID", help="only this terminal")
    watch.add_argument(
        "--type",
        action="append",
        choices=("status", "heartbeat", "fault", "result", "repair"),
        help="only these report types (repeatable; default: all)",
    )
    watch.add_argument("--count", type=int, metavar="N", help="exit after N reports")
    watch.add_argument("--timeout", type=float, metavar="S", help="exit after S seconds")
    watch.add_argument(
        "--client-id",
        metavar="ID",
        help="keep a persistent session under this ID: reports sent while the watcher is "
        "down are delivered when it comes back",
    )
    watch.add_argument(
        "--group",
        metavar="NAME",
        help="MQTT 5: share the fleet's event streams among all watchers of this group",
    )
    watch.set_defaults(func=_watch)

    send = tsub.add_parser("send", help="send a command and print its result")
    add_broker_options(send, flag="--broker", required=True)
    send.add_argument("--terminal", metavar="TID", required=True, help="terminal ID")
    send.add_argument("--sign-key", metavar="FILE", help="TMS private key (Ed25519 PEM)")
    send.add_argument("--ttl", type=float, default=300.0, help="seconds until the command expires")
    send.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the result")
    send.add_argument("--id", dest="command_id", help="command ID (default: a new UUID)")
    send.add_argument(
        "name", metavar="COMMAND", help="reprint, diagnostics, logs, params, update, reboot"
    )
    send.add_argument("args", metavar="KEY=VALUE", nargs="*", help="command arguments")
    send.set_defaults(func=_send)

    fleet = tsub.add_parser("fleet", help="table of terminals: online, firmware, faults")
    add_broker_options(fleet, flag="--broker", required=True)
    fleet.add_argument("--wait", type=float, default=1.5, help="seconds to listen (default 1.5)")
    fleet.add_argument("--json", action="store_true", help="one JSON object per terminal")
    fleet.set_defaults(func=_fleet)

    broker = tsub.add_parser(
        "broker", help="run an MQTT broker on 127.0.0.1 for trying the agent (amqtt)"
    )
    broker.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    broker.set_defaults(func=_broker)

    keygen = tsub.add_parser("keygen", help="write a TMS Ed25519 key pair")
    keygen.add_argument("--out", type=Path, default=Path("."), help="directory (default: .)")
    keygen.set_defaults(func=_keygen)


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _emit(body: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# --- watch ----------------------------------------------------------------------------------
def _watch(args: argparse.Namespace) -> int:
    if args.count is not None and args.count < 1:
        return _fail("--count must be at least 1", EXIT_USAGE)
    settings = broker_settings(args)
    with contextlib.suppress(TimeoutError):
        asyncio.run(_watch_loop(args, settings))
    return EXIT_OK


async def _watch_loop(args: argparse.Namespace, settings: Any) -> None:
    from agent.console import Console
    from agent.topics import REPORT_KINDS, check_terminal_id

    if args.terminal:
        check_terminal_id(args.terminal)
    console = Console(
        settings,
        terminal_id=args.terminal,
        kinds=args.type or REPORT_KINDS,
        group=args.group,
        identifier=args.client_id,
    )

    def on_state(up: bool, reason: str) -> None:
        if up:
            print(f"watching {settings.url}", file=sys.stderr, flush=True)
        else:
            print(
                f"warning: broker {settings.url}: {reason}; reconnecting",
                file=sys.stderr,
                flush=True,
            )

    shown = 0
    async with asyncio.timeout(args.timeout):
        async for body in console.follow(persistent=bool(args.client_id), on_state=on_state):
            _emit(body)
            shown += 1
            if args.count and shown >= args.count:
                return


# --- send -----------------------------------------------------------------------------------
def _parse_args(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"argument {pair!r}: write KEY=VALUE, e.g. stan=000002")
        out[key] = value
    return out


def _send(args: argparse.Namespace) -> int:
    from agent.commands import CATALOG
    from agent.topics import check_terminal_id

    try:
        command_args = _parse_args(args.args)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if args.name not in CATALOG:
        return _fail(f"unknown command {args.name!r} (known: {', '.join(CATALOG)})", EXIT_USAGE)
    try:
        CATALOG[args.name].check_args(command_args)
    except ValueError as exc:
        return _fail(f"{args.name}: {exc}", EXIT_USAGE)
    if args.ttl <= 0 or args.timeout <= 0:
        return _fail("--ttl and --timeout must be positive", EXIT_USAGE)
    check_terminal_id(args.terminal)
    key = None
    if args.sign_key:
        from agent.signing import load_private_key

        key = load_private_key(args.sign_key)
    settings = broker_settings(args)
    return asyncio.run(_send_async(args, settings, command_args, key))


async def _send_async(
    args: argparse.Namespace, settings: Any, cargs: dict[str, str], key: Any
) -> int:
    import aiomqtt

    from agent.console import Console

    console = Console(settings, terminal_id=args.terminal, kinds=["result"])
    try:
        async with console.connected():
            sent = await console.send(
                args.terminal,
                args.name,
                cargs,
                ttl=args.ttl,
                sign_key=key,
                command_id=args.command_id,
            )
            result = await console.wait_result(sent["id"], args.timeout)
    except aiomqtt.MqttError as exc:
        return _fail(f"broker {settings.url}: {exc}", EXIT_UNREACHABLE)
    if result is None:
        _emit({"command_id": sent["id"], "name": args.name, "status": "timeout"})
        return _fail(
            f"no result from {args.terminal} within {args.timeout:g}s (the command stays queued "
            f"at the broker until it expires)",
            EXIT_UNREACHABLE,
        )
    _emit(result)
    return EXIT_OK if result.get("status") == "ok" else EXIT_REFUSED


# --- fleet ----------------------------------------------------------------------------------
def _fleet(args: argparse.Namespace) -> int:
    import aiomqtt

    settings = broker_settings(args)
    try:
        view = asyncio.run(_fleet_async(settings, args.wait))
    except aiomqtt.MqttError as exc:
        return _fail(f"broker {settings.url}: {exc}", EXIT_UNREACHABLE)
    rows = sorted(view.terminals.values(), key=lambda t: t.terminal_id)
    if args.json:
        for t in rows:
            _emit(
                {
                    "tid": t.terminal_id,
                    "online": t.online,
                    "model": t.model,
                    "firmware": t.firmware,
                    "open_faults": sorted(t.open_faults),
                    "last_heartbeat": t.last_heartbeat or None,
                    "outbox_depth": t.outbox_depth,
                }
            )
        return EXIT_OK
    print(
        f"{'TERMINAL':<12} {'ONLINE':<7} {'FIRMWARE':<10} {'LAST HEARTBEAT':<25} "
        f"{'OUTBOX':>6}  OPEN FAULTS"
    )
    for t in rows:
        outbox = "-" if t.outbox_depth is None else str(t.outbox_depth)
        print(
            f"{t.terminal_id:<12} {'yes' if t.online else 'no':<7} {t.firmware or '-':<10} "
            f"{t.last_heartbeat or '-':<25} {outbox:>6}  {', '.join(sorted(t.open_faults)) or '-'}"
        )
    print(f"{len(rows)} terminals, {sum(t.online for t in rows)} online")
    return EXIT_OK


async def _fleet_async(settings: Any, wait: float) -> Any:
    from agent.console import Console

    console = Console(settings, kinds=["status", "heartbeat"])
    async with console.connected():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                async for _ in console.reports():
                    pass
    return console.fleet


# --- broker -------------------------------------------------------------------------------
def _broker(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        return _fail("--port must be 0-65535", EXIT_USAGE)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_broker_async(args.port))
    return EXIT_OK


async def _broker_async(port: int) -> None:
    from agent.broker import EmbeddedBroker

    async with EmbeddedBroker(port=port) as broker:
        print(broker.url, flush=True)
        print(
            "MQTT broker (amqtt, 127.0.0.1 only, no persistence); Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        await asyncio.Event().wait()


# --- keygen ---------------------------------------------------------------------------------
def _keygen(args: argparse.Namespace) -> int:
    from agent.signing import generate_keypair

    private, public = args.out / "tms-key.pem", args.out / "tms-key.pub.pem"
    try:
        generate_keypair(private, public)
    except FileExistsError:
        return _fail(f"{private} exists; not overwriting a key", EXIT_USAGE)
    except OSError as exc:
        return _fail(f"{args.out}: {exc.strerror or exc}", EXIT_USAGE)
    print(f"private key (signs commands, keep it secret): {private}")
    print(f"public key (give to terminals: --tms-public-key): {public}")
    return EXIT_OK
