"""The journal's data model (the storage ports are in :mod:`terminal.core.ports`).

Pure: these are the shapes and contracts; ``terminal.store`` implements them on SQLite. The
journal is also the seam for other components (the device-management agent reprints lost
receipts from it), so it records every receipt copy's print status, and it never holds
cardholder data beyond the masked PAN: track data, CVV and PIN blocks are used in memory for
authorisation and never reach it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from iso8583.acquirer.model import Totals, TxnKind
from terminal.core.errors import TerminalError
from terminal.core.money import format_amount
from terminal.core.receipts import Currency

__all__ = [
    "JournalEntry",
    "JournalQuery",
    "PendingMessage",
    "PrintStatus",
    "ReceiptCopyRecord",
    "TxnState",
    "amount_json",
    "amount_text",
    "batch_totals",
    "copy_json",
    "entry_json",
    "print_status",
]


class TxnState(StrEnum):
    """Life of one transaction in the journal (see ``terminal.core.transactions``)."""

    CREATED = "created"  # persisted before anything is sent
    SENT = "sent"  # request written to the host
    APPROVED = "approved"
    DECLINED = "declined"
    TIMED_OUT = "timed-out"  # no usable answer: a reversal is queued
    REVERSED = "reversed"  # the host acknowledged the reversal
    VOIDED = "voided"  # a later void of this transaction was approved
    FAILED = "failed"  # never reached the host (no connection, no keys): nothing to reverse


class PrintStatus(StrEnum):
    PENDING = "pending"
    PRINTED = "printed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ReceiptCopyRecord:
    """One printed (or not) copy of a receipt: merchant, customer, or a duplicate."""

    copy: str  # "merchant" | "customer"
    status: PrintStatus
    duplicate: bool = False
    printed_at: datetime | None = None
    error: str = ""  # why printing failed (paper out, device offline...)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A transaction as the journal keeps it. ``id`` is assigned by the store."""

    kind: TxnKind
    state: TxnState
    stan: str
    batch: str
    invoice: str
    local_time: datetime
    terminal_id: str
    merchant_id: str
    amount: int | None = None
    currency: str = "156"
    masked_pan: str = ""
    brand: str = ""
    entry_mode: str = ""
    response_code: str = ""
    response_text: str = ""
    auth_code: str = ""
    rrn: str = ""
    original_id: int | None = None  # the journal id a void/refund/completion refers to
    qr_ref: str = ""
    pin_verified: bool = False
    receipt: dict[str, Any] | None = None  # Receipt.to_dict() of the merchant copy
    copies: tuple[ReceiptCopyRecord, ...] = ()
    id: int | None = None
    updated_at: datetime | None = None

    @property
    def never_printed(self) -> bool:
        """A receipt exists but no copy of it was printed: where a lost receipt is found."""
        return self.receipt is not None and not any(
            c.status is PrintStatus.PRINTED for c in self.copies
        )


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """How a merchant finds a lost receipt: by time, amount, trace number or reference."""

    since: datetime | None = None
    until: datetime | None = None
    amount: int | None = None
    stan: str | None = None
    rrn: str | None = None
    states: Sequence[TxnState] = ()
    kinds: Sequence[TxnKind] = ()
    unprinted_only: bool = False
    original_id: int | None = None  # entries referring to this one (voids, refunds)
    limit: int = 100


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A reversal or advice waiting in store-and-forward; ``request`` is the logical request
    (kind REVERSAL or an advice kind) with no track data or PIN block in it."""

    id: int
    journal_id: int
    request: dict[str, Any]  # JSON-able form of iso8583.acquirer.Request without secrets
    attempts: int = 0
    created_at: datetime = field(default_factory=datetime.now)


def batch_totals(entries: Sequence[JournalEntry]) -> Totals:
    """Settlement totals of a batch from the journal: what the terminal believes it did."""
    debits = [
        e
        for e in entries
        if e.state is TxnState.APPROVED
        and e.amount is not None
        and e.kind in (TxnKind.SALE, TxnKind.COMPLETION, TxnKind.QR_PAY, TxnKind.QR_ORDER)
    ]
    credits = [
        e
        for e in entries
        if e.state is TxnState.APPROVED and e.amount is not None and e.kind is TxnKind.REFUND
    ]
    return Totals(
        debit_count=len(debits),
        debit_amount=sum(e.amount or 0 for e in debits),
        credit_count=len(credits),
        credit_amount=sum(e.amount or 0 for e in credits),
    )


# --- the JSON form of an entry -------------------------------------------------------
def print_status(entry: JournalEntry) -> str:
    """One word for the list: where a lost receipt stands."""
    if entry.receipt is None:
        return "no-receipt"
    statuses = {c.status for c in entry.copies}
    for status in (PrintStatus.PRINTED, PrintStatus.FAILED, PrintStatus.PENDING):
        if status in statuses:
            return status.value
    return "unprinted"


def amount_text(entry: JournalEntry) -> str:
    if entry.amount is None:
        return ""
    try:
        currency = Currency.lookup(entry.currency)
    except TerminalError:
        return format_amount(entry.amount)
    return f"{currency.alpha} {format_amount(entry.amount, currency.exponent)}"


def amount_json(minor: int | None, currency: str) -> dict[str, Any]:
    """Money in every JSON the terminal writes (pay, journal, agent): ``amount`` "12.34" in
    major units, ``amount_minor`` 1234 and ``currency`` "156" (ISO 4217 numeric)."""
    if minor is None:
        return {"amount": None, "amount_minor": None, "currency": currency}
    try:
        exponent = Currency.lookup(currency).exponent
    except TerminalError:
        exponent = 2
    return {"amount": format_amount(minor, exponent), "amount_minor": minor, "currency": currency}


def copy_json(copy: ReceiptCopyRecord) -> dict[str, Any]:
    return {
        "copy": copy.copy,
        "status": copy.status.value,
        "duplicate": copy.duplicate,
        "printed_at": None if copy.printed_at is None else copy.printed_at.isoformat(),
        "error": copy.error,
    }


def entry_json(entry: JournalEntry) -> dict[str, Any]:
    """The JSON form of an entry, for every reader (``posemu journal --json``, the agent):
    masked PAN only, amounts as :func:`amount_json` plus ``amount_text`` as printed."""
    return {
        "id": entry.id,
        "time": entry.local_time.isoformat(),
        "kind": entry.kind.value,
        "state": entry.state.value,
        **amount_json(entry.amount, entry.currency),
        "amount_text": amount_text(entry),
        "masked_pan": entry.masked_pan,
        "brand": entry.brand,
        "entry_mode": entry.entry_mode,
        "stan": entry.stan,
        "batch": entry.batch,
        "invoice": entry.invoice,
        "rrn": entry.rrn,
        "auth_code": entry.auth_code,
        "response_code": entry.response_code,
        "response_text": entry.response_text,
        "terminal_id": entry.terminal_id,
        "merchant_id": entry.merchant_id,
        "original_id": entry.original_id,
        "qr_ref": entry.qr_ref,
        "print_status": print_status(entry),
        "never_printed": entry.never_printed,
        "copies": [copy_json(c) for c in entry.copies],
    }
