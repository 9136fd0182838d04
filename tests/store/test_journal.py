"""SqliteJournal: round trips, updates, receipt copies, queries and refusals."""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iso8583.acquirer.model import TxnKind
from terminal.core.cards import luhn_check_digit, luhn_valid
from terminal.core.journal import (
    JournalEntry,
    JournalQuery,
    PrintStatus,
    ReceiptCopyRecord,
    TxnState,
    batch_totals,
)
from terminal.core.ports import JournalStore
from terminal.store import (
    InvalidRecordError,
    RecordNotFoundError,
    SensitiveDataError,
    SqliteJournal,
    StoreError,
    TerminalStore,
)
from tests.store.helpers import FULL_PAN, MASKED_PAN, TRACK2, entry, printed, receipt_dict


@pytest.fixture
def store(tmp_path):
    with TerminalStore(tmp_path) as opened:
        yield opened


def same(a: JournalEntry, b: JournalEntry) -> bool:
    return replace(a, id=None, updated_at=None) == replace(b, id=None, updated_at=None)


def test_is_a_journal_store(store):
    journal: JournalStore = store.journal
    assert isinstance(journal, SqliteJournal)


def test_add_get_round_trip(store):
    original = entry(copies=(printed(), printed("customer")))
    journal_id = store.journal.add(original)
    got = store.journal.get(journal_id)
    assert got.id == journal_id
    assert got.updated_at is not None
    assert same(got, original)


def test_ids_grow_and_are_assigned_by_the_store(store):
    first = store.journal.add(entry())
    second = store.journal.add(entry())
    assert second > first
    with pytest.raises(InvalidRecordError, match="id"):
        store.journal.add(entry(id=5))


def test_get_unknown_id_names_it(store):
    with pytest.raises(RecordNotFoundError) as caught:
        store.journal.get(404)
    assert "journal entry 404" in str(caught.value)
    assert str(store.path) in str(caught.value)


def test_update_changes_fields_and_stamps(store):
    journal_id = store.journal.add(entry(state=TxnState.SENT, auth_code="", rrn=""))
    before = store.journal.get(journal_id)
    after = store.journal.update(
        journal_id, state=TxnState.APPROVED, auth_code="XY1234", rrn="000000000042"
    )
    assert after.state is TxnState.APPROVED
    assert (after.auth_code, after.rrn) == ("XY1234", "000000000042")
    assert after.updated_at >= before.updated_at
    assert store.journal.get(journal_id) == after


def test_update_accepts_state_strings_and_rejects_unknown_fields(store):
    journal_id = store.journal.add(entry())
    assert store.journal.update(journal_id, state="voided").state is TxnState.VOIDED
    with pytest.raises(InvalidRecordError, match="colour"):
        store.journal.update(journal_id, colour="red")
    with pytest.raises(InvalidRecordError, match="set_copy_status"):
        store.journal.update(journal_id, copies=())
    with pytest.raises(InvalidRecordError, match="state"):
        store.journal.update(journal_id, state="lost")
    with pytest.raises(RecordNotFoundError):
        store.journal.update(999, state=TxnState.VOIDED)


def test_original_id_must_exist(store):
    sale = store.journal.add(entry())
    void = store.journal.add(entry(kind=TxnKind.VOID, original_id=sale))
    assert store.journal.get(void).original_id == sale
    with pytest.raises(InvalidRecordError):
        store.journal.add(entry(kind=TxnKind.VOID, original_id=sale + 100))


def test_copy_status_lifecycle(store):
    journal_id = store.journal.add(entry())
    assert store.journal.get(journal_id).never_printed
    pending = ReceiptCopyRecord(copy="merchant", status=PrintStatus.PENDING)
    store.journal.set_copy_status(journal_id, pending)
    store.journal.set_copy_status(
        journal_id, replace(pending, status=PrintStatus.FAILED, error="paper out")
    )
    copies = store.journal.get(journal_id).copies
    assert copies == (replace(pending, status=PrintStatus.FAILED, error="paper out"),)
    store.journal.set_copy_status(journal_id, printed())
    got = store.journal.get(journal_id)
    assert got.copies == (printed(),)  # the failed attempt became the printed copy
    assert not got.never_printed
    store.journal.set_copy_status(journal_id, printed())  # printed again: a new record
    store.journal.add_copy(journal_id, printed("customer", duplicate=True))
    copies = store.journal.get(journal_id).copies
    assert copies == (printed(), printed(), printed("customer", duplicate=True))


def test_copy_validation(store):
    journal_id = store.journal.add(entry())
    with pytest.raises(InvalidRecordError, match="copy"):
        store.journal.set_copy_status(journal_id, replace(printed(), copy="cashier"))
    with pytest.raises(InvalidRecordError, match="status"):
        store.journal.set_copy_status(journal_id, replace(printed(), status="burnt"))
    with pytest.raises(RecordNotFoundError):
        store.journal.set_copy_status(journal_id + 1, printed())
    with pytest.raises(SensitiveDataError):
        store.journal.set_copy_status(journal_id, replace(printed(), error=f"bad {FULL_PAN}"))


