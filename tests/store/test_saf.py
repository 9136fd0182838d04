"""Store-and-forward queue and the Request <-> record conversion."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from iso8583.acquirer.model import Original, Request, Totals, TxnKind
from terminal.core.ports import SafQueue
from terminal.store import (
    InvalidRecordError,
    RecordNotFoundError,
    SensitiveDataError,
    StoreError,
    TerminalStore,
    Vault,
    request_from_record,
    request_to_record,
)
from tests.store.helpers import FULL_PAN, MERCHANT_ID, TERMINAL_ID, TRACK2, entry

WHEN = datetime(2026, 11, 23, 9, 41, 7)


def reversal(**changes: object) -> Request:
    base = Request(
        kind=TxnKind.REVERSAL,
        stan="000042",
        local_time=WHEN,
        terminal_id=TERMINAL_ID,
        merchant_id=MERCHANT_ID,
        amount=1234,
        pan=FULL_PAN,
        expiry="2512",
        entry_mode="051",
        icc={"95": "0000000000", "9F36": "0001", "70": {"9F10": "0110A00000"}},
        original=Original(
            kind=TxnKind.SALE, stan="000041", local_time=WHEN, rrn="332709000123", amount=1234
        ),
        repeat=True,
    )
    return replace(base, **changes)


@pytest.fixture
def store(tmp_path):
    with TerminalStore(tmp_path) as opened:
        yield opened


def test_record_round_trip_with_sealed_pan(tmp_path):
    vault = Vault(tmp_path / "data_key")
    request = reversal(
        qr="281234567890123456",
        totals=Totals(1, 2, 3, 4),
        merchant_name="TEA HOUSE",
        after_upload=True,
    )
    record = request_to_record(request, vault=vault)
    assert "pan" not in record
    assert FULL_PAN not in repr(record)
    assert "281234567890123456" not in repr(record)
    assert request_from_record(record, vault=vault) == request


def test_record_without_card_data_needs_no_vault():
    request = reversal(pan=None, expiry=None)
    assert request_from_record(request_to_record(request)) == request
    with pytest.raises(StoreError, match="vault"):
        request_to_record(reversal())


def test_sealed_record_needs_the_vault_to_open(tmp_path):
    record = request_to_record(reversal(), vault=Vault(tmp_path / "k"))
    with pytest.raises(StoreError, match="vault"):
        request_from_record(record)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"track2": TRACK2}, "track2"),
        ({"pin_block": b"\x01\x02\x03\x04\x05\x06\x07\x08"}, "pin_block"),
        ({"icc": {"57": "6222021234561236D2512"}}, "icc.57"),
        ({"icc": {"70": {"5A": "6222021234561236"}}}, "icc.70.5A"),
        ({"merchant_name": f"SHOP {FULL_PAN}"}, "merchant_name"),
    ],
)
def test_secrets_are_refused(tmp_path, changes, field):
    with pytest.raises(SensitiveDataError) as caught:
        request_to_record(reversal(**changes), vault=Vault(tmp_path / "k"))
    assert field in str(caught.value)
    assert FULL_PAN not in str(caught.value)


def test_push_refuses_hand_made_records(store):
    journal_id = store.journal.add(entry())
    record = request_to_record(reversal(), vault=store.vault)
    with pytest.raises(SensitiveDataError, match="pan"):
        store.saf.push(journal_id, {**record, "pan": FULL_PAN})
    with pytest.raises(InvalidRecordError, match="missing"):
        store.saf.push(journal_id, {"kind": "reversal"})
    with pytest.raises(InvalidRecordError):
        store.saf.push(journal_id, {**record, "amount": object()})
    with pytest.raises(RecordNotFoundError):
        store.saf.push(journal_id + 1, record)
    assert store.saf.pending() == []


def test_fifo_attempts_and_done(store):
    saf: SafQueue = store.saf
    journal_id = store.journal.add(entry())
    ids = [store.saf.push_request(journal_id, reversal(stan=f"00000{i}")) for i in range(1, 4)]
    pending = saf.pending()
    assert [m.id for m in pending] == ids
    assert [m.request["stan"] for m in pending] == ["000001", "000002", "000003"]
    assert store.saf.request(pending[0]).pan == FULL_PAN
    saf.attempt(ids[0])
    saf.attempt(ids[0])
    assert saf.pending()[0].attempts == 2
    saf.done(ids[0])
    saf.done(ids[0])  # acknowledging twice is harmless
    assert [m.id for m in saf.pending()] == ids[1:]
    assert store.saf.count() == 2
    with pytest.raises(InvalidRecordError, match="already delivered"):
        saf.attempt(ids[0])
    with pytest.raises(RecordNotFoundError, match="SAF message 999"):
        saf.done(999)


def test_queue_survives_reopening(tmp_path):
    with TerminalStore(tmp_path) as store:
        journal_id = store.journal.add(entry())
        first = store.saf.push_request(journal_id, reversal(stan="000001"))
        second = store.saf.push_request(journal_id, reversal(stan="000002"))
        store.saf.attempt(first)
    with TerminalStore(tmp_path) as store:
        pending = store.saf.pending()
        assert [(m.id, m.attempts) for m in pending] == [(first, 1), (second, 0)]
        assert store.saf.request(pending[1]) == reversal(stan="000002")
