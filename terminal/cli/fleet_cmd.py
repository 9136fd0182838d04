"""``posemu fleet --count N --tms URL``: N emulated terminals' agents in one process.

For load-testing a TMS or a broker: each terminal has its own ID (``FLT00001``...), session,
outbox, heartbeats and command handling (``diagnostics``, ``logs``, ``reboot``); several
machines can each run one against a clustered broker (give each its own ``--id-prefix``).
Runs until Ctrl-C or ``--duration``; prints one status line to stderr every ``--every`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

from terminal.cli.tms_options import add_broker_options, broker_settings

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fleet",
        help="N emulated terminals with agents in one process (TMS/broker load test)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_broker_options(p, flag="--tms", required=True)
    p.add_argument("--count", type=int, required=True, help="number of terminals")
    p.add_argument("--id-prefix", default="FLT", help="terminal ID prefix (default FLT)")
    p.add_argument("--heartbeat", type=float, default=30.0, help="seconds between heartbeats")
    p.add_argument("--ramp", type=float, default=10.0, help="seconds to spread connects over")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--every", type=float, default=10.0, help="seconds between status lines")
    p.add_argument("--data-dir", type=Path, help="where the fleet's outbox lives (default: temp)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.count < 1 or args.count > 100_000:
        print("error: --count must be 1-100000", file=sys.stderr)
        return 2
    if args.heartbeat < 0.1 or args.ramp < 0 or args.every <= 0:
        print("error: --heartbeat >= 0.1, --ramp >= 0 and --every > 0 seconds", file=sys.stderr)
        return 2
    settings = broker_settings(args)
    with contextlib.ExitStack() as stack:
        data_dir = args.data_dir
        if data_dir is None:
            import tempfile

            data_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="posemu-fleet-"))
            )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(args, settings, data_dir))
    return 0


async def _run(args: argparse.Namespace, settings: object, data_dir: Path) -> None:
    from agent.fleet import Fleet
    from agent.service import AgentOptions

    fleet = Fleet(
        settings,  # type: ignore[arg-type]
        args.count,
        data_dir,
        id_prefix=args.id_prefix,
        options=AgentOptions(heartbeat_interval=args.heartbeat),
        ramp=args.ramp,
    )
    await fleet.start()
    started = time.monotonic()
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.duration):
                while True:
                    await asyncio.sleep(args.every)
                    errors = {a.link.last_error for a in fleet.agents if a.link.last_error}
                    problem = f"; broker: {sorted(errors)[0]}" if errors else ""
                    print(
                        f"fleet: {fleet.online()}/{args.count} online, outbox "
                        f"{fleet.outbox_depth()}, {time.monotonic() - started:.0f}s{problem}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        left = await fleet.stop()
        print(f"fleet: stopped; {left} reports left for the next run", file=sys.stderr)
