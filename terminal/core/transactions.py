"""The transaction state machine, and pure builders of requests and receipts.

Why one table: a payment terminal's worst bugs are states nobody drew (a reversal acked for
an entry that was already approved after a crash, a late answer after a timeout). Every
legal move is a row of :data:`TRANSITIONS`; anything else raises
:class:`IllegalTransitionError`, so a missed case fails loudly instead of corrupting the
journal::

    CREATED ──SENT──> SENT ──APPROVED──> APPROVED ──VOIDED──> VOIDED
       │               │  └──DECLINED──> DECLINED        <──VOID_REVERSED──┘
       │               ├──TIMEOUT / DISCONNECT / BAD_MAC──> TIMED_OUT ──REVERSAL_ACKED──> REVERSED
       │               ├──PENDING (QR order waiting for the customer)──> SENT
       │               └──ABANDONED (no answer, nothing to reverse)──> FAILED
       └──SEND_FAILED (never left the terminal)──> FAILED

REVERSAL_ACKED is also legal from CREATED, SENT and APPROVED: after a crash the queued
reversal is delivered whatever the journal last said, and the host's ack wins.

Builders are pure as well: they turn card data, amounts and journal rows into
:class:`~iso8583.acquirer.Request` and :class:`~terminal.core.receipts.Receipt` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from iso8583.acquirer.model import Original, Request, Totals, TxnKind
from terminal.core.config import TerminalConfig
from terminal.core.errors import TerminalError
from terminal.core.journal import JournalEntry, TxnState
from terminal.core.money import MAX_AMOUNT_MINOR as MAX_AMOUNT
from terminal.core.money import AmountError
from terminal.core.receipts import (
    Copy,
    Currency,
    EntryMode,
    OriginalReference,
    QrDetails,
    Receipt,
    ReceiptKind,
    ReceiptResult,
)

__all__ = [
    "TRANSITIONS",
    "CardData",
    "IllegalTransitionError",
    "TxnEvent",
    "build_receipt",
    "build_request",
    "build_reversal",
    "check_amount",
    "entry_mode_code",
    "entry_mode_from_code",
    "next_state",
    "original_of",
]


class TxnEvent(StrEnum):
    """What happened to a transaction; the only inputs of the state machine."""

    SENT = "sent"  # the request is about to be written to a connected host
    SEND_FAILED = "send-failed"  # no connection: the request never left the terminal
    APPROVED = "approved"  # usable answer, approved
    DECLINED = "declined"  # usable answer, declined
    PENDING = "pending"  # usable answer "in progress" (QR order waiting for payment)
    TIMEOUT = "timeout"  # no answer in time
    DISCONNECT = "disconnect"  # the link broke after the request may have left
    BAD_MAC = "bad-mac"  # an answer whose MAC (or content) cannot be trusted
    ABANDONED = "abandoned"  # a non-reversible request got no usable answer
    REVERSAL_ACKED = "reversal-acked"  # the host acknowledged our reversal of it
    VOIDED = "voided"  # a later void of it was approved
    VOID_REVERSED = "void-reversed"  # ... and that void was itself reversed


_S, _E = TxnState, TxnEvent

TRANSITIONS: Mapping[tuple[TxnState, TxnEvent], TxnState] = MappingProxyType(
    {
        (_S.CREATED, _E.SENT): _S.SENT,
        (_S.CREATED, _E.SEND_FAILED): _S.FAILED,
        (_S.CREATED, _E.REVERSAL_ACKED): _S.REVERSED,  # killed before or while sending
        (_S.SENT, _E.APPROVED): _S.APPROVED,
        (_S.SENT, _E.DECLINED): _S.DECLINED,
        (_S.SENT, _E.PENDING): _S.SENT,
        (_S.SENT, _E.TIMEOUT): _S.TIMED_OUT,
        (_S.SENT, _E.DISCONNECT): _S.TIMED_OUT,
        (_S.SENT, _E.BAD_MAC): _S.TIMED_OUT,
        (_S.SENT, _E.ABANDONED): _S.FAILED,
        (_S.SENT, _E.REVERSAL_ACKED): _S.REVERSED,  # killed while waiting for the answer
        (_S.TIMED_OUT, _E.REVERSAL_ACKED): _S.REVERSED,
        (_S.APPROVED, _E.VOIDED): _S.VOIDED,
        (_S.APPROVED, _E.REVERSAL_ACKED): _S.REVERSED,  # killed before the reversal was cleared
        (_S.VOIDED, _E.VOID_REVERSED): _S.APPROVED,
        # A late ack of a reversal the entry no longer needed changes nothing.
        (_S.DECLINED, _E.REVERSAL_ACKED): _S.DECLINED,
        (_S.FAILED, _E.REVERSAL_ACKED): _S.FAILED,
        (_S.REVERSED, _E.REVERSAL_ACKED): _S.REVERSED,
    }
)


class IllegalTransitionError(TerminalError):
    """``event`` cannot happen in ``state``: the engine asked for a move nobody drew."""

    def __init__(self, state: TxnState, event: TxnEvent) -> None:
        self.state = state
        self.event = event
        super().__init__(f"transaction in state {state.value!r} cannot take event {event.value!r}")


def next_state(state: TxnState, event: TxnEvent) -> TxnState:
    """The state after ``event``; raises :class:`IllegalTransitionError` if none is drawn."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransitionError(state, event) from None


