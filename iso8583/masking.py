"""Masking of cardholder data for display and logs (PCI DSS 3.4: first 6 / last 4 at most)."""

from __future__ import annotations

import re

__all__ = [
    "has_pan",
    "luhn_ok",
    "mask_pan",
    "mask_payment_code",
    "mask_track",
    "scrub_pans",
    "scrub_sensitive",
]

_PAN_RUN = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")  # ASCII digits only
#: Base64 of an EMVCo CPM payload: it starts with tag 85, length 5, "CPV01" ("hQVDUFYwM...").
_CPM_BASE64 = re.compile(r"hQVDUFYwM[A-Za-z0-9+/_-]*=*")
#: Numeric wallet codes: WeChat Pay 10-15 + 16 digits, Alipay 25-30 + 14-22, UnionPay 62 + 17.
_WALLET_CODE = re.compile(r"1[0-5][0-9]{16}|(?:2[5-9]|30)[0-9]{14,22}|62[0-9]{17}")
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{13,24}(?![0-9])")  # a PAN or a wallet code
#: The acquirer protocol's consumer-presented payment field (59): ``CPM:<code>``.
_CPM_FIELD = re.compile(r"(CPM:)(\S+)")


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


def mask_payment_code(code: str, fill: str = "*") -> str:
    """A consumer-presented payment code is a bearer credential: show its length only.

    Numeric wallet codes keep their last 4 digits (like a PAN); an EMVCo CPM payload, which
    may carry the PAN (tag 5A), track 2 equivalent data and the cardholder name, is hidden
    whole.
    """
    if _CPM_BASE64.fullmatch(code):
        return f"[CPM payment code, {len(code)} chars hidden]"
    if code.isascii() and code.isdigit() and len(code) > 8:
        return fill * (len(code) - 4) + code[-4:]
    return f"[payment code, {len(code)} chars hidden]"


def _digit_run(m: re.Match[str], fill: str) -> str:
    run = m.group()
    if len(run) <= 19 and luhn_ok(run):
        return mask_pan(run, fill)
    if _WALLET_CODE.fullmatch(run):
        return mask_payment_code(run, fill)
    return run


def scrub_sensitive(text: str, fill: str = "*") -> str:
    """``scrub_pans`` plus payment codes: CPM payloads, wallet codes, ``CPM:`` field values."""
    if len(text) < 13:  # too short for a PAN or a code: most fields, no regex
        return text
    if "CPM:" in text:
        text = _CPM_FIELD.sub(lambda m: m.group(1) + mask_payment_code(m.group(2), fill), text)
    if "hQVDUFYwM" in text:
        text = _CPM_BASE64.sub(lambda m: mask_payment_code(m.group(), fill), text)
    return _DIGIT_RUN.sub(lambda m: _digit_run(m, fill), text)
