"""Authorisations per second and latency of the host simulator vs a bare framed echo server.

Both servers run as separate processes on loopback; the same load generator (asyncio, in this
process) drives 1, 10 and 200 concurrent terminal connections against each. Every terminal
signs on first; its MAC'd 0200 sales (x.00 amounts: approved) are packed before the clock
starts, so the timed loop only writes a frame and waits for the answer, and the server is the
bottleneck. Answers are checked after timing (host: response code 00 and a valid MAC).

Run: ``.venv/bin/python -m benchmarks.host_throughput [--requests 6000] [--spec iso87ascii]``
Target from the issue: at 200 connections, at least 40% of the echo ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from iso8583 import get_spec, pack, unpack
from iso8583.acquirer import (
    Request,
    TxnKind,
    apply_mac,
    open_session_keys,
    profile_for,
    verify_message_mac,
)
from iso8583.framing import StreamFramer
from iso8583.spec import Spec
from terminal.core.testcards import get_card

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunResult:
    connections: int
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000


def _start(cmd: list[str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on"):
        proc.kill()
        raise SystemExit(f"server did not start: {cmd}")
    port = int(line.split()[2].split(":")[-1])
    return proc, port


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


class Terminal:
    """One connection: signs on, then sends prebuilt sales one at a time."""

    def __init__(self, spec: Spec, tid: str, port: int) -> None:
        self.spec, self.tid, self.port = spec, tid, port
        self.profile = profile_for(spec)
        self.fmt = spec.frame_format
        self.framer = StreamFramer(self.fmt)
        self.frames: list[bytes] = []
        self.keys = None
        self.pending: list[bytes] = []

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def roundtrip(self, frame: bytes) -> bytes:
        self.writer.write(frame)
        while not self.pending:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            self.pending.extend(f.payload for f in self.framer.feed(data))
        return self.pending.pop(0)

    def request(self, kind: TxnKind, stan: int, **extra: object) -> Request:
        return Request(
            kind=kind,
            stan=f"{stan:06d}",
            local_time=datetime.now(),
            terminal_id=self.tid,
            merchant_id="POSEMU000000001",
            **extra,
        )

    async def signon(self) -> None:
        msg = self.profile.request_to_message(self.request(TxnKind.SIGNON, 1))
        reply = unpack(await self.roundtrip(self.fmt.wrap(pack(msg, self.spec))), self.spec)
        resp = self.profile.response_from_message(reply, TxnKind.SIGNON)
        assert resp.keys is not None, f"sign-on refused: {resp.response_code}"
        self.keys = open_session_keys(resp.keys)

    def sale_frames(self, count: int, first_stan: int) -> list[bytes]:
        card = get_card("visa-approve")
        track2 = card.track2_data().for_iso8583()
        out = []
        for i in range(count):
            req = self.request(
                TxnKind.SALE,
                first_stan + i,
                amount=1000 + 100 * (i % 50),
                track2=track2,
                entry_mode="902",
            )
            msg = apply_mac(self.profile.request_to_message(req), self.spec, self.keys.mac_key)
            out.append(self.fmt.wrap(pack(msg, self.spec)))
        return out


async def _load(
    spec: Spec,
    port: int,
    connections: int,
    total: int,
    *,
    iso: bool,
    prebuilt: dict[int, list[bytes]] | None = None,
) -> RunResult:
    # Terminal IDs differ per level so that STANs never repeat for one terminal.
    terminals = [Terminal(spec, f"L{connections:03d}{i:04d}", port) for i in range(connections)]
    await asyncio.gather(*(t.connect() for t in terminals))
    per = max(1, total // connections)
    if iso:
        await asyncio.gather(*(t.signon() for t in terminals))
        frames = {i: t.sale_frames(per, 2) for i, t in enumerate(terminals)}
    else:
        assert prebuilt is not None
        frames = prebuilt
    latencies: list[float] = []
    replies: list[bytes] = []
    last: dict[int, bytes] = {}  # each terminal's last answer, for its MAC check

    async def drive(i: int, t: Terminal) -> None:
        for frame in frames[i]:
            start = time.perf_counter()
            reply = await t.roundtrip(frame)
            latencies.append(time.perf_counter() - start)
            replies.append(reply)
        last[i] = reply

    start = time.perf_counter()
    await asyncio.gather(*(drive(i, t) for i, t in enumerate(terminals)))
    seconds = time.perf_counter() - start
    if iso:
        for t in terminals:
            t.writer.close()
        bad = 0
        for raw in replies:
            msg = unpack(raw, spec)
            if msg.fields.get(39) != "00":
                bad += 1
        if bad:
            codes = sorted({unpack(r, spec).fields.get(39) for r in replies} - {"00"})
            raise SystemExit(f"{bad} of {len(replies)} sales were not approved: {codes}")
        # One MAC check per terminal (with that terminal's own key) proves the answers are
        # real host answers; replies from different terminals complete in any order.
        for i, reply in last.items():
            verify_message_mac(unpack(reply, spec), spec, terminals[i].keys.mac_key)
    for t in terminals:
        t.writer.close()
    return RunResult(connections, len(replies), seconds, latencies)


async def _bench(spec_name: str, total: int, levels: list[int]) -> list[dict[str, object]]:
    spec = get_spec(spec_name)
    python = sys.executable
    host, host_port = _start(
        [
            python,
            "-m",
            "terminal.cli.main",
            "host",
            "--listen",
            "127.0.0.1:0",
            "--spec",
            spec_name,
            "--log-level",
            "warning",
        ]
    )
    echo, echo_port = _start([python, "-m", "benchmarks.echo_server"])
    rows = []
    try:
        for n in levels:
            host_run = await _load(spec, host_port, n, total, iso=True)
            # The echo server gets frames of the same shape and size: real MAC'd sales.
            sample = Terminal(spec, "E0000000", host_port)
            await sample.connect()
            await sample.signon()
            per = max(1, total // n)
            one = sample.sale_frames(per, 500000)
            sample.writer.close()
            echo_run = await _load(
                spec, echo_port, n, total, iso=False, prebuilt={i: one for i in range(n)}
            )
            rows.append(
                {
                    "connections": n,
                    "host_rate": host_run.rate,
                    "host_p50_ms": host_run.pct(0.5),
                    "host_p99_ms": host_run.pct(0.99),
                    "echo_rate": echo_run.rate,
                    "echo_p50_ms": echo_run.pct(0.5),
                    "echo_p99_ms": echo_run.pct(0.99),
                    "ratio": host_run.rate / echo_run.rate,
                }
            )
    finally:
        _stop(host)
        _stop(echo)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000, help="sales per level")
    parser.add_argument("--spec", default="iso87ascii")
    parser.add_argument("--levels", default="1,10,200")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    rows = asyncio.run(_bench(args.spec, args.requests, [int(x) for x in args.levels.split(",")]))
    if args.json:
        print(json.dumps(rows))
        return 0
    print(
        f"host simulator ({args.spec}) vs framed echo server, {args.requests} requests per "
        "level, loopback, separate processes"
    )
    print(
        f"{'conns':>5} {'host auth/s':>11} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'echo msg/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}"
    )
    for r in rows:
        print(
            f"{r['connections']:>5} {r['host_rate']:>11,.0f} {r['host_p50_ms']:>7.2f} "
            f"{r['host_p99_ms']:>7.2f} {r['echo_rate']:>10,.0f} {r['echo_p50_ms']:>7.2f} "
            f"{r['echo_p99_ms']:>7.2f} {r['ratio']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