def check_amount(amount: object, *, allow_zero: bool = False) -> int:
    """Return ``amount`` if it is an int in 1..MAX_AMOUNT (0 too with ``allow_zero``)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise AmountError(amount, f"expected an int of minor units, got {type(amount).__name__}")
    low = 0 if allow_zero else 1
    if not low <= amount <= MAX_AMOUNT:
        raise AmountError(amount, f"must be {low}..{MAX_AMOUNT} minor units")
    return amount


# --- entry modes --------------------------------------------------------------------------

_ENTRY_PREFIX = {
    EntryMode.SWIPE: "90",
    EntryMode.FALLBACK: "80",
    EntryMode.MANUAL: "01",
    EntryMode.CHIP: "05",
    EntryMode.CONTACTLESS: "07",
}


def entry_mode_code(mode: EntryMode, *, pin_entered: bool, qr_entry_mode: str = "03") -> str:
    """Field 22: how the card was read (2 digits) + 1 when a PIN was entered, else 2."""
    prefix = qr_entry_mode if mode is EntryMode.QR else _ENTRY_PREFIX[mode]
    return prefix + ("1" if pin_entered else "2")


def entry_mode_from_code(code: str, *, qr_entry_mode: str = "03") -> EntryMode | None:
    """The receipt's entry mode back from field 22 (None when unknown)."""
    if code[:2] == qr_entry_mode:
        return EntryMode.QR
    for mode, prefix in _ENTRY_PREFIX.items():
        if code[:2] == prefix:
            return mode
    return None


# --- requests -----------------------------------------------------------------------------


class CardData(Protocol):
    """What a request needs from a card read (``terminal.engine.cardinput.CardInput``)."""

    @property
    def pan(self) -> str: ...
    @property
    def expiry_yymm(self) -> str | None: ...
    @property
    def track2(self) -> str | None: ...  # field 35 form, or None for manual entry
    @property
    def entry(self) -> EntryMode: ...


def build_request(
    kind: TxnKind,
    config: TerminalConfig,
    *,
    stan: str,
    local_time: datetime,
    batch: str,
    amount: int | None = None,
    card: CardData | None = None,
    pin_block: bytes | None = None,
    original: Original | None = None,
    qr: str | None = None,
    totals: Totals | None = None,
    after_upload: bool = False,
) -> Request:
    """A request of ``kind`` from this terminal. Track 2 is sent for a swipe, PAN and expiry
    for a manual entry (a swipe also carries the PAN so every dialect can route it)."""
    if amount is not None:
        check_amount(amount, allow_zero=kind is TxnKind.BALANCE)
    entry = "000"
    pan = expiry = track2 = None
    if card is not None:
        entry = entry_mode_code(
            card.entry, pin_entered=pin_block is not None, qr_entry_mode=config.qr_entry_mode
        )
        pan, track2 = card.pan, card.track2
        expiry = card.expiry_yymm if track2 is None else None
    elif kind in (TxnKind.QR_ORDER, TxnKind.QR_PAY, TxnKind.QR_QUERY):
        entry = config.qr_entry_mode + "2"
    elif original is not None:
        entry = "012"  # a referenced void/refund/completion: keyed by the merchant
    return Request(
        kind=kind,
        stan=stan,
        local_time=local_time,
        terminal_id=config.terminal_id,
        merchant_id=config.merchant_id,
        amount=amount,
        currency=config.currency,
        pan=pan,
        expiry=expiry,
        track2=track2,
        entry_mode=entry,
        pin_block=pin_block,
        batch=batch,
        original=original,
        qr=qr,
        totals=totals,
        after_upload=after_upload,
        merchant_name=config.merchant_name,
    )


def original_of(request: Request, *, rrn: str = "", auth_code: str = "") -> Original:
    """The reference a reversal, void or refund carries for ``request``."""
    return Original(
        kind=request.kind,
        stan=request.stan,
        local_time=request.local_time,
        rrn=rrn,
        auth_code=auth_code,
        amount=request.amount or 0,
        batch=request.batch,
    )


