"""The one receipt path: every copy printed by the terminal, the CLI or the agent goes here.

Why one service: a receipt that failed to print must never be lost, so the journal records
each copy as *pending* before the printer is asked, then *printed* or *failed* with the
printer's reason; a reprint is one more copy marked DUPLICATE. The service renders
nothing itself: it hands the receipt model to the :class:`~terminal.core.ports.ReceiptPrinter`
(a text pane, stdout, a file, an ESC/POS printer), which renders it its own way.

Every method blocks (store writes, the printer): call them off any UI event loop. Jobs are
serialised by a lock, so copies come out in the order they were asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from terminal.core.errors import PrinterError, TerminalError
from terminal.core.events import Event, ReceiptCopyFailed, ReceiptCopyPrinted
from terminal.core.journal import (
    JournalEntry,
    JournalQuery,
    PrintStatus,
    ReceiptCopyRecord,
)
from terminal.core.ports import JournalStore, PrintJob, ReceiptPrinter
from terminal.core.receipts import Copy, Receipt

__all__ = ["CopyOutcome", "NoReceiptError", "ReceiptService"]


class NoReceiptError(TerminalError):
    """The journal entry has no receipt (it never got an answer): nothing to print."""


@dataclass(frozen=True, slots=True)
class CopyOutcome:
    """What became of one copy: ``reason`` is empty when it printed."""

    journal_id: int
    copy: Copy
    duplicate: bool
    printed: bool
    reason: str = ""
    printer: str = ""


def _copy(value: Copy | str) -> Copy:
    if isinstance(value, Copy):
        return value
    try:
        return Copy(value.upper())
    except ValueError:
        raise TerminalError(f"copy {value!r}: expected merchant or customer") from None


def _name(copy: Copy) -> str:
    return copy.name.lower()


class ReceiptService:
    """Print, reprint and find unprinted copies; publishes what happened on ``publish``."""

    def __init__(
        self,
        journal: JournalStore,
        printer: ReceiptPrinter,
        *,
        publish: Callable[[Event], None] = lambda _e: None,
        width: int = 32,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.journal = journal
        self.printer = printer
        self.width = width
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()

    # --- the three operations -------------------------------------------------------------
    def print_copy(self, journal_id: int, copy: Copy | str = Copy.MERCHANT) -> CopyOutcome:
        """Print the original ``copy`` of an entry's receipt (again, if it failed before)."""
        wanted = _copy(copy)
        with self._lock:
            entry = self.journal.get(journal_id)
            receipt = self._receipt(entry, wanted)
            latest = [c for c in entry.copies if c.copy == _name(wanted) and not c.duplicate]
            pending = bool(latest) and latest[-1].status is PrintStatus.PENDING
            return self._run(journal_id, receipt, wanted, duplicate=False, pending=pending)

    def reprint(self, journal_id: int, copy: Copy | str = Copy.CUSTOMER) -> CopyOutcome:
        """Print a DUPLICATE of ``copy``: always a new copy record, whatever came before."""
        wanted = _copy(copy)
        with self._lock:
            receipt = self._receipt(self.journal.get(journal_id), wanted)
            reprinted_at = self._reprint_time(receipt)
            self.journal.add_copy(  # a new copy, pending before the printer runs
                journal_id, ReceiptCopyRecord(_name(wanted), PrintStatus.PENDING, duplicate=True)
            )
            duplicate = receipt.as_duplicate(reprinted_at)
            return self._run(journal_id, duplicate, wanted, duplicate=True, pending=True)

    def print_pending(self, journal_id: int) -> list[CopyOutcome]:
        """Print every original copy of an entry still pending (what the engine left for the
        printer when the transaction finished), merchant first."""
        entry = self.journal.get(journal_id)
        latest: dict[str, ReceiptCopyRecord] = {}
        for record in entry.copies:
            if not record.duplicate:
                latest[record.copy] = record
        order = [c for c in (Copy.MERCHANT, Copy.CUSTOMER) if _name(c) in latest]
        return [
            self.print_copy(journal_id, c)
            for c in order
            if latest[_name(c)].status is PrintStatus.PENDING
        ]

    def unprinted(self, limit: int = 100) -> list[JournalEntry]:
        """Entries with a receipt of which no copy ever printed: the lost receipts."""
        return self.journal.find(JournalQuery(unprinted_only=True, limit=limit))

    # --- internals ------------------------------------------------------------------------
    def _receipt(self, entry: JournalEntry, copy: Copy) -> Receipt:
        if entry.receipt is None:
            raise NoReceiptError(f"journal entry {entry.id} has no receipt")
        receipt = Receipt.from_dict(entry.receipt)
        return receipt if receipt.copy is copy else replace(receipt, copy=copy)

    def _reprint_time(self, receipt: Receipt) -> datetime:
        """Now, comparable with the slip's time (naive or aware alike), never before it."""
        now = self._clock()
        tz = receipt.timestamp.tzinfo
        if tz is not None and now.tzinfo is None:
            now = now.astimezone(tz)
        elif tz is None and now.tzinfo is not None:
            now = now.replace(tzinfo=None)
        return max(now.replace(microsecond=0), receipt.timestamp)

    def _run(
        self, journal_id: int, receipt: Receipt, copy: Copy, *, duplicate: bool, pending: bool
    ) -> CopyOutcome:
        """Print one copy; ``pending``: the journal already says so (the engine wrote it
        when the transaction finished), else it is written first."""
        name, printer = _name(copy), self.printer
        record = ReceiptCopyRecord(name, PrintStatus.PENDING, duplicate=duplicate)
        if not pending:
            self.journal.set_copy_status(journal_id, record)  # pending before printing
        job = PrintJob(journal_id, receipt, copy, duplicate=duplicate, width=self.width)
        try:
            printer.print_job(job)
        except PrinterError as exc:
            reason = exc.reason or str(exc)
        except Exception as exc:  # a printer driver bug must not lose the copy's status
            reason = f"printer fault: {exc}"
        else:
            done = replace(record, status=PrintStatus.PRINTED, printed_at=self._clock())
            self.journal.set_copy_status(journal_id, done)
            self._publish(ReceiptCopyPrinted(journal_id, name, duplicate, printer.name))
            return CopyOutcome(journal_id, copy, duplicate, True, printer=printer.name)
        failed = replace(record, status=PrintStatus.FAILED, error=reason[:200])
        self.journal.set_copy_status(journal_id, failed)
        self._publish(ReceiptCopyFailed(journal_id, name, duplicate, printer.name, reason))
        return CopyOutcome(journal_id, copy, duplicate, False, reason, printer.name)