def test_batch_entries_feed_settlement(store):
    store.journal.add(entry(amount=1000))
    store.journal.add(entry(amount=250, kind=TxnKind.REFUND))
    store.journal.add(entry(amount=99, state=TxnState.DECLINED))
    store.journal.add(entry(amount=500, batch="000002"))
    entries = store.journal.batch_entries("000001")
    assert [e.amount for e in entries] == [1000, 250, 99]
    totals = batch_totals(entries)
    assert (totals.debit_count, totals.debit_amount) == (1, 1000)
    assert (totals.credit_count, totals.credit_amount) == (1, 250)


def test_card_pan_is_sealed(store):
    journal_id = store.journal.add(entry(), pan=FULL_PAN)
    assert store.journal.card_pan(journal_id) == FULL_PAN
    assert store.journal.card_pan(store.journal.add(entry())) is None
    token = store.db.conn.execute("SELECT pan_token FROM journal WHERE id = ?", (journal_id,))
    assert FULL_PAN not in token.fetchone()[0]
    with pytest.raises(InvalidRecordError, match="pan"):
        store.journal.add(entry(), pan="6222021234569999")  # not the card of masked_pan
    with pytest.raises(InvalidRecordError, match="pan"):
        store.journal.add(entry(), pan="12ab")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"masked_pan": FULL_PAN}, "masked_pan"),
        ({"masked_pan": "6222 0212 3456 1236"}, "masked_pan"),
        ({"response_text": f"card {FULL_PAN}"}, "response_text"),
        ({"qr_ref": TRACK2}, "qr_ref"),
        ({"brand": "B6222021234561236^DOE/J^2512"}, "brand"),
        ({"receipt": {**receipt_dict(), "masked_pan": FULL_PAN}}, "receipt"),
        ({"receipt": {**receipt_dict(), "footer": [f"PAN {FULL_PAN}"]}}, "receipt"),
    ],
)
def test_card_data_is_refused(store, changes, field):
    with pytest.raises(SensitiveDataError) as caught:
        store.journal.add(entry(**changes))
    assert field in str(caught.value)
    assert FULL_PAN not in str(caught.value)
    journal_id = store.journal.add(entry())
    with pytest.raises(SensitiveDataError):
        store.journal.update(journal_id, **changes)
    assert store.journal.get(journal_id).masked_pan == MASKED_PAN


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "teleport"}, "kind"),
        ({"amount": -1}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"stan": 12}, "stan"),
        ({"local_time": "2026-01-01"}, "local_time"),
        ({"pin_verified": "yes"}, "pin_verified"),
        ({"masked_pan": "abc"}, "masked_pan"),
        ({"receipt": {"amount": 1}}, "receipt"),
        ({"copies": [object()]}, "copies"),
    ],
)
def test_malformed_values_are_refused(store, changes, field):
    with pytest.raises(InvalidRecordError, match=field):
        store.journal.add(entry(**changes))


def test_merchant_ids_are_not_mistaken_for_pans(store):
    luhn_mid = "89831005812000" + luhn_check_digit("89831005812000")
    assert luhn_valid(luhn_mid)  # one MID in ten passes the Luhn check by chance
    journal_id = store.journal.add(entry(merchant_id=luhn_mid, receipt=None))
    assert store.journal.get(journal_id).merchant_id == luhn_mid


def test_time_zones_round_trip_and_filter_by_wall_clock(store):
    shanghai = timezone(timedelta(hours=8))
    aware = store.journal.add(entry(local_time=datetime(2026, 5, 1, 10, 0, tzinfo=shanghai)))
    naive = store.journal.add(entry(local_time=datetime(2026, 5, 1, 11, 0)))
    assert store.journal.get(aware).local_time.utcoffset() == timedelta(hours=8)
    found = store.journal.find(JournalQuery(since=datetime(2026, 5, 1, 9, 30)))
    assert [e.id for e in found] == [naive, aware]  # newest first by slip time


def test_concurrent_reader_sees_unprinted_receipts(store):
    """The device agent reads the same file with plain SQL while the terminal writes."""
    lost = store.journal.add(entry())
    done = store.journal.add(entry(copies=(printed(),)))
    agent = sqlite3.connect(f"{store.path.as_uri()}?mode=ro", uri=True)
    try:
        rows = agent.execute(
            "SELECT id FROM journal j WHERE receipt IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM receipt_copies c WHERE c.journal_id = j.id"
            " AND c.status = 'printed')"
        ).fetchall()
        assert [r[0] for r in rows] == [lost]
        store.journal.set_copy_status(lost, printed())
        assert agent.execute("SELECT count(*) FROM receipt_copies").fetchone()[0] == 2
    finally:
        agent.close()
    assert done


def test_query_validation(store):
    with pytest.raises(InvalidRecordError, match="limit"):
        store.journal.find(JournalQuery(limit=0))
    with pytest.raises(InvalidRecordError, match="states"):
        store.journal.find(JournalQuery(states=("lost",)))
    with pytest.raises(InvalidRecordError, match="since"):
        store.journal.find(JournalQuery(since="yesterday"))  # type: ignore[arg-type]
    assert store.journal.find(JournalQuery(states="approved")) == []  # a lone value is fine


