"""The journal's data model and the storage ports the terminal core talks to.

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
from typing import Any, Protocol

from iso8583.acquirer.model import Kind, SessionKeys, Totals

__all__ = [
    "Counters",
    "JournalEntry",
    "JournalQuery",
    "JournalStore",
    "KeyStore",
    "PendingMessage",
    "PrintStatus",
    "ReceiptCopyRecord",
    "SafQueue",
    "TxnState",
    "batch_totals",
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

    kind: Kind
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
    kinds: Sequence[Kind] = ()
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


class JournalStore(Protocol):
    def add(self, entry: JournalEntry) -> int: ...
    def update(self, journal_id: int, **changes: Any) -> JournalEntry: ...
    def get(self, journal_id: int) -> JournalEntry: ...
    def find(self, query: JournalQuery) -> list[JournalEntry]: ...
    def batch_entries(self, batch: str) -> list[JournalEntry]: ...
    def set_copy_status(self, journal_id: int, copy: ReceiptCopyRecord) -> None: ...


class SafQueue(Protocol):
    """Persistent store-and-forward queue: delivered oldest first, before new transactions."""

    def push(self, journal_id: int, request: dict[str, Any]) -> int: ...
    def pending(self) -> list[PendingMessage]: ...
    def attempt(self, message_id: int) -> None: ...
    def done(self, message_id: int) -> None: ...


class Counters(Protocol):
    def next_stan(self) -> str: ...
    def next_invoice(self) -> str: ...
    def batch(self) -> str: ...
    def close_batch(self) -> str: ...


class KeyStore(Protocol):
    """Working keys as received at sign-on (encrypted under the TMK, never in clear)."""

    def save(self, keys: SessionKeys) -> None: ...
    def load(self) -> SessionKeys | None: ...


def batch_totals(entries: Sequence[JournalEntry]) -> Totals:
    """Settlement totals of a batch from the journal: what the terminal believes it did."""
    debits = [
        e
        for e in entries
        if e.state is TxnState.APPROVED
        and e.amount is not None
        and e.kind in (Kind.SALE, Kind.COMPLETION, Kind.QR_PAY, Kind.QR_ORDER)
    ]
    credits = [
        e
        for e in entries
        if e.state is TxnState.APPROVED and e.amount is not None and e.kind is Kind.REFUND
    ]
    return Totals(
        debit_count=len(debits),
        debit_amount=sum(e.amount or 0 for e in debits),
        credit_count=len(credits),
        credit_amount=sum(e.amount or 0 for e in credits),
    )
