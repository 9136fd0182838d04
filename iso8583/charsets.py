"""Character classes of the ISO 8583 text kinds, and how a broken one is reported.

The checks decide whether a text value belongs to its kind (n, a, an, ans, z, x+n); the
``first_bad``/``bad_text`` pair runs only on errors, to name the first offending character.
"""

from __future__ import annotations

from collections.abc import Callable

from iso8583.fieldspec import Kind

__all__ = ["CHAR_OK", "bad_text", "first_bad", "ok_ans_any", "ok_n", "ok_z"]


def ok_n(s: str) -> bool:
    return not s or (s.isascii() and s.isdigit())


def _ok_a(s: str) -> bool:
    t = s.replace(" ", "")
    return s.isascii() and (not t or t.isalpha())


def _ok_an(s: str) -> bool:
    t = s.replace(" ", "")
    return s.isascii() and (not t or t.isalnum())


def _ok_ans_ascii(s: str) -> bool:
    return s.isascii() and s.isprintable()


def ok_ans_any(s: str) -> bool:
    return s.isprintable()


def ok_z(s: str) -> bool:
    t = s.replace("=", "").replace("D", "")
    return not t or (t.isascii() and t.isdigit())


def _ok_xn(s: str) -> bool:
    return len(s) >= 1 and s[0] in "CD" and ok_n(s[1:])


CHAR_OK: dict[Kind, Callable[[str], bool]] = {
    Kind.N: ok_n,
    Kind.A: _ok_a,
    Kind.AN: _ok_an,
    Kind.ANS: _ok_ans_ascii,
    Kind.Z: ok_z,
    Kind.XN: _ok_xn,
}

_KIND_WORDS = {
    Kind.N: "digits",
    Kind.A: "letters and spaces",
    Kind.AN: "letters, digits and spaces",
    Kind.ANS: "printable characters",
    Kind.Z: "digits and '='",
    Kind.XN: "'C' or 'D' followed by digits",
}


def first_bad(kind: Kind, s: str, check: Callable[[str], bool]) -> int:
    """Index of the first character that breaks the class (slow path, errors only)."""
    if kind is Kind.XN:
        if not s or s[0] not in "CD":
            return 0
        return 1 + first_bad(Kind.N, s[1:], ok_n)
    for i, ch in enumerate(s):
        if not check(ch):
            return i
    return 0


def bad_text(kind: Kind, s: str, check: Callable[[str], bool]) -> str:
    i = first_bad(kind, s, check)
    ch = s[i] if i < len(s) else ""
    return f"{kind.value} allows {_KIND_WORDS[kind]}; got {ch!r} at character {i}"
