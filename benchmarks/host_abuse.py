"""The host simulator under abuse: idle connections at a low file limit, a sign-on flood.

``posemu host`` runs as a subprocess with its file limit lowered (RLIMIT_NOFILE, default 128,
as in issue 9). The figures:

1. a good terminal's sale (new connection, sign-on, MAC'd 0200) with nothing else going on:
   the baseline latency;
2. the same while ``--idle`` connections (default 200) are held open and never send a byte:
   the connections the host still holds, its memory (VmRSS) and the good sale's latency,
   as a ratio to the baseline and to the terminal's 5 s timeout (the limit from the issue);
3. ``--signons`` sign-ons, each with a new terminal ID (pipelined on a few connections): the
   host's memory before and after, against the bound ``--max-terminals`` puts on it.

Run: ``.venv/bin/python -m benchmarks.host_abuse [--nofile 128] [--idle 200] [--signons 20000]``
"""

from __future__ import annotations

import argparse
import itertools
import resource
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from iso8583 import get_spec
from iso8583.acquirer import Request, TxnKind, apply_mac, open_session_keys, profile_for
from iso8583.framing import StreamFramer

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 5.0  # the terminal's answer timeout: the limit a good sale must stay under
SPEC = get_spec("iso87ascii")
PROFILE = profile_for(SPEC)
FMT = SPEC.frame_format
PAN, EXPIRY = "4761739001010119", "3012"
_STANS = itertools.count(1)


def _start(nofile: int, max_terminals: int) -> tuple[subprocess.Popen[str], tuple[str, int]]:
    def limit() -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

    cmd = [sys.executable, "-m", "terminal.cli.main", "host", "--listen", "127.0.0.1:0"]
    cmd += ["--log-level", "warning", "--max-terminals", str(max_terminals)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        preexec_fn=limit,
    )  # fmt: skip
    line = proc.stdout.readline() if proc.stdout else ""
    host, _, rest = line.removeprefix("listening on ").partition(" ")[0].rpartition(":")
    return proc, (host, int(rest or 0))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


class _Terminal:
    def __init__(self, address: tuple[str, int], tid: str) -> None:
        self.sock = socket.create_connection(address, timeout=TIMEOUT)
        self.framer = StreamFramer(FMT)
        self.tid = tid
        self.keys = None

    def request(self, kind: TxnKind, **kw: object) -> Request:
        return Request(
            kind,
            stan=f"{next(_STANS) % 1_000_000:06d}",
            local_time=datetime.now().replace(microsecond=0),
            terminal_id=self.tid,
            merchant_id="MERCHANT0000001",
            **kw,  # type: ignore[arg-type]
        )

    def frame(self, req: Request) -> bytes:
        msg = PROFILE.request_to_message(req)
        if self.keys is not None and req.kind.financial:
            msg = apply_mac(msg, SPEC, self.keys.mac_key)
        return FMT.wrap(SPEC.codec.pack(msg))

    def replies(self, count: int) -> list[bytes]:
        out: list[bytes] = []
        while len(out) < count:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("host closed the connection")
            out += [f.payload for f in self.framer.feed(data)]
        return out

    def exchange(self, req: Request) -> str:
        self.sock.sendall(self.frame(req))
        reply = SPEC.codec.unpack(self.replies(1)[0])
        resp = PROFILE.response_from_message(reply, req.kind)
        if req.kind is TxnKind.SIGNON and resp.keys is not None:
            self.keys = open_session_keys(resp.keys)
        return resp.response_code

    def close(self) -> None:
        self.sock.close()


def _good_sale(address: tuple[str, int], tid: str) -> float:
    """Seconds for connect + sign-on + sale, as a terminal starting a transaction sees it."""
    started = time.perf_counter()
    terminal = _Terminal(address, tid)
    try:
        assert terminal.exchange(terminal.request(TxnKind.SIGNON)) == "00"
        sale = terminal.request(TxnKind.SALE, amount=1000, pan=PAN, expiry=EXPIRY, entry_mode="012")
        code = terminal.exchange(sale)
        assert code == "00", code
    finally:
        terminal.close()
    return time.perf_counter() - started


def _sales(address: tuple[str, int], n: int) -> list[float]:
    return [_good_sale(address, f"GOOD{i:04d}") for i in range(n)]


def _signon_flood(address: tuple[str, int], total: int, per_conn: int = 500) -> None:
    sent = 0
    while sent < total:
        terminal = _Terminal(address, "")
        batch = min(per_conn, total - sent)
        frames = []
        for i in range(batch):
            terminal.tid = f"F{sent + i:07d}"
            frames.append(terminal.frame(terminal.request(TxnKind.SIGNON)))
        terminal.sock.sendall(b"".join(frames))
        terminal.replies(batch)
        terminal.close()
        sent += batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nofile", type=int, default=128, help="host's RLIMIT_NOFILE")
    parser.add_argument("--idle", type=int, default=200, help="idle connections to hold open")
    parser.add_argument("--sales", type=int, default=20, help="good sales per phase")
    parser.add_argument("--signons", type=int, default=20000, help="sign-ons with new TIDs")
    parser.add_argument("--max-terminals", type=int, default=10000)
    args = parser.parse_args(argv)

    proc, address = _start(args.nofile, args.max_terminals)
    idle: list[socket.socket] = []
    try:
        pid = proc.pid
        base = _sales(address, args.sales)
        rss0, fds0 = _rss_mb(pid), _fds(pid)
        for _ in range(args.idle):
            idle.append(socket.create_connection(address, timeout=TIMEOUT))
        time.sleep(0.5)
        rss1, fds1 = _rss_mb(pid), _fds(pid)
        abused = _sales(address, args.sales)
        for sock in idle:
            sock.close()
        b50, a50, amax = statistics.median(base), statistics.median(abused), max(abused)
        print(
            f"host RLIMIT_NOFILE {args.nofile}; {args.idle} idle connections opened by the "
            f"client; host descriptors {fds0} -> {fds1} (connections held <= {fds1 - fds0 + 1})"
        )
        print(f"host memory (VmRSS) {rss0:.1f} MB -> {rss1:.1f} MB with the idle connections")
        print(
            f"good sale (connect + sign-on + sale): baseline p50 {b50 * 1000:.1f} ms; "
            f"under idle load p50 {a50 * 1000:.1f} ms, max {amax * 1000:.1f} ms "
            f"(x{a50 / b50:.2f} of baseline; max / {TIMEOUT:g} s timeout = {amax / TIMEOUT:.3f})"
        )
        before = _rss_mb(pid)
        started = time.perf_counter()
        _signon_flood(address, args.signons)
        took = time.perf_counter() - started
        after = _rss_mb(pid)
        _signon_flood(address, args.signons)  # again, new TIDs again: memory must stay flat
        again = _rss_mb(pid)
        print(
            f"{args.signons} sign-ons with distinct TIDs in {took:.1f} s: VmRSS {before:.1f} -> "
            f"{after:.1f} MB; {args.signons} more: {again:.1f} MB "
            f"(x{again / after:.2f}; keys kept for at most {args.max_terminals} terminals)"
        )
        ok = amax < TIMEOUT and proc.poll() is None
        print("PASS" if ok else "FAIL: a good sale took longer than the terminal's timeout")
        return 0 if ok else 1
    finally:
        for sock in idle:
            sock.close()
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
