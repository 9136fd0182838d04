"""Serial devices: what the reader stream parser and the printer status checks cost.

1. Reader parser throughput: ``--swipes`` swipes (tracks 1 and 2, noise between them) fed
   to :class:`ReaderStream` in 64-byte reads, against the peer: :func:`parse_swipe` called
   on each swipe already cut out (what a parser that is handed whole swipes costs). The
   ratio is the price of streaming (framing, noise, any split).
2. Swipe latency over a real pseudo-terminal: from the device end writing a swipe to the
   adapter's listener receiving the card, p50 and max of ``--latency`` swipes, against the
   limit a cashier notices (100 ms). Single-line swipes with both tracks complete at once;
   a line with one track may be followed by another, so it waits for a 30 ms idle gap.
3. A receipt on a printer over a pseudo-terminal to the printer simulator: print_job (status
   before, ESC/POS bytes, status after) against the peer, the same bytes written without
   status checks; the ratio is the status round trips' cost per receipt.

Run: ``.venv/bin/python -m benchmarks.devices [--swipes 20000] [--latency 30] [--receipts 20]``
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import tty
from dataclasses import dataclass
from datetime import datetime

from terminal.core.devices import PrinterStatus
from terminal.core.reader_text import ReaderStream, SwipeRead
from terminal.core.receipts import (
    Copy,
    Currency,
    EntryMode,
    Outcome,
    Receipt,
    ReceiptKind,
    ReceiptResult,
    render_escpos,
)
from terminal.core.testcards import CARDS
from terminal.core.tracks import parse_swipe
from terminal.devices.serial_printer import EscPosSerialPrinter
from terminal.devices.serial_reader import SerialCardReader
from terminal.devices.sim.devices import PrinterSim
from terminal.devices.sim.transport import PtyEnd

LATENCY_LIMIT = 0.100  # seconds: a swipe that takes longer to register feels slow


def _parser(count: int) -> None:
    swipes = [c.track1() + c.track2() for c in CARDS]
    texts = [swipes[i % len(swipes)] for i in range(count)]
    wire = b"".join(b"\x00noise\r\n" + t.encode() + b"\r" for t in texts)
    start = time.perf_counter()
    for text in texts:
        parse_swipe(text)
    peer = time.perf_counter() - start
    stream, got = ReaderStream(), 0
    start = time.perf_counter()
    for i in range(0, len(wire), 64):
        got += sum(isinstance(o, SwipeRead) for o in stream.feed(wire[i : i + 64]))
    ours = time.perf_counter() - start
    assert got == count, got
    print(f"reader parser: {count} swipes  stream {count / ours:,.0f}/s  "
          f"parse_swipe on cut swipes {count / peer:,.0f}/s  "
          f"ratio {ours / peer:.2f}x the peer's time")  # fmt: skip


def _latency(count: int, swipe: bytes, what: str) -> None:
    end = PtyEnd()
    reader = SerialCardReader(end.label, emit=lambda _e: None)
    arrived: dict[int, float] = {}
    done = threading.Event()

    def listener(item: object) -> None:
        if isinstance(item, SwipeRead):
            arrived[len(arrived)] = time.perf_counter()
            if len(arrived) == count:
                done.set()

    reader.subscribe(listener)
    reader.start()
    try:
        assert reader.wait_online(5)
        sent: list[float] = []
        for i in range(count):
            sent.append(time.perf_counter())
            end.write(swipe)
            while len(arrived) <= i and time.perf_counter() - sent[-1] < 2:
                time.sleep(0.0005)
        done.wait(5)
    finally:
        reader.stop()
        end.close()
    lags = [arrived[i] - sent[i] for i in range(min(count, len(arrived)))]
    p50, worst = statistics.median(lags), max(lags)
    print(f"swipe latency over a pty, {what}: p50 {p50 * 1000:.1f} ms  max {worst * 1000:.1f} ms  "
          f"limit {LATENCY_LIMIT * 1000:.0f} ms  ratio p50 {p50 / LATENCY_LIMIT:.2f}")  # fmt: skip


@dataclass
class _Job:
    receipt: Receipt
    width: int = 42


def _printer(count: int) -> None:
    receipt = Receipt(
        merchant_name="POSEMU TEST MERCHANT", merchant_id="POSEMU000000001",
        terminal_id="POSEMU01", kind=ReceiptKind.SALE, timestamp=datetime(2026, 12, 6, 22),
        amount_minor=1000, currency=Currency.lookup("156"),
        result=ReceiptResult(Outcome.APPROVED, "00"), copy=Copy.MERCHANT,
        masked_pan="476173******0010", entry_mode=EntryMode.SWIPE,
    )  # fmt: skip
    end = PtyEnd()
    sim = PrinterSim(end, status=PrinterStatus(), say=lambda _t: None, show=lambda _t: None)
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            data = end.read(0.01)
            if data:
                sim.on_bytes(data)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    printer = EscPosSerialPrinter(f"{end.label}?poll=0", emit=lambda _e: None)
    data = render_escpos(receipt, columns=42)
    try:
        start = time.perf_counter()
        for _ in range(count):
            printer.print_job(_Job(receipt))
        ours = (time.perf_counter() - start) / count
        with open(end.label, "wb", buffering=0) as raw:  # the peer: bytes only, no status
            tty.setraw(raw.fileno())
            start = time.perf_counter()
            for _ in range(count):
                raw.write(data)
            peer = (time.perf_counter() - start) / count
        deadline = time.monotonic() + 10
        while len(sim.receipts) < 2 * count and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        printer.stop()
        stop.set()
        thread.join()
        end.close()
    print(f"receipt with status before/after: {ours * 1000:.1f} ms  bytes only: "
          f"{peer * 1000:.2f} ms  ({len(data)} bytes; {len(sim.receipts)} receipts rendered)  "
          f"ratio {ours / peer:.0f}x")  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.devices")
    parser.add_argument("--swipes", type=int, default=20000)
    parser.add_argument("--latency", type=int, default=30)
    parser.add_argument("--receipts", type=int, default=20)
    args = parser.parse_args(argv)
    _parser(args.swipes)
    card = CARDS[0]
    _latency(args.latency, (card.track1() + card.track2() + "\r").encode(), "tracks 1+2")
    _latency(args.latency, (card.track2() + "\r").encode(), "track 2 alone (idle gap)")
    _printer(args.receipts)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
