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
import string
import sys
from pathlib import Path
from typing import Any

from iso8583 import Iso8583Error
from iso8583.acquirer.security import TEST_TMK
from iso8583.errors import CryptoError
from iso8583.host import HostEngine, HostServer, RulesError, default_rules, load_rules
from iso8583.host.engine import DEFAULT_MAX_TERMINALS
from iso8583.host.rules import HostError
from iso8583.host.server import DEFAULT_IDLE_TIMEOUT
from iso8583.host.state import HostStateStore
from iso8583.host.tls import TlsConfigError, server_tls_context
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
    p.add_argument(  # default None: main merges a top-level `posemu --spec S host`
        "--spec", help="dialect name or dialect file (default: iso87ascii)"
    )
    p.add_argument("--rules", help="rules file (.toml or .json); see docs/host.md")
    p.add_argument(
        "--tmk",
        help="terminal master key as 32 or 48 hex digits (default: the published test TMK)",
    )
    p.add_argument("--log-level", default="info", choices=_LOG_LEVELS, help="stderr log level")
    p.add_argument(
        "--state",
        metavar="FILE",
        help="SQLite file keeping ledger, batches, keys and RRNs across restarts "
        "(default: in memory)",
    )
    p.add_argument("--tls-cert", metavar="PEM", help="serve TLS with this certificate (chain)")
    p.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")
    p.add_argument(
        "--tls-client-ca",
        metavar="PEM",
        help="require client certificates issued by this CA (mutual TLS)",
    )
    p.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"close a connection that sends no complete frame for this long "
        f"(default {DEFAULT_IDLE_TIMEOUT:g})",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="connections served at once; beyond, the idlest is closed "
        "(default: from the file-descriptor limit)",
    )
    p.add_argument(
        "--max-terminals",
        type=int,
        default=DEFAULT_MAX_TERMINALS,
        metavar="N",
        help=f"terminals whose working keys are kept (default {DEFAULT_MAX_TERMINALS})",
    )
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
        spec = resolve_spec(args.spec or "iso87ascii")
        rules = load_rules(args.rules) if args.rules else default_rules()
    except (RulesError, Iso8583Error) as exc:
        return _error(str(exc))
    if args.tmk is not None and (
        len(args.tmk) not in (32, 48) or any(c not in string.hexdigits for c in args.tmk)
    ):  # never echo the value: it is key material
        return _error(
            f"--tmk: expected 32 or 48 hex digits (a TDES key), got {len(args.tmk)} characters"
        )
    try:
        tmk = Key.from_hex(args.tmk, KeyAlgorithm.TDES) if args.tmk else TEST_TMK
    except CryptoError as exc:  # the message never contains key material
        return _error(f"--tmk: {exc}")
    problem = _check_limits(args)
    if problem:
        return _error(problem)
    try:
        ssl_context = server_tls_context(args.tls_cert, args.tls_key, args.tls_client_ca)
    except TlsConfigError as exc:
        return _error(str(exc))
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    engine = HostEngine(spec, rules, tmk=tmk, max_terminals=args.max_terminals)
    if args.state:
        try:
            store = HostStateStore(Path(args.state), spec.name)
            engine.attach(store)
        except HostError as exc:
            return _error(f"--state: {exc}")
    options = {
        "ssl_context": ssl_context,
        "idle_timeout": args.idle_timeout,
        "max_connections": args.max_connections,
    }
    try:
        return asyncio.run(_serve(engine, host, port, options))
    except OSError as exc:
        print(f"error: cannot listen on {args.listen}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_RUNTIME


def _check_limits(args: argparse.Namespace) -> str | None:
    if not 0.1 <= args.idle_timeout <= 86_400:
        return f"--idle-timeout must be 0.1 to 86400 seconds, got {args.idle_timeout:g}"
    if args.max_connections is not None and not 1 <= args.max_connections <= 100_000:
        return f"--max-connections must be 1 to 100000, got {args.max_connections}"
    if not 1 <= args.max_terminals <= 10_000_000:
        return f"--max-terminals must be 1 to 10000000, got {args.max_terminals}"
    return None


async def _serve(engine: HostEngine, host: str, port: int, options: dict[str, Any]) -> int:
    server = HostServer(engine, **options)
    bound_host, bound_port = await server.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    tls = ", TLS" if options.get("ssl_context") is not None else ""
    print(f"listening on {shown}:{bound_port} (spec {engine.spec.name}{tls})", flush=True)
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
