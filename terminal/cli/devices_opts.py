"""``--reader``, ``--printer``, ``--scanner`` for the commands that run the terminal.

A command builds its :class:`AttachedDevices` from these options before it talks to the
host, so a bad URL is an error before any money moves; a device that is unplugged is not:
it goes offline and the command carries on without it (a receipt that cannot print is
recorded as failed in the journal and can be reprinted).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from terminal.config import TerminalConfig
from terminal.core.devices import PrinterError
from terminal.core.journal import PrintStatus, ReceiptCopyRecord
from terminal.core.reader_text import SwipeFailed
from terminal.core.receipts import Receipt
from terminal.devices.attached import AttachedDevices
from terminal.engine import CardInput, TxnResult

__all__ = [
    "AttachedDevices",
    "DevicePrint",
    "add_device_options",
    "open_devices",
    "print_receipt",
    "wait_for_card",
    "wait_for_code",
]

#: How long to wait for a swipe or a scan without --timeout.
DEFAULT_WAIT = 60.0
_URL_HELP = "pyserial URL (/dev/ttyUSB0, /dev/pts/N, socket://H:P, rfc2217://H:P, loop://)"


def add_device_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reader", metavar="URL", help=f"magnetic-stripe reader: {_URL_HELP}")
    p.add_argument("--printer", metavar="URL", help="ESC/POS printer: a pyserial URL, or file:PATH")
    p.add_argument("--scanner", metavar="URL", help=f"QR / barcode scanner: {_URL_HELP}")


def open_devices(args: argparse.Namespace) -> AttachedDevices:
    return AttachedDevices.from_urls(
        reader=getattr(args, "reader", None),
        printer=getattr(args, "printer", None),
        scanner=getattr(args, "scanner", None),
        emit=_report,
    )


def _report(event: Any) -> None:
    """Device events of a one-shot command: problems on stderr, the rest silent."""
    if event.condition in ("online",):
        return
    detail = f": {event.detail}" if event.detail else ""
    print(f"{event.role} {event.url}: {event.condition}{detail}", file=sys.stderr, flush=True)


def _wait(args: argparse.Namespace) -> float:
    return args.timeout if getattr(args, "timeout", None) else DEFAULT_WAIT


async def _until_online(device: Any) -> None:
    """Prompt only once the port is open: bytes sent before that are flushed by the open."""
    if not await asyncio.to_thread(device.wait_online, 3.0):
        reason = device.line.last_error or "not answering"
        print(f"{device.url} is offline ({reason}); waiting for it", file=sys.stderr, flush=True)


async def wait_for_card(args: argparse.Namespace, devices: AttachedDevices) -> CardInput:
    """The next good swipe on the reader (read errors are reported and waited past)."""
    reader = devices.reader
    await _until_online(reader)
    unsubscribe = reader.subscribe(
        lambda item: (
            print(f"reader: {item.reason}; swipe again", file=sys.stderr, flush=True)
            if isinstance(item, SwipeFailed)
            else None
        )
    )
    try:
        with reader.expect_swipe() as expectation:  # listening before the prompt
            print(f"swipe a card on {reader.url} ...", file=sys.stderr, flush=True)
            read = await asyncio.to_thread(expectation.wait, _wait(args))
    finally:
        unsubscribe()
    return CardInput.from_swipe(read.swipe, chip_failed=bool(getattr(args, "fallback", False)))


async def wait_for_code(args: argparse.Namespace, devices: AttachedDevices) -> str:
    scanner = devices.scanner
    await _until_online(scanner)
    with scanner.expect_code() as expectation:
        print(f"scan the customer's code on {scanner.url} ...", file=sys.stderr, flush=True)
        return await asyncio.to_thread(expectation.wait, _wait(args))


@dataclass(frozen=True)
class PrintJob:
    receipt: Receipt
    width: int
    copy: str = "merchant"
    duplicate: bool = False


@dataclass(frozen=True)
class DevicePrint:
    """What happened to the copy sent to the printer."""

    url: str
    journal_id: int
    copy: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def message(self) -> str:
        if self.ok:
            return f"{self.copy} receipt printed on {self.url}"
        return (
            f"{self.copy} receipt NOT printed ({self.error}); it is kept in the journal: "
            f"posemu journal reprint {self.journal_id}"
        )

    def as_json(self) -> dict[str, str]:
        status = PrintStatus.PRINTED if self.ok else PrintStatus.FAILED
        out = {"copy": self.copy, "status": status.value, "printer": self.url}
        if self.error:
            out["error"] = self.error
        return out


async def print_receipt(
    printer: Any, store: Any, result: TxnResult, config: TerminalConfig
) -> DevicePrint:
    """Print the merchant copy of ``result``: pending, then printed or failed, in the journal."""
    journal_id = result.journal_id
    assert journal_id is not None
    entry = store.journal.get(journal_id)
    receipt = Receipt.from_dict(entry.receipt)
    store.journal.set_copy_status(journal_id, ReceiptCopyRecord("merchant", PrintStatus.PENDING))
    job = PrintJob(receipt, config.receipt_width)
    try:
        await asyncio.to_thread(printer.print_job, job)
    except PrinterError as exc:
        record = ReceiptCopyRecord("merchant", PrintStatus.FAILED, error=exc.reason)
        store.journal.set_copy_status(journal_id, record)
        return DevicePrint(printer.url, journal_id, "merchant", exc.reason)
    record = ReceiptCopyRecord("merchant", PrintStatus.PRINTED, printed_at=datetime.now())
    store.journal.set_copy_status(journal_id, record)
    return DevicePrint(printer.url, journal_id, "merchant")
