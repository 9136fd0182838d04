"""What the cashier types, read the way a real POS reads it; no widgets, easy to test.

Amounts are typed in minor units: pressing 1 2 3 4 shows 12.34, backspace drops the last
digit, clear starts again; floats never appear. The PIN buffer only ever shows its length,
and ``take()`` hands the PIN over once and forgets it, so no screen keeps a PIN after use.
References (STAN, RRN, journal id) and journal filters are parsed here too, with errors
worded for a cashier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from terminal.core.errors import TerminalError
from terminal.core.journal import JournalQuery, TxnState
from terminal.core.money import MAX_AMOUNT_MINOR, AmountError, format_amount, parse_amount
from terminal.engine.results import TxnRef

__all__ = [
    "PIN_MAX",
    "PIN_MIN",
    "AmountBuffer",
    "BadQueryError",
    "BadReferenceError",
    "PinBuffer",
    "journal_query",
    "parse_reference",
]

PIN_MIN: Final = 4
PIN_MAX: Final = 12
_DIGITS: Final = frozenset("0123456789")


class AmountBuffer:
    """Digits typed so far, as an integer of minor units (at most field 4's twelve digits)."""

    def __init__(self, exponent: int = 2) -> None:
        self.exponent = exponent
        self._minor = 0

    @property
    def minor(self) -> int:
        return self._minor

    def press(self, key: str) -> bool:
        """Apply one digit; returns False when it is ignored (not a digit, or too long)."""
        if key not in _DIGITS:
            return False
        value = self._minor * 10 + int(key)
        if value > MAX_AMOUNT_MINOR:
            return False
        self._minor = value
        return True

    def backspace(self) -> None:
        self._minor //= 10

    def clear(self) -> None:
        self._minor = 0

    def set(self, minor: int) -> None:
        self._minor = max(0, min(int(minor), MAX_AMOUNT_MINOR))

    @property
    def text(self) -> str:
        return format_amount(self._minor, self.exponent)


class PinBuffer:
    """A PIN being typed: shown as stars, handed over once by :meth:`take`."""

    def __init__(self) -> None:
        self._digits: list[str] = []

    def press(self, key: str) -> bool:
        if key not in _DIGITS or len(self._digits) >= PIN_MAX:
            return False
        self._digits.append(key)
        return True

    def backspace(self) -> None:
        if self._digits:
            self._digits.pop()

    def clear(self) -> None:
        self._digits.clear()

    def __len__(self) -> int:
        return len(self._digits)

    @property
    def complete(self) -> bool:
        return PIN_MIN <= len(self._digits) <= PIN_MAX

    @property
    def masked(self) -> str:
        return "*" * len(self._digits)

    def take(self) -> str:
        """The PIN, once: the buffer is emptied before this returns."""
        pin = "".join(self._digits)
        self.clear()
        return pin

    def __repr__(self) -> str:
        return f"PinBuffer({self.masked!r})"


class BadReferenceError(TerminalError, ValueError):
    """The typed transaction reference is neither a STAN, an RRN nor a journal id."""


class BadQueryError(TerminalError, ValueError):
    """A journal filter cannot be understood (a date, an amount, a STAN)."""


def parse_reference(text: str) -> TxnRef:
    """``123`` or ``000123`` -> STAN; 12 characters -> RRN; ``#7`` or ``id 7`` -> journal id."""
    value = text.strip()
    lowered = value.lower()
    for prefix in ("#", "id ", "id:"):
        if lowered.startswith(prefix) and value[len(prefix) :].strip().isdigit():
            return TxnRef(journal_id=int(value[len(prefix) :].strip()))
    for prefix in ("rrn ", "rrn:"):
        if lowered.startswith(prefix):
            return TxnRef(rrn=value[len(prefix) :].strip())
    for prefix in ("stan ", "stan:"):
        if lowered.startswith(prefix):
            value = value[len(prefix) :].strip()
    if value.isdigit() and 1 <= len(value) <= 6:
        return TxnRef(stan=value.zfill(6))
    if len(value) == 12 and value.isalnum():
        return TxnRef(rrn=value)
    raise BadReferenceError("type a STAN (up to 6 digits), an RRN (12 characters) or #journal-id")


def _when(text: str, *, end: bool) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d" and end:
            value = value.replace(hour=23, minute=59, second=59)
        return value
    raise BadQueryError(f"date {text!r}: expected YYYY-MM-DD or YYYY-MM-DD HH:MM")


def journal_query(
    *,
    since: str = "",
    until: str = "",
    amount: str = "",
    stan: str = "",
    rrn: str = "",
    state: str = "",
    unprinted_only: bool = False,
    limit: int = 200,
) -> JournalQuery:
    """The journal filters as typed by the merchant -> a :class:`JournalQuery`."""
    minor = None
    if amount.strip():
        try:
            minor = parse_amount(amount)
        except AmountError as exc:
            raise BadQueryError(str(exc)) from None
    stan = stan.strip()
    if stan and not (stan.isdigit() and len(stan) <= 6):
        raise BadQueryError("a STAN is up to 6 digits")
    return JournalQuery(
        since=_when(since, end=False),
        until=_when(until, end=True),
        amount=minor,
        stan=stan.zfill(6) if stan else None,
        rrn=rrn.strip() or None,
        states=(TxnState(state),) if state else (),
        unprinted_only=unprinted_only,
        limit=limit,
    )
