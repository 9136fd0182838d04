"""Amounts typed by people, as integer minor units: floats never touch money.

``parse_amount`` is strict on purpose: a cashier's "12.345" or "1e3" is a typo to report, not
a value to round, because a wrong amount on a refund or a receipt search is worse than asking.
"""

from __future__ import annotations

import re
from typing import Final

from terminal.core.errors import TerminalError

__all__ = ["MAX_AMOUNT_MINOR", "AmountError", "format_amount", "parse_amount"]

#: ISO 8583 field 4 is n12: no amount can have more than twelve digits.
MAX_AMOUNT_MINOR: Final = 999_999_999_999
_MAX_EXPONENT: Final = 3  # ISO 4217 uses 0, 2 and 3
_AMOUNT: Final = re.compile(r"([0-9]+)(?:\.([0-9]+))?")


class AmountError(TerminalError, ValueError):
    """``text`` is not an amount; ``reason`` says why, in words a cashier understands."""

    def __init__(self, text: object, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"amount {text!r}: {reason}")


def _check_exponent(exponent: int) -> int:
    if isinstance(exponent, bool) or not isinstance(exponent, int):
        raise TypeError(f"exponent must be an int, got {type(exponent).__name__}")
    if not 0 <= exponent <= _MAX_EXPONENT:
        raise ValueError(f"exponent {exponent} is outside 0..{_MAX_EXPONENT}")
    return exponent


def parse_amount(text: str, exponent: int = 2) -> int:
    """``"12.3"`` -> ``1230`` minor units; reject signs, exponents and extra decimals."""
    _check_exponent(exponent)
    if not isinstance(text, str):
        raise AmountError(text, f"expected text, got {type(text).__name__}")
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        if not text.strip():
            raise AmountError(text, "is empty")
        raise AmountError(text, "expected digits with an optional decimal point, like 12.34")
    units, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > exponent:
        allowed = f"at most {exponent} decimal places" if exponent else "no decimal places"
        raise AmountError(text, f"has {len(fraction)} decimal places; {allowed} allowed")
    minor = int(units) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    if minor > MAX_AMOUNT_MINOR:
        raise AmountError(text, f"exceeds the largest amount ({MAX_AMOUNT_MINOR} minor units)")
    return minor


def format_amount(minor: int, exponent: int = 2) -> str:
    """``1234`` -> ``"12.34"``: the inverse of :func:`parse_amount` (negatives get a ``-``)."""
    _check_exponent(exponent)
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise AmountError(minor, f"expected an int of minor units, got {type(minor).__name__}")
    sign = "-" if minor < 0 else ""
    if exponent == 0:
        return f"{sign}{abs(minor)}"
    units, fraction = divmod(abs(minor), 10**exponent)
    return f"{sign}{units}.{fraction:0{exponent}d}"
