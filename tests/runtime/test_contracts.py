"""One set of journal, feed and receipt-service tests, run against every store adapter:
the SQLite store and the in-memory one must be interchangeable behind the ports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from iso8583.acquirer.model import Request, TxnKind
from terminal.core.errors import NotFoundError, PrinterError
from terminal.core.events import EventBus, ReceiptCopyFailed, ReceiptCopyPrinted
from terminal.core.journal import JournalQuery, PrintStatus, ReceiptCopyRecord, TxnState
from terminal.core.ports import JournalFeed, PrintJob, TerminalStorage
from terminal.core.receipting import NoReceiptError, ReceiptService
from terminal.core.receipts import Copy
from terminal.devices import FilePrinter, PanePrinter, StreamPrinter
from terminal.store import TerminalStore
from terminal.store.memory import MemoryStore
from tests.store.helpers import FULL_PAN, SOLD_AT, entry, receipt_dict


@pytest.fixture(params=["sqlite", "memory"])
def storage(request, tmp_path: Path) -> Iterator[TerminalStorage]:
    store = TerminalStore(tmp_path / "t") if request.param == "sqlite" else MemoryStore()
    try:
        yield store
    finally:
        store.close()


class FlakyPrinter:
    """Out of paper until refilled; remembers what it printed."""

    name = "flaky"

    def __init__(self) -> None:
        self.paper = False
        self.jobs: list[PrintJob] = []

    def print_job(self, job: PrintJob) -> None:
        if not self.paper:
            raise PrinterError("paper out", printer=self.name)
        self.jobs.append(job)


# --- journal ------------------------------------------------------------------------------
def test_ids_grow_and_unknown_ids_are_not_found(storage):
    journal = storage.journal
    first = journal.add(entry())
    second = journal.add(entry(stan="000002"))
    assert second > first
    assert journal.get(first).stan == "000001"
    with pytest.raises(NotFoundError):
        journal.get(second + 100)
    with pytest.raises(NotFoundError):
        journal.set_copy_status(second + 100, ReceiptCopyRecord("merchant", PrintStatus.PENDING))


def test_find_filters_like_a_merchant_looks_for_a_lost_receipt(storage):
    journal = storage.journal
    a = journal.add(entry(amount=1000, stan="000001", receipt=receipt_dict(1000)))
    b = journal.add(
        entry(amount=2500, stan="000002", rrn="332709000999", local_time=SOLD_AT + timedelta(1))
    )
    c = journal.add(entry(amount=2500, stan="000003", state=TxnState.DECLINED, receipt=None))
    journal.set_copy_status(a, ReceiptCopyRecord("merchant", PrintStatus.PRINTED))
    ids = lambda q: [e.id for e in journal.find(q)]  # noqa: E731
    assert ids(JournalQuery()) == [b, c, a]  # newest (slip time) first, then newest id
    assert ids(JournalQuery(amount=2500)) == [b, c]
    assert ids(JournalQuery(stan="000003")) == [c]
    assert ids(JournalQuery(rrn="332709000999")) == [b]
    assert ids(JournalQuery(states=(TxnState.DECLINED,))) == [c]
    assert ids(JournalQuery(unprinted_only=True)) == [b]  # c has no receipt, a printed
    assert ids(JournalQuery(since=SOLD_AT + timedelta(hours=1))) == [b]
    assert ids(JournalQuery(until=SOLD_AT)) == [c, a]
    assert ids(JournalQuery(limit=1)) == [b]


def test_a_printed_copy_is_history(storage):
    journal = storage.journal
    jid = journal.add(entry())
    journal.set_copy_status(jid, ReceiptCopyRecord("merchant", PrintStatus.PENDING))
    journal.set_copy_status(jid, ReceiptCopyRecord("merchant", PrintStatus.FAILED, error="x"))
    assert [c.status for c in journal.get(jid).copies] == [PrintStatus.FAILED]
    journal.set_copy_status(jid, ReceiptCopyRecord("merchant", PrintStatus.PRINTED))
    journal.set_copy_status(jid, ReceiptCopyRecord("merchant", PrintStatus.PENDING))
    statuses = [c.status for c in journal.get(jid).copies]
    assert statuses == [PrintStatus.PRINTED, PrintStatus.PENDING]


def test_card_pan_is_kept_for_a_void_but_never_in_an_entry(storage):
    jid = storage.journal.add(entry(), pan=FULL_PAN)
    assert storage.journal.card_pan(jid) == FULL_PAN
    assert FULL_PAN not in repr(storage.journal.get(jid))


def test_card_pan_goes_when_no_void_or_refund_can_follow(storage):
    declined = storage.journal.add(entry(state=TxnState.SENT), pan=FULL_PAN)
    storage.journal.update(declined, state=TxnState.DECLINED)
    balance = storage.journal.add(entry(kind=TxnKind.BALANCE, state=TxnState.SENT), pan=FULL_PAN)
    assert storage.journal.card_pan(declined) is None
    assert storage.journal.card_pan(balance) is None


def test_a_cancelled_reversal_leaves_the_queue_unsent(storage):
    jid = storage.journal.add(entry(state=TxnState.CREATED))
    reversal = Request(TxnKind.REVERSAL, "000001", SOLD_AT, "10062345", "898310058120001", 1234)
    message = storage.saf.push_request(jid, reversal)
    storage.saf.cancel(message, "the request never left the terminal")
    assert storage.saf.pending() == []


# --- the feed -----------------------------------------------------------------------------
def test_changes_since_follows_states_and_print_status(storage):
    feed: JournalFeed = storage.journal
    assert isinstance(feed, JournalFeed)
    assert feed.changes_since(0) == ([], 0)
    a = storage.journal.add(entry())
    b = storage.journal.add(entry(stan="000002"))
    changed, cursor = feed.changes_since(0)
    assert [e.id for e in changed] == [a, b]
    assert feed.changes_since(cursor) == ([], cursor)

    storage.journal.update(a, state=TxnState.REVERSED)
    storage.journal.set_copy_status(b, ReceiptCopyRecord("merchant", PrintStatus.PRINTED))
    storage.journal.set_copy_status(b, ReceiptCopyRecord("customer", PrintStatus.FAILED))
    changed, cursor2 = feed.changes_since(cursor)
    assert [e.id for e in changed] == [a, b]  # b once, in its latest form
    assert changed[0].state is TxnState.REVERSED
    assert {c.copy for c in changed[1].copies} == {"merchant", "customer"}
    assert cursor2 > cursor

    page, next_cursor = feed.changes_since(0, limit=1)
    assert len(page) == 1
    assert next_cursor > 0


def test_changes_since_refuses_a_bad_cursor(storage):
    from terminal.core.errors import TerminalError

    with pytest.raises(TerminalError):
        storage.journal.changes_since(-1)


# --- the receipt service ------------------------------------------------------------------
def test_pending_before_printing_then_failed_with_reason_then_printed(storage):
    bus = EventBus()
    events = bus.subscribe("test")
    printer = FlakyPrinter()
    seen: list[list[PrintStatus]] = []
    journal = storage.journal
    original = printer.print_job

    def watching(job: PrintJob) -> None:  # what the journal says while the printer runs
        seen.append([c.status for c in journal.get(job.journal_id).copies])
        original(job)

    printer.print_job = watching  # type: ignore[method-assign]
    service = ReceiptService(journal, printer, publish=bus.publish)
    jid = journal.add(entry())

    failed = service.print_copy(jid, Copy.MERCHANT)
    assert (failed.printed, failed.reason) == (False, "paper out")
    (copy,) = journal.get(jid).copies
    assert (copy.status, copy.error) == (PrintStatus.FAILED, "paper out")
    assert [e.id for e in service.unprinted()] == [jid]

    printer.paper = True
    assert service.print_copy(jid, "merchant").printed
    assert seen == [[PrintStatus.PENDING], [PrintStatus.PENDING]]
    (copy,) = journal.get(jid).copies
    assert copy.status is PrintStatus.PRINTED
    assert copy.printed_at is not None
    assert service.unprinted() == []
    assert printer.jobs[0].receipt.copy is Copy.MERCHANT
    assert not printer.jobs[0].duplicate

    kinds = [type(d.event) for d in events.drain()]
    assert kinds == [ReceiptCopyFailed, ReceiptCopyPrinted]


def test_reprint_is_a_new_duplicate_copy(storage):
    printer = FlakyPrinter()
    printer.paper = True
    service = ReceiptService(storage.journal, printer)
    jid = storage.journal.add(entry())
    service.print_copy(jid, "merchant")
    outcome = service.reprint(jid, "customer")
    assert outcome.printed
    assert outcome.duplicate
    job = printer.jobs[-1]
    assert job.receipt.duplicate
    assert job.receipt.copy is Copy.CUSTOMER
    assert job.receipt.reprinted_at is not None
    assert job.receipt.reprinted_at >= job.receipt.timestamp
    copies = storage.journal.get(jid).copies
    assert [(c.copy, c.duplicate, c.status) for c in copies] == [
        ("merchant", False, PrintStatus.PRINTED),
        ("customer", True, PrintStatus.PRINTED),
    ]
    service.reprint(jid, "customer")
    assert len(storage.journal.get(jid).copies) == 3  # every reprint is one more copy


def test_print_pending_prints_what_the_engine_left(storage):
    printer = FlakyPrinter()
    printer.paper = True
    service = ReceiptService(storage.journal, printer)
    jid = storage.journal.add(entry())
    for name in ("merchant", "customer"):
        storage.journal.set_copy_status(jid, ReceiptCopyRecord(name, PrintStatus.PENDING))
    outcomes = service.print_pending(jid)
    assert [(o.copy, o.printed) for o in outcomes] == [(Copy.MERCHANT, True), (Copy.CUSTOMER, True)]
    assert service.print_pending(jid) == []  # nothing left pending


def test_no_receipt_no_copy(storage):
    service = ReceiptService(storage.journal, FlakyPrinter())
    jid = storage.journal.add(entry(receipt=None, state=TxnState.FAILED))
    with pytest.raises(NoReceiptError):
        service.print_copy(jid)
    assert storage.journal.get(jid).copies == ()


# --- the emulated printers ----------------------------------------------------------------
def test_emulated_printers_render_the_same_model(storage, tmp_path: Path):
    jid = storage.journal.add(entry())
    out = io.StringIO()
    ReceiptService(storage.journal, StreamPrinter(out)).print_copy(jid)
    assert "MERCHANT COPY" in out.getvalue()
    raw = tmp_path / "printer.bin"
    ReceiptService(storage.journal, FilePrinter(raw)).reprint(jid, "merchant")
    data = raw.read_bytes()
    assert data.startswith(b"\x1b@")  # ESC @: an ESC/POS job
    assert b"DUPLICATE" in data
    pane_slips: list[str] = []
    pane = PanePrinter(lambda _job, text: pane_slips.append(text))
    pane.set_paper(False)
    assert not ReceiptService(storage.journal, pane).print_copy(jid, "customer").printed
    pane.set_paper(True)
    assert ReceiptService(storage.journal, pane).print_copy(jid, "customer").printed
    assert "CUSTOMER COPY" in pane_slips[0]


def test_file_printer_that_cannot_write_fails_the_copy(storage, tmp_path: Path):
    jid = storage.journal.add(entry())
    printer = FilePrinter(tmp_path / "missing-dir" / "out.bin")
    outcome = ReceiptService(storage.journal, printer).print_copy(jid)
    assert not outcome.printed
    assert "cannot write" in outcome.reason
    assert storage.journal.get(jid).copies[0].status is PrintStatus.FAILED