def test_store_errors_are_terminal_errors():
    from terminal.core.errors import TerminalError

    assert issubclass(StoreError, TerminalError)


# --- properties -------------------------------------------------------------------------
_TEXT = st.text(alphabet="ABCDEFGHIJ XYZ-/.", max_size=20)
_DIGITS = st.text(alphabet="0123456789", min_size=6, max_size=6)
_OFFSETS = st.none() | st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-12 * 60, 14 * 60)
)
_TIMES = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31))
_COPIES = st.builds(
    ReceiptCopyRecord,
    copy=st.sampled_from(["merchant", "customer"]),
    status=st.sampled_from(list(PrintStatus)),
    duplicate=st.booleans(),
    printed_at=st.none() | _TIMES,
    error=_TEXT,
)


@st.composite
def entries(draw, time_zones=True):
    when = draw(_TIMES)
    if time_zones:
        when = when.replace(tzinfo=draw(_OFFSETS))
    amount = draw(st.none() | st.sampled_from([0, 1, 1234, 5000]) | st.integers(0, 10**12 - 1))
    has_receipt = draw(st.booleans())
    return JournalEntry(
        kind=draw(st.sampled_from(list(TxnKind))),
        state=draw(st.sampled_from(list(TxnState))),
        stan=draw(st.sampled_from(["000001", "000002", "123456"]) | _DIGITS),
        batch=draw(st.sampled_from(["000001", "000002"])),
        invoice=draw(_DIGITS),
        local_time=when,
        terminal_id=draw(st.sampled_from(["10062345", "T1"])),
        merchant_id=draw(st.sampled_from(["898310058120001", "M1"])),
        amount=amount,
        currency=draw(st.sampled_from(["156", "840", "392"])),
        masked_pan=draw(st.sampled_from(["", MASKED_PAN, "****1236", "4111 11** **** 1111"])),
        brand=draw(_TEXT),
        entry_mode=draw(st.sampled_from(["", "051", "071", "901"])),
        response_code=draw(st.sampled_from(["", "00", "05", "51"])),
        response_text=draw(st.text(max_size=30).filter(lambda t: not any(c.isdigit() for c in t))),
        auth_code=draw(st.sampled_from(["", "A1B2C3"])),
        rrn=draw(st.sampled_from(["", "332709000123", "000000000001"])),
        qr_ref=draw(_TEXT),
        pin_verified=draw(st.booleans()),
        receipt=receipt_dict(draw(st.integers(0, 10**6))) if has_receipt else None,
        copies=tuple(draw(st.lists(_COPIES, max_size=3))),
    )


_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(entries())
def test_property_add_get_round_trip(original):
    with tempfile.TemporaryDirectory() as data, TerminalStore(data) as store:
        got = store.journal.get(store.journal.add(original))
    assert same(got, original)


def pure_find(stored: list[JournalEntry], q: JournalQuery) -> list[JournalEntry]:
    def wall(t: datetime) -> datetime:
        return t.replace(tzinfo=None)

    def keep(e: JournalEntry) -> bool:
        return (
            (q.since is None or wall(e.local_time) >= wall(q.since))
            and (q.until is None or wall(e.local_time) <= wall(q.until))
            and (q.amount is None or e.amount == q.amount)
            and (q.stan is None or e.stan == q.stan)
            and (q.rrn is None or e.rrn == q.rrn)
            and (not q.states or e.state in q.states)
            and (not q.kinds or e.kind in q.kinds)
            and (not q.unprinted_only or e.never_printed)
        )

    hits = sorted(filter(keep, stored), key=lambda e: (wall(e.local_time), e.id or 0), reverse=True)
    return hits[: q.limit]


@st.composite
def queries(draw, stored: list[JournalEntry]):
    times = [e.local_time for e in stored] + [draw(_TIMES)]
    pick = st.sampled_from(times)
    return JournalQuery(
        since=draw(st.none() | pick),
        until=draw(st.none() | pick),
        amount=draw(st.none() | st.sampled_from([e.amount for e in stored if e.amount] + [7])),
        stan=draw(st.none() | st.sampled_from([e.stan for e in stored] + ["999999"])),
        rrn=draw(st.none() | st.sampled_from(["", "332709000123", "000000000001"])),
        states=draw(st.lists(st.sampled_from(list(TxnState)), max_size=3, unique=True)),
        kinds=draw(st.lists(st.sampled_from(list(TxnKind)), max_size=3, unique=True)),
        unprinted_only=draw(st.booleans()),
        limit=draw(st.integers(1, 12)),
    )


@_SETTINGS
@given(st.data())
def test_property_find_matches_a_pure_filter(data):
    originals = data.draw(st.lists(entries(), min_size=1, max_size=10))
    with tempfile.TemporaryDirectory() as directory, TerminalStore(directory) as store:
        stored = [store.journal.get(store.journal.add(e)) for e in originals]
        for _ in range(8):
            query = data.draw(queries(stored))
            assert store.journal.find(query) == pure_find(stored, query), query
