"""Checks on operator input that need the journal but no host: originals, PINs, batches.

Why apart: these are the "bad input" answers (exit status 2 in the CLI), given before
anything is written or sent, and they are easiest to read as a short list of rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from iso8583.acquirer.model import TxnKind
from terminal.core.errors import NotFoundError, TerminalError
from terminal.core.journal import JournalEntry, JournalQuery, TxnState
from terminal.core.money import format_amount
from terminal.core.ports import Counters, JournalStore
from terminal.core.receipts import Currency
from terminal.engine.cardinput import CardRead
from terminal.engine.errors import (
    AmbiguousReferenceError,
    InputError,
    NotAllowedError,
    OriginalNotFoundError,
    PinRequiredError,
)
from terminal.engine.results import TxnRef

__all__ = ["DEBITS", "as_ref", "checked_pin", "counted", "find_original"]

#: Approved kinds that move money to the merchant: what a void or refund may point at.
DEBITS = (TxnKind.SALE, TxnKind.COMPLETION, TxnKind.QR_PAY, TxnKind.QR_ORDER)


def as_ref(ref: TxnRef | int) -> TxnRef:
    return ref if isinstance(ref, TxnRef) else TxnRef(journal_id=ref)


def checked_pin(card: CardRead, pin: str | None) -> str | None:
    """A PIN card needs a PIN, and a PIN is 4-12 digits."""
    if pin is None or pin == "":
        if card.pin_required:
            raise PinRequiredError(card.masked_pan)
        return None
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise InputError("PIN must be 4 to 12 digits")
    return pin


def find_original(
    journal: JournalStore,
    counters: Counters,
    ref: TxnRef,
    kinds: Sequence[TxnKind],
    *,
    amount: int | None = None,
    for_void: bool = False,
) -> JournalEntry:
    """The approved journal entry ``ref`` points at, checked for the operation.

    A STAN is unique within a batch only, so STAN lookups search the open batch; a void
    must stay in the open batch (after settlement it is a refund).
    """
    batch = counters.batch()
    if ref.journal_id is not None:
        try:
            found = [journal.get(ref.journal_id)]
        except NotFoundError:
            raise OriginalNotFoundError(str(ref)) from None
    else:
        query = JournalQuery(stan=ref.stan, rrn=ref.rrn, kinds=tuple(kinds), limit=50)
        found = journal.find(query)
        if ref.stan is not None:
            found = [e for e in found if e.batch == batch]
    if not found:
        raise OriginalNotFoundError(str(ref))
    if len(found) > 1:  # never guess which one the user meant (RRNs may repeat across hosts)
        raise AmbiguousReferenceError(str(ref), sorted(e.id for e in found if e.id is not None))
    entry = found[0]
    if entry.kind not in kinds:
        names = "/".join(k.value for k in kinds)
        raise NotAllowedError(f"{ref} is a {entry.kind.value}, not a {names}")
    if entry.state is not TxnState.APPROVED:
        raise NotAllowedError(f"{ref} is {entry.state.value}, not approved")
    if for_void and entry.batch != batch:
        raise NotAllowedError(f"{ref} is in settled batch {entry.batch}: refund it instead")
    if entry.kind is TxnKind.PREAUTH and entry.id is not None:
        query = JournalQuery(original_id=entry.id, kinds=(TxnKind.COMPLETION,), limit=1000)
        done = [e.id for e in journal.find(query) if e.state in _REFUND_COUNTS]
        if done:  # one completion per authorisation, as a host holds the funds once
            raise NotAllowedError(f"{ref} is already completed (journal id {done[0]})")
    refunded = _refunded(journal, entry)
    if for_void and refunded:
        raise NotAllowedError(
            f"{ref} has refunds ({_fmt(entry.currency, refunded)} refunded): a sale with "
            "refunds cannot be voided; refund the rest instead"
        )
    if amount is not None and entry.amount is not None:
        if amount > entry.amount:
            raise NotAllowedError(f"amount exceeds the amount of {ref}")
        remaining = entry.amount - refunded
        if refunded and amount > remaining:
            money = partial(_fmt, entry.currency)
            raise NotAllowedError(
                f"amount exceeds what is left to refund of {ref}: {money(remaining)} "
                f"({money(refunded)} of {money(entry.amount)} already refunded)"
            )
    return entry


#: States of a refund (or completion) that has, or may have, moved money.
_REFUND_COUNTS = (TxnState.APPROVED, TxnState.CREATED, TxnState.SENT, TxnState.TIMED_OUT)


def _refunded(journal: JournalStore, original: JournalEntry) -> int:
    """Minor units refunded (or maybe refunded: in flight) against ``original``."""
    if original.id is None:
        return 0
    query = JournalQuery(original_id=original.id, kinds=(TxnKind.REFUND,), limit=1000)
    return sum(e.amount or 0 for e in journal.find(query) if e.state in _REFUND_COUNTS)


def _fmt(currency: str, minor: int) -> str:
    try:
        exponent = Currency.lookup(currency).exponent
    except (TerminalError, ValueError):
        exponent = 2
    return format_amount(minor, exponent)


def counted(entries: Sequence[JournalEntry]) -> list[JournalEntry]:
    """The batch's approved debits and refunds: what settlement totals and uploads."""
    kinds = (*DEBITS, TxnKind.REFUND)
    return [e for e in entries if e.state is TxnState.APPROVED and e.kind in kinds and e.amount]
