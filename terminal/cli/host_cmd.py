"""``posemu host``: run the reference acquirer host simulator on TCP.

Prints one ``listening on HOST:PORT (spec NAME)`` line on stdout when ready (the real port when
asked for port 0, so scripts and tests can wait for it), then one masked line per message on
stderr. SIGINT and SIGTERM stop it cleanly: no new connections, requests already received
are answered, exit status 0. Configuration errors are one ``error:`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from iso8583 import Iso8583Error
from iso8583.acquirer.security import TEST_TMK
from iso8583.errors import CryptoError
from iso8583.host import HostEngine, HostServer, RulesError, default_rules, load_rules
from iso8583.keys import Key, KeyAlgorithm
from terminal.cli.iso8583_cmds import resolve_spec

__all__ = ["add_parser", "cmd_host", "main", "parse_listen"]

EXIT_CONFIG = 2
EXIT_RUNTIME = 1
_LOG_LEVELS = ("debug", "info", "warning", "error")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); raises ValueError with a usable message."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen must be HOST:PORT with a port 0-65535, got {text!r}")
    return host.strip("[]"), int(port)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("host", help="run the acquirer host simulator")
    _add_arguments(p)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--listen", default="127.0.0.1:8583", help="HOST:PORT to listen on (port 0: any free)"
    )
    p.add_argument("--spec", default="iso87ascii", help="dialect name or dialect file")
    p.add_argument("--rules", help="rules file (.toml or .json); see docs/host.md")
    p.add_argument(
        "--tmk",
        help="terminal master key as 32 or 48 hex digits (default: the published test TMK)",
    )
    p.add_argument("--log-level", default="info", choices=_LOG_LEVELS, help="stderr log level")
    p.set_defaults(func=cmd_host)


def _error(text: str) -> int:
    print(f"error: {text}", file=sys.stderr, flush=True)
    return EXIT_CONFIG


def cmd_host(args: argparse.Namespace) -> int:
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        return _error(str(exc))
    try:
        spec = resolve_spec(args.spec)
        rules = load_rules(args.rules) if args.rules else default_rules()
    except (RulesError, Iso8583Error) as exc:
        return _error(str(exc))
    try:
        tmk = Key.from_hex(args.tmk, KeyAlgorithm.TDES) if args.tmk else TEST_TMK
    except CryptoError as exc:  # the message never contains key material
        return _error(f"--tmk: {exc}")
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    engine = HostEngine(spec, rules, tmk=tmk)
    try:
        return asyncio.run(_serve(engine, host, port))
    except OSError as exc:
        print(f"error: cannot listen on {args.listen}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_RUNTIME


async def _serve(engine: HostEngine, host: str, port: int) -> int:
    server = HostServer(engine)
    bound_host, bound_port = await server.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"listening on {shown}:{bound_port} (spec {engine.spec.name})", flush=True)
    try:
        await stop.wait()
    finally:
        logging.getLogger("posemu.host").info("shutting down")
        await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m terminal.cli.host_cmd``), same options as ``posemu host``."""
    parser = argparse.ArgumentParser(prog="posemu host", description="acquirer host simulator")
    _add_arguments(parser)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
