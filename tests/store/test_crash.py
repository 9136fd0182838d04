"""Real processes: kill -9 in the middle of writes, and two writers drawing STANs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from terminal.store import TerminalStore
from tests.store._worker import crash_entry

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")


def worker(*args: object, stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store._worker", *map(str, args)],
        cwd=ROOT,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_and_kill(data_dir: Path, start: int, rng: random.Random) -> list[str]:
    """Start the writer, let it acknowledge a random number of writes, SIGKILL it mid-loop."""
    proc = worker("crash", data_dir, start)
    assert proc.stdout is not None
    lines = []
    wanted = rng.randint(1, 60)
    try:
        while len(lines) < wanted:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"writer died: {proc.stderr.read() if proc.stderr else ''}")
            lines.append(line)
        time.sleep(rng.uniform(0, 0.02))  # land anywhere inside the next transaction
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # A line the writer finished printing was printed after its commit: acknowledged too.
    lines += [line + "\n" for line in rest.split("\n")[:-1]]
    return [line for line in lines if line.endswith("\n")]


def test_kill_9_loses_no_acknowledged_write_and_leaves_no_half_row(tmp_path):
    rng = random.Random(8583)
    journal_seq: dict[int, int] = {}
    saf_seq: dict[int, tuple[int, int]] = {}
    for round_no in range(6):
        for line in run_and_kill(tmp_path, round_no * 100_000, rng):
            parts = line.split()
            if parts[0] == "J":
                journal_seq[int(parts[1])] = int(parts[2])
            else:
                saf_seq[int(parts[1])] = (int(parts[2]), int(parts[3]))
        with TerminalStore(tmp_path) as store:  # opens after the crash: recovery, quick_check
            for journal_id, seq in journal_seq.items():
                got = store.journal.get(journal_id)
                assert got.id == journal_id
                expected = crash_entry(seq)
                assert got.copies == expected.copies
                assert got.receipt == expected.receipt
                assert got.amount == seq
            pending = store.saf.pending()
            queued = {m.id: m for m in pending}
            for message_id, (journal_id, seq) in saf_seq.items():
                assert queued[message_id].journal_id == journal_id
                assert queued[message_id].request["amount"] == seq
            # every row present, acknowledged or not, is whole and consistent
            for message in pending:
                request = store.saf.request(message)
                owner = store.journal.get(message.journal_id)
                assert request.amount == owner.amount
                assert request.pan == "6222021234561236"
            for got in store.journal.batch_entries("000001"):
                assert replace(got, id=None, updated_at=None) == crash_entry(got.amount or 0)
            # FIFO: queue order is write order
            assert [m.id for m in pending] == sorted(m.id for m in pending)
            amounts = [m.request["amount"] for m in pending]
            assert amounts == sorted(amounts)
    assert len(journal_seq) >= 6
    assert saf_seq


def test_two_processes_never_draw_the_same_stan(tmp_path):
    TerminalStore(tmp_path).close()  # created once, so both open an existing database
    procs = [worker("stan", tmp_path, 200, stdin=subprocess.PIPE) for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    drawn = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        drawn.append(out.split())
    assert all(len(values) == 200 for values in drawn)
    everything = drawn[0] + drawn[1]
    assert len(set(everything)) == 400
    assert sorted(everything) == [f"{n:06d}" for n in range(1, 401)]
    for values in drawn:
        assert values == sorted(values)  # each process sees its own draws increase
