"""PCI DSS at rest: no full PAN, track data or PIN block ever reaches the files."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from iso8583.acquirer.model import Original, Request, TxnKind
from terminal.core.journal import ReceiptCopyRecord
from terminal.store import (
    SensitiveDataError,
    StoreError,
    TerminalStore,
    request_to_record,
)
from tests.store.helpers import (
    FULL_PAN,
    MERCHANT_ID,
    TERMINAL_ID,
    TRACK2,
    entry,
    luhn_runs,
    printed,
    receipt_dict,
    store_files,
)

PIN_BLOCK = bytes.fromhex("041274EDCBA9876F")
OTHER_PANS = ("4111111111111111", "5555555555554444", "378282246310005", "6011000990139424")


def test_helper_finds_pans():
    assert luhn_runs(f"x{FULL_PAN}y".encode()) == [FULL_PAN.encode()]
    assert luhn_runs(MERCHANT_ID.encode()) == []


def _attempts(store: TerminalStore, journal_id: int) -> list[object]:
    """Every way a careless caller might try to store card data; all must be refused."""
    request = Request(
        kind=TxnKind.REVERSAL,
        stan="000002",
        local_time=datetime(2026, 11, 23, 9, 41),
        terminal_id=TERMINAL_ID,
        merchant_id=MERCHANT_ID,
        amount=1234,
        pan=FULL_PAN,
        expiry="2512",
    )
    record = request_to_record(request, vault=store.vault)
    attempts = [
        lambda: store.journal.add(entry(masked_pan=FULL_PAN)),
        lambda: store.journal.add(entry(masked_pan=OTHER_PANS[2])),
        lambda: store.journal.add(entry(response_text=f"declined {OTHER_PANS[0]}")),
        lambda: store.journal.add(entry(qr_ref=TRACK2)),
        lambda: store.journal.add(entry(receipt={**receipt_dict(), "masked_pan": FULL_PAN})),
        lambda: store.journal.add(entry(receipt={**receipt_dict(), "card_brand": TRACK2})),
        lambda: store.journal.update(journal_id, masked_pan=OTHER_PANS[1]),
        lambda: store.journal.update(journal_id, auth_code=OTHER_PANS[3]),
        lambda: store.journal.set_copy_status(
            journal_id, replace(printed(), error=f"jam {FULL_PAN}")
        ),
        lambda: store.saf.push_request(journal_id, replace(request, track2=TRACK2)),
        lambda: store.saf.push_request(journal_id, replace(request, pin_block=PIN_BLOCK)),
        lambda: store.saf.push_request(journal_id, replace(request, icc={"57": TRACK2})),
        lambda: store.saf.push(journal_id, {**record, "pan": FULL_PAN}),
        lambda: store.saf.push(journal_id, {**record, "track2": TRACK2}),
        lambda: store.saf.push(journal_id, {**record, "merchant_name": OTHER_PANS[0]}),
        lambda: store.saf.push(
            journal_id,
            {**record, "original": {**(record["original"] or {}), "rrn": FULL_PAN}},
        ),
    ]
    return attempts


def test_no_card_data_in_the_database_files(tmp_path):
    with TerminalStore(tmp_path) as store:
        sale = store.journal.add(entry(copies=(printed(),)), pan=FULL_PAN)
        store.journal.update(sale, response_text="APPROVED")
        store.journal.set_copy_status(
            sale, ReceiptCopyRecord(copy="customer", status="failed", error="paper out")
        )
        original = Original(kind=TxnKind.SALE, stan="000001", local_time=datetime(2026, 1, 1))
        for pan in (FULL_PAN, *OTHER_PANS):
            store.saf.push_request(
                sale,
                Request(
                    kind=TxnKind.REVERSAL,
                    stan="000002",
                    local_time=datetime(2026, 11, 23, 9, 41),
                    terminal_id=TERMINAL_ID,
                    merchant_id=MERCHANT_ID,
                    amount=1234,
                    pan=pan,
                    expiry="2512",
                    original=original,
                ),
            )
        for attempt in _attempts(store, sale):
            with pytest.raises(StoreError) as caught:
                attempt()  # type: ignore[operator]
            assert isinstance(caught.value, SensitiveDataError), caught.value
            assert FULL_PAN not in str(caught.value)
        store.backup(tmp_path / "backup.db")
        assert store.journal.card_pan(sale) == FULL_PAN  # usable, yet sealed
        live = store_files(tmp_path)
        assert any(p.name.endswith("-wal") for p in live)
        for path in live:
            assert luhn_runs(path.read_bytes()) == [], path.name
    for path in [*store_files(tmp_path), tmp_path / "backup.db"]:
        data = path.read_bytes()
        assert luhn_runs(data) == [], path.name
        assert TRACK2.encode() not in data
        assert PIN_BLOCK not in data


def test_the_scan_catches_a_pan_written_behind_the_api(tmp_path):
    """Guard against a vacuous pass: the same scan does see a PAN when one is there."""
    with TerminalStore(tmp_path) as store:
        journal_id = store.journal.add(entry())
        store.db.conn.execute(
            "UPDATE journal SET response_text = ? WHERE id = ?", (f"x{FULL_PAN}y", journal_id)
        )
        found = [run for path in store_files(tmp_path) for run in luhn_runs(path.read_bytes())]
    assert FULL_PAN.encode() in found
