"""Bulk conversion end to end: ``posemu iso8583 encode|decode -`` vs a plain pyiso8583 script.

Both sides convert the same 20,000 lines (the codec benchmark's 0200 purchase on iso87ascii,
which is pyiso8583's ``default_ascii``) as separate processes, start-up included, in
alternating rounds; the median wall time of each is compared (CPU time, user + system, is
printed too: it is steadier on a shared machine). The peer script is
``benchmarks/pyiso_bulk.py``, run in pyiso8583's own venv (``benchmarks/_pyiso.py``). Each
command runs once untimed first, with bytecode caching allowed (``PYTHONDONTWRITEBYTECODE`` is
dropped for the children), so both start as installed packages do: from their ``.pyc`` files.

* encode: one JSON message per line -> hex; outputs are checked byte-identical.
* decode: hex -> one JSON message per line. ``--json --reveal`` is the same conversion as the
  peer's (every value in clear); the default ``--json`` also masks PAN, track, PIN block and
  EMV values, which the peer does not do, so that row is extra work shown for information.

Run: ``.venv/bin/python -m benchmarks.iso8583_bulk [--rounds 5] [-n 20000]``
Target (issue 7): at least 1.5x the peer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._pyiso import pyiso_python
from benchmarks.iso8583_codec import FIELDS, _pyiso_ascii
from iso8583 import Message, get_spec, pack
from iso8583.jsonio import message_to_json

PEER = Path(__file__).with_name("pyiso_bulk.py")
POSEMU = Path(sys.executable).with_name("posemu")


def _inputs(directory: Path, n: int) -> dict[str, Path]:
    spec = get_spec("iso87ascii")
    message = Message("0200", dict(FIELDS))
    _, peer_message = _pyiso_ascii()
    lines = {
        "hex": pack(message, spec).hex().upper(),
        "json": json.dumps(message_to_json(message, spec)),
        "peer_json": json.dumps(peer_message),
    }
    paths = {}
    for name, line in lines.items():
        paths[name] = directory / f"{name}.txt"
        paths[name].write_text((line + "\n") * n)
    return paths


_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(cmd: list[str], stdin: Path, stdout: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with stdin.open("rb") as src, stdout.open("wb") as dst:
        subprocess.run(cmd, stdin=src, stdout=dst, check=True, env=_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(rounds: int, n: int) -> list[dict[str, Any]]:
    peer_python = str(pyiso_python())
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        files = _inputs(d, n)
        jobs = {
            "encode": (
                [str(POSEMU), "iso8583", "encode", "--spec", "iso87ascii", "-"],
                files["json"],
                [peer_python, str(PEER), "encode", "default_ascii"],
                files["peer_json"],
            ),
            "decode --json --reveal": (
                [
                    str(POSEMU),
                    "iso8583",
                    "decode",
                    "--spec",
                    "iso87ascii",
                    "--json",
                    "--reveal",
                    "-",
                ],
                files["hex"],
                [peer_python, str(PEER), "decode", "default_ascii"],
                files["hex"],
            ),
            "decode --json (masked)": (
                [str(POSEMU), "iso8583", "decode", "--spec", "iso87ascii", "--json", "-"],
                files["hex"],
                [peer_python, str(PEER), "decode", "default_ascii"],
                files["hex"],
            ),
        }
        rows = []
        for label, (ours, ours_in, theirs, theirs_in) in jobs.items():
            times: dict[str, list[tuple[float, float]]] = {"ours": [], "theirs": []}
            _run(ours, ours_in, d / "ours.out")  # warm-up: .pyc files, page cache
            _run(theirs, theirs_in, d / "theirs.out")
            for _ in range(rounds):
                times["ours"].append(_run(ours, ours_in, d / "ours.out"))
                times["theirs"].append(_run(theirs, theirs_in, d / "theirs.out"))
            ours_lines = (d / "ours.out").read_bytes().splitlines()
            theirs_lines = (d / "theirs.out").read_bytes().splitlines()
            if len(ours_lines) != n or len(theirs_lines) != n:
                raise SystemExit(f"{label}: expected {n} output lines")
            if label == "encode" and ours_lines != theirs_lines:
                raise SystemExit("encode: posemu and pyiso8583 bytes differ; not the same work")
            row: dict[str, Any] = {"op": label, "messages": n}
            for side in ("ours", "theirs"):
                row[f"{side}_wall"] = statistics.median(w for w, _ in times[side])
                row[f"{side}_cpu"] = statistics.median(c for _, c in times[side])
            row["wall_ratio"] = row["theirs_wall"] / row["ours_wall"]
            row["cpu_ratio"] = row["theirs_cpu"] / row["ours_cpu"]
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-n", type=int, default=20000, help="messages per run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = run(args.rounds, args.n)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(
        f"{args.n} messages of the 0200 purchase (iso87ascii), processes end to end, "
        f"median of {args.rounds} alternating rounds; ratio = pyiso8583 time / posemu time"
    )
    print(
        f"{'posemu iso8583 ...':<24} {'posemu s':>9} {'pyiso s':>8} {'ratio':>6}"
        f" {'cpu posemu':>11} {'cpu pyiso':>10} {'ratio':>6}"
    )
    for r in rows:
        print(
            f"{r['op']:<24} {r['ours_wall']:>9.3f} {r['theirs_wall']:>8.3f} {r['wall_ratio']:>6.2f}"
            f" {r['ours_cpu']:>11.3f} {r['theirs_cpu']:>10.3f} {r['cpu_ratio']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