def build_reversal(request: Request, *, repeat: bool = False) -> Request:
    """The reversal of ``request``: its STAN and time, its original data, and no card data
    (it is persisted in store-and-forward, where PAN, track and PIN block must never go)."""
    original = request.original if request.kind is TxnKind.REVERSAL else original_of(request)
    assert original is not None  # a REVERSAL request always carries its original
    return Request(
        kind=TxnKind.REVERSAL,
        stan=original.stan,
        local_time=original.local_time,
        terminal_id=request.terminal_id,
        merchant_id=request.merchant_id,
        amount=request.amount,
        currency=request.currency,
        entry_mode=request.entry_mode,
        batch=request.batch,
        original=original,
        repeat=repeat,
        merchant_name=request.merchant_name,
    )


# --- receipts -----------------------------------------------------------------------------

_RECEIPT_KIND = {
    TxnKind.SALE: ReceiptKind.SALE,
    TxnKind.VOID: ReceiptKind.VOID,
    TxnKind.REFUND: ReceiptKind.REFUND,
    TxnKind.PREAUTH: ReceiptKind.PREAUTH,
    TxnKind.COMPLETION: ReceiptKind.COMPLETION,
    TxnKind.BALANCE: ReceiptKind.BALANCE,
    TxnKind.QR_ORDER: ReceiptKind.QR_SALE,
    TxnKind.QR_PAY: ReceiptKind.QR_SALE,
}
_QR_KINDS = {ReceiptKind.VOID: ReceiptKind.QR_VOID, ReceiptKind.REFUND: ReceiptKind.QR_REFUND}


def _digits_or_none(value: str, limit: int = 6) -> str | None:
    """Receipt fields must be short digit strings or absent: blank journal values -> None."""
    value = value.strip()
    return value if value and value.isdigit() and len(value) <= limit else None


def build_receipt(
    entry: JournalEntry,
    config: TerminalConfig,
    *,
    copy: Copy = Copy.MERCHANT,
    original: JournalEntry | None = None,
    balance: int | None = None,
) -> Receipt:
    """The slip of a finished (approved or declined) journal entry."""
    kind = _RECEIPT_KIND.get(entry.kind)
    if kind is None:
        raise TerminalError(f"no receipt for a {entry.kind.value} transaction")
    qr_original = original is not None and original.kind in (TxnKind.QR_ORDER, TxnKind.QR_PAY)
    if qr_original or (entry.qr_ref and kind in _QR_KINDS):
        kind = _QR_KINDS.get(kind, kind)
    approved = entry.state in (TxnState.APPROVED, TxnState.VOIDED)
    code = entry.response_code or ("00" if approved else "96")
    if approved:
        result = ReceiptResult.approve(code)
    else:
        result = ReceiptResult.decline(code, entry.response_text)
    entry_mode = entry_mode_from_code(entry.entry_mode, qr_entry_mode=config.qr_entry_mode)
    if kind.is_qr:
        entry_mode = EntryMode.QR
    reference = None
    if original is not None and kind.refers_to_original:
        stan, rrn = _digits_or_none(original.stan), original.rrn.strip() or None
        auth = original.auth_code.strip() or None
        if stan or rrn or auth:
            reference = OriginalReference(stan=stan, rrn=rrn, auth_code=auth)
    amount = abs(balance) if kind is ReceiptKind.BALANCE and balance is not None else entry.amount
    return Receipt(
        merchant_name=config.merchant_name,
        merchant_address=(
            *config.receipt_header,
            *((config.merchant_city,) if config.merchant_city else ()),
        ),
        merchant_id=config.merchant_id,
        terminal_id=config.terminal_id,
        kind=kind,
        timestamp=entry.local_time,
        amount_minor=amount or 0,
        currency=Currency.lookup(entry.currency),
        result=result,
        copy=copy,
        masked_pan=None if kind.is_qr else (entry.masked_pan or None),
        card_brand=None if kind.is_qr else (entry.brand or None),
        entry_mode=entry_mode,
        auth_code=entry.auth_code.strip() or None,
        rrn=entry.rrn.strip() or None,
        stan=_digits_or_none(entry.stan),
        batch_no=_digits_or_none(entry.batch),
        invoice_no=_digits_or_none(entry.invoice),
        pin_verified=entry.pin_verified and approved and not kind.is_qr,
        original=reference,
        qr=QrDetails(wallet=entry.brand or "QR", order_ref=entry.qr_ref or None)
        if kind.is_qr
        else None,
        footer=config.receipt_footer,
    )
