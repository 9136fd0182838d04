"""``posemu`` start-up: how long a command takes from launch to exit, against the 0.25 s
limit of the CLI issue, with the bare interpreter (``python -c pass``) as the floor.

Each command runs as a fresh process ``--runs`` times; the median wall time and the median
CPU time (user + system, steadier on a shared machine) are printed with their ratio to the
limit. Commands: ``--help``, ``iso8583 specs``, ``card parse``, ``qr parse``.

Run: ``.venv/bin/python -m benchmarks.cli_startup [--runs 9]``
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

LIMIT_S = 0.25
ROOT = Path(__file__).resolve().parent.parent
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("iso8583", "specs"),
    ("card", "parse", ";4761739001010010=28122011758900000000?"),
    ("qr", "parse", "000201010211"),
)


def _measure(argv: list[str], runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    floor_wall, floor_cpu = _measure([sys.executable, "-c", "pass"], args.runs)
    print(f"python -c pass (floor): wall {floor_wall * 1000:.0f} ms, cpu {floor_cpu * 1000:.0f} ms")
    for command in COMMANDS:
        wall, cpu = _measure([sys.executable, "-m", "terminal.cli.main", *command], args.runs)
        name = " ".join(command[:2])
        print(
            f"posemu {name:<14} wall {wall * 1000:4.0f} ms (limit ratio {wall / LIMIT_S:.2f}), "
            f"cpu {cpu * 1000:4.0f} ms (limit ratio {cpu / LIMIT_S:.2f}, "
            f"{cpu / max(floor_cpu, 1e-6):.1f}x the bare interpreter)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
