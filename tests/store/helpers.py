"""Shared builders for the store tests: realistic entries with masked card data only."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from iso8583.acquirer.model import TxnKind
from terminal.core.cards import luhn_valid
from terminal.core.journal import JournalEntry, PrintStatus, ReceiptCopyRecord, TxnState
from terminal.core.receipts import (
    Copy,
    Currency,
    EntryMode,
    Receipt,
    ReceiptKind,
    ReceiptResult,
)

FULL_PAN = "6222021234561236"
MASKED_PAN = "622202******1236"
TRACK2 = "6222021234561236=25121011234567890"
# A 15-digit merchant ID that does not pass the Luhn check, so the raw-file scan for
# Luhn-valid digit runs only ever finds card numbers.
MERCHANT_ID = "898310058120001"
TERMINAL_ID = "10062345"
SOLD_AT = datetime(2026, 11, 23, 9, 41, 7)
assert luhn_valid(FULL_PAN)
assert not luhn_valid(MERCHANT_ID)

_RUN = re.compile(rb"(?<![0-9])[0-9]{13,19}(?![0-9])")


def receipt_dict(amount: int = 1234, *, stan: str = "000001", when: datetime = SOLD_AT) -> dict:
    return Receipt(
        merchant_name="GREEN LEAF TEA HOUSE",
        merchant_id=MERCHANT_ID,
        terminal_id=TERMINAL_ID,
        kind=ReceiptKind.SALE,
        timestamp=when,
        masked_pan=MASKED_PAN,
        card_brand="UNIONPAY",
        entry_mode=EntryMode.CHIP,
        amount_minor=amount,
        currency=Currency.lookup("CNY"),
        auth_code="A1B2C3",
        rrn="332709000123",
        stan=stan,
        batch_no="000001",
        invoice_no="000001",
        result=ReceiptResult.approve(),
        copy=Copy.MERCHANT,
    ).to_dict()


def entry(**changes: object) -> JournalEntry:
    base = JournalEntry(
        kind=TxnKind.SALE,
        state=TxnState.APPROVED,
        stan="000001",
        batch="000001",
        invoice="000001",
        local_time=SOLD_AT,
        terminal_id=TERMINAL_ID,
        merchant_id=MERCHANT_ID,
        amount=1234,
        masked_pan=MASKED_PAN,
        brand="UNIONPAY",
        entry_mode="051",
        response_code="00",
        response_text="APPROVED",
        auth_code="A1B2C3",
        rrn="332709000123",
        receipt=receipt_dict(),
    )
    return replace(base, **changes)


def printed(copy: str = "merchant", *, duplicate: bool = False) -> ReceiptCopyRecord:
    return ReceiptCopyRecord(
        copy=copy, status=PrintStatus.PRINTED, duplicate=duplicate, printed_at=SOLD_AT
    )


def luhn_runs(data: bytes) -> list[bytes]:
    """Every 13-19 digit run in ``data`` that passes the Luhn check: a full PAN at rest."""
    return [m.group() for m in _RUN.finditer(data) if luhn_valid(m.group().decode())]


def store_files(data_dir: Path) -> list[Path]:
    """The database and its WAL/SHM companions, whichever exist now."""
    return [p for p in data_dir.glob("terminal.db*") if p.is_file()]
