"""The ESC/POS printer adapter against the printer simulator, over TCP and a socat pty pair."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from terminal.core.devices import PrinterStatus
from terminal.core.errors import PrinterError
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
from terminal.core.receipts.text import layout_lines
from terminal.devices import open_printer
from terminal.devices.escpos_status import (
    StatusReplyError,
    decode_dle_eot,
    decode_gs_r1,
    encode_dle_eot,
    encode_gs_r1,
)
from terminal.devices.serial_link import Backoff
from terminal.devices.serial_printer import EscPosSerialPrinter
from terminal.devices.sim.devices import PrinterSim
from terminal.devices.sim.escpos_text import EscPosInterpreter
from terminal.devices.sim.transport import TcpEnd, UrlEnd

from .conftest import wait_until

FAST = Backoff(first=0.05, limit=0.2)


def receipt(duplicate: bool = False) -> Receipt:
    r = Receipt(
        merchant_name="Café Müller",
        merchant_id="POSEMU000000001",
        terminal_id="POSEMU01",
        kind=ReceiptKind.SALE,
        timestamp=datetime(2026, 12, 6, 22, 0, 0),
        amount_minor=1000,
        currency=Currency.lookup("978"),
        result=ReceiptResult(Outcome.APPROVED, "00"),
        copy=Copy.MERCHANT,
        masked_pan="476173******0010",
        entry_mode=EntryMode.SWIPE,
        stan="000001",
    )
    return r.as_duplicate(datetime(2026, 12, 6, 22, 5)) if duplicate else r


@dataclass
class Job:
    receipt: Receipt
    width: int = 42


class Bench:
    """A simulated printer served over TCP by a pump thread, like ``posemu devsim printer``."""

    def __init__(self, end, status: PrinterStatus | None = None) -> None:
        self.end = end
        self.shown: list[str] = []
        self.sim = PrinterSim(end, status=status or PrinterStatus(), say=lambda _t: None,
                              show=self.shown.append)  # fmt: skip
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while not self._stop.is_set():
            data = self.end.read(0.02)
            if data:
                self.sim.on_bytes(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.end.close()


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench(TcpEnd())
    yield b
    b.close()


def printer_for(url: str, events, **opts: str) -> EscPosSerialPrinter:
    query = "&".join(f"{k}={v}" for k, v in {"poll": "0.1", **opts}.items())
    return EscPosSerialPrinter(f"{url}?{query}", emit=events, backoff=FAST)


@pytest.mark.parametrize(
    "status",
    [
        PrinterStatus(),
        PrinterStatus(paper_out=True, paper_near_end=True),
        PrinterStatus(paper_near_end=True),
        PrinterStatus(cover_open=True),
        PrinterStatus(online=False, error=True),
    ],
)
def test_status_bytes_round_trip(status: PrinterStatus) -> None:
    decoded = PrinterStatus()
    for n in (1, 2, 3, 4):
        decoded = decode_dle_eot(n, encode_dle_eot(n, status), decoded)
    decoded = decode_gs_r1(encode_gs_r1(status), decoded)
    assert decoded == status
    with pytest.raises(StatusReplyError):
        decode_dle_eot(1, 0x10, PrinterStatus())  # fixed bit 1 missing: an echo, not status


def test_receipt_reaches_the_printer(bench: Bench, events) -> None:
    printer = printer_for(bench.end.label, events)
    try:
        printer.print_job(Job(receipt()))
        wait_until(lambda: len(bench.sim.receipts) == 1)
    finally:
        printer.stop()
    printed = bench.sim.receipts[0]
    assert printed.raw.startswith(b"\x1b@")
    assert printed.cut
    assert "476173******0010" in printed.text
    assert "Café Müller".upper() in printed.text.upper() or "Café Müller" in printed.text
    assert printer.state == "ready"
    # Line for line what the layout says: a printer left in double width after the merchant
    # name (once seen as letter-spaced text) would wrap every 42-column line in two.
    laid_out = [line.text.strip() for line in layout_lines(receipt(), 42)]
    assert [line.strip() for line in printed.lines[: len(laid_out)]] == laid_out
    assert all(not line.strip() for line in printed.lines[len(laid_out) :])  # the feed


def test_double_width_text_wraps_at_half_the_columns() -> None:
    """ESC ! 0x20: each character takes two columns, so a 42-column printer fits 21."""
    sim = EscPosInterpreter(columns=42, reply=lambda _b: None, status=lambda _n: 0x12,
                            gs_r=lambda _n: None)  # fmt: skip
    job = b"\x1b@\x1b! " + b"A" * 30 + b"\n\x1b!\x00" + b"B" * 30 + b"\n\x1dV\x01"
    [printed] = sim.feed(job)
    assert printed.lines == ["A" * 21, "A" * 9, "B" * 30]


def test_narrow_slip_is_centred_on_the_slip_not_the_paper() -> None:
    """A 32-column slip on a 42-column printer: the print area (GS L/GS W) is the slip's, so
    a centred line sits in the middle of 32 columns, as the layout means it."""
    sim = EscPosInterpreter(columns=42, reply=lambda _b: None, status=lambda _n: 0x12,
                            gs_r=lambda _n: None)  # fmt: skip
    [printed] = sim.feed(render_escpos(receipt(), columns=32))
    centred = [
        line.text for line in layout_lines(receipt(), 32)
        if line.text and line.align.value == "center" and not line.big
    ]  # fmt: skip
    assert centred
    for text in centred:
        assert " " * ((32 - len(text)) // 2) + text in printed.lines


def test_paper_out_before_and_mid_receipt_then_recovery(bench: Bench, events) -> None:
    printer = printer_for(bench.end.label, events)
    printer.start()
    try:
        bench.sim.command("paper", "out")
        with pytest.raises(PrinterError, match="paper out"):
            printer.print_job(Job(receipt()))
        events.wait_for("paper_out")
        assert bench.sim.receipts == []  # nothing was sent to a printer without paper
        bench.sim.command("paper", "in")
        events.wait_for("recovered")  # the poller noticed the refill
        bench.sim.command("paper-out-after", "5")
        with pytest.raises(PrinterError, match="paper out while printing"):
            printer.print_job(Job(receipt()))
        wait_until(lambda: len(bench.sim.receipts) == 1)
        assert bench.sim.receipts[0].lost_lines > 0
        bench.sim.command("paper", "in")
        events.wait_for("recovered", count=2)
        printer.print_job(Job(receipt(duplicate=True)))
        wait_until(lambda: len(bench.sim.receipts) == 2)
        assert "DUPLICATE" in bench.sim.receipts[1].text
    finally:
        printer.stop()


def test_cover_open_and_offline(bench: Bench, events) -> None:
    printer = printer_for(bench.end.label, events)
    try:
        bench.sim.command("cover", "open")
        with pytest.raises(PrinterError, match="cover open"):
            printer.print_job(Job(receipt()))
        bench.sim.command("cover", "closed")
        bench.sim.command("offline", "")
        with pytest.raises(PrinterError, match="offline"):
            printer.print_job(Job(receipt()))
        assert "cover_open" in events.conditions()
    finally:
        printer.stop()


def test_unplugged_printer_fails_the_copy_and_comes_back(events) -> None:
    end = TcpEnd()
    port = int(end.label.rsplit(":", 1)[1])
    bench = Bench(end)
    printer = printer_for(end.label, events)
    printer.start()
    try:
        printer.print_job(Job(receipt()))
        bench.close()  # the printer is switched off
        with pytest.raises(PrinterError, match="offline"):
            printer.print_job(Job(receipt()))
        events.wait_for("offline")
        bench = Bench(TcpEnd("127.0.0.1", port))
        events.wait_for("recovered")
        printer.print_job(Job(receipt()))
        wait_until(lambda: len(bench.sim.receipts) == 1)
    finally:
        printer.stop()
        bench.close()


def test_printer_over_socat_pty(socat_pair, events) -> None:
    bench = Bench(UrlEnd(str(socat_pair.b)))
    printer = printer_for(str(socat_pair.a), events, baudrate="115200")
    try:
        printer.print_job(Job(receipt()))
        wait_until(lambda: len(bench.sim.receipts) == 1)
        assert bench.sim.receipts[0].cut
    finally:
        printer.stop()
        bench.close()


def test_open_printer_picks_the_serial_adapter(events) -> None:
    printer = open_printer("socket://127.0.0.1:9?baudrate=9600&poll=0", publish=events)
    assert isinstance(printer, EscPosSerialPrinter)
    with pytest.raises(PrinterError, match="offline"):
        printer.print_job(Job(receipt()))  # nothing listens there: offline, not a traceback
    events.wait_for("offline")
