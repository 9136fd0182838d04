"""Masking of cardholder data for display and logs (PCI DSS 3.4: first 6 / last 4 at most)."""

from __future__ import annotations

import re

__all__ = ["has_pan", "luhn_ok", "mask_pan", "mask_track", "scrub_pans"]

_PAN_RUN = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")  # ASCII digits only


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check of a string of ASCII digits (the project's one implementation)."""
    if not (digits.isascii() and digits.isdigit()):
        return False
    # From the right: odd positions count as they are, even ones doubled (digit sum).
    total = sum(map(int, digits[-1::-2])) + sum(map(_DOUBLED.__getitem__, digits[-2::-2]))
    return total % 10 == 0


_DOUBLED = {str(d): d * 2 - 9 if d > 4 else d * 2 for d in range(10)}


def mask_pan(pan: str, fill: str = "*") -> str:
    """Show at most the first 6 and last 4 digits, and always hide at least 6.

    PANs under 16 digits show fewer leading digits (an Amex keeps 5); anything that is not a
    12-19 digit PAN keeps at most its last 4 characters. Never raises: it runs in reprs, logs
    and error paths. The one masking rule of the project (the terminal uses it too).
    """
    n = len(pan)
    if not (12 <= n <= 19 and pan.isascii() and pan.isdigit()):
        return fill * n if n <= 8 else fill * (n - 4) + pan[-4:]
    head = min(6, n - 10)
    return pan[:head] + fill * (n - head - 4) + pan[-4:]


def mask_track(track: str, fill: str = "*") -> str:
    """Mask the PAN of track data and hide everything after it (expiry, service code, CVV)."""
    body = track
    lead = ""
    if body[:1] in ("%", ";"):
        lead, body = body[0], body[1:]
    if body[:1] in ("B", "b"):  # track 1 format code
        lead, body = lead + body[0], body[1:]
    if body.isascii():  # the usual track: find the separator without a Python loop
        i = len(body) - len(body.lstrip("0123456789"))
        if i == len(body):
            return lead + mask_pan(body, fill)
        return lead + mask_pan(body[:i], fill) + body[i] + fill * (len(body) - i - 1)
    for i, ch in enumerate(body):
        if not ch.isdigit():
            return lead + mask_pan(body[:i], fill) + ch + fill * (len(body) - i - 1)
    return lead + mask_pan(body, fill)


def scrub_pans(text: str, fill: str = "*") -> str:
    """Mask every Luhn-valid 13-19 digit run: PANs hide in free-text fields too."""
    if len(text) < 13:  # too short to hold a PAN: most fields, no regex
        return text
    return _PAN_RUN.sub(
        lambda m: mask_pan(m.group(), fill) if luhn_ok(m.group()) else m.group(), text
    )


def has_pan(text: str) -> bool:
    """True if ``text`` holds a Luhn-valid 13-19 digit run: what must never be stored."""
    return any(luhn_ok(run) for run in _PAN_RUN.findall(text))
