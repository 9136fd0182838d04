"""Hypothesis strategies that generate *valid* ISO 8583 values, messages and wire bytes.

Why a public module: a host, switch or terminal built on this package is best tested the way
the package tests itself, by throwing many valid messages of its dialect at it (and mutations of
them). Everything is derived from the :class:`~iso8583.spec.Spec` (kind, fixed or variable
length, encodings, composites), so a custom dialect gets generators for free::

    from hypothesis import given
    from iso8583 import get_spec, pack, unpack
    from iso8583.strategies import messages

    SPEC = get_spec("iso87ascii")

    @given(messages(SPEC, mti="0200", required=(3, 4, 11, 41)))
    def test_roundtrip(msg):
        assert unpack(pack(msg, SPEC), SPEC) == msg

Generated values are exactly the values ``unpack`` returns, so ``unpack(pack(m)) == m`` holds:
``str`` for text kinds (track data uses ``'='``, never ``'D'``; hex is not used for text),
``bytes`` for binary fields and ``dict`` for composite fields (never their plain form).
Variable-length fields may be empty (the codec allows it) unless ``allow_empty=False``, and
are capped at ``max_text`` units by default so that tests stay fast; ``max_text=None`` asks
for the full range.

Requires hypothesis, a test-only dependency: ``pip install 'posemu[test]'``.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

try:
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
    from hypothesis.strategies import SearchStrategy
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "iso8583.strategies needs hypothesis, a test-only dependency: "
        "pip install 'posemu[test]' (or pip install hypothesis)"
    ) from exc

from iso8583.message import Message
from iso8583.spec import BerTlv, Encoding, FieldSpec, Kind, LengthUnit, Positional, Spec
from iso8583.tlv import BerTlvTree, TlvEncoding, TlvFormat

__all__ = [
    "DEFAULT_MAX_TEXT",
    "ber_tlv_trees",
    "field_spec_values",
    "field_values",
    "messages",
    "mtis",
    "packed_messages",
]

T = TypeVar("T")

DEFAULT_MAX_TEXT = 60
"""Default cap (characters, digits or bytes) on variable fields: LLLVAR 999 stays fast."""

_DIGITS = string.digits
_LETTERS = string.ascii_letters
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
_ALNUM = _LETTERS + _DIGITS

# Common EMV tags make failures readable; random tags cover the BER rules.
_EMV_PRIMITIVE = (
    "4F", "50", "57", "5A", "82", "84", "95", "9A", "9C", "5F2A", "5F34", "9F02", "9F03",
    "9F10", "9F1A", "9F26", "9F27", "9F33", "9F34", "9F35", "9F36", "9F37",
)
_EMV_CONSTRUCTED = ("6F", "70", "71", "72", "77", "A5", "E1", "BF0C")
# Private-class one-byte primitive tags (C0..DE), used to pad fixed-size BER fields exactly.
_BER_FILLER_TAGS = tuple(f"{b:02X}" for b in range(0xC0, 0xDF))


# --------------------------------------------------------------------------- character classes


@cache
def _codepage_printable(codepage: str) -> str:
    """Printable characters an EBCDIC code page can carry and give back unchanged."""
    chars = bytes(range(256)).decode(codepage, "replace")
    return "".join(c for c in chars
                   if c.isprintable() and c != "\ufffd" and _round_trips(c, codepage))


def _round_trips(ch: str, codepage: str) -> bool:
    try:
        return ch.encode(codepage).decode(codepage) == ch
    except (UnicodeError, LookupError):
        return False


@cache
def _alphabet(kind: Kind, encoding: Encoding, codepage: str) -> str:
    """Characters a value of ``kind`` may hold on this encoding (the x+n sign excluded)."""
    if kind in (Kind.N, Kind.XN):
        base = _DIGITS
    elif kind is Kind.A:
        base = _LETTERS + " "
    elif kind is Kind.AN:
        base = _ALNUM + " "
    elif kind is Kind.ANS:
        base = _codepage_printable(codepage) if encoding is Encoding.EBCDIC else _PRINTABLE_ASCII
    elif kind is Kind.Z:
        base = _DIGITS + "="  # 'D' is accepted but becomes '=' in BCD: not round-trip safe
    else:
        raise InvalidArgument(f"{kind.value} is not a text kind")
    if encoding is Encoding.EBCDIC:
        base = "".join(c for c in base if _round_trips(c, codepage))
    return base


def _sized(lo: int, hi: int, make: Callable[[int], SearchStrategy[T]]) -> SearchStrategy[T]:
    """Draw the length first: hypothesis' own size distribution rarely goes past ~50 units,
    while boundary lengths (0, the maximum) are exactly where ISO 8583 code breaks."""
    if lo == hi:
        return make(lo)
    return st.integers(lo, hi).flatmap(make)


def _text(alphabet: str, lo: int, hi: int) -> SearchStrategy[str]:
    return _sized(lo, hi, lambda n: st.text(alphabet=alphabet, min_size=n, max_size=n))


def _binary(lo: int, hi: int) -> SearchStrategy[bytes]:
    return _sized(lo, hi, lambda n: st.binary(min_size=n, max_size=n))


def _signed(digits: str, lo: int, hi: int) -> SearchStrategy[str]:
    """x+n: 'C' (credit) or 'D' (debit), then ``lo..hi`` digits."""
    return st.builds(str.__add__, st.sampled_from("CD"), _text(digits, lo, hi))


# --------------------------------------------------------------------------- lengths


def _lenlen(n: int) -> int:
    """Bytes of a BER length field for a body of ``n`` bytes."""
    return 1 if n < 0x80 else 1 + (n.bit_length() + 7) // 8


def _ber_size(tree: BerTlvTree) -> int:
    """Encoded size of a tag tree, computed independently of the codec under test."""
    total = 0
    for tag, value in tree.items():
        body = _ber_size(value) if isinstance(value, dict) else len(value) // 2
        total += len(tag) // 2 + _lenlen(body) + body
    return total


def _unit_range(fs: FieldSpec, where: str) -> tuple[int, int]:
    """Units (characters, digits or value bytes) the plain value of ``fs`` may have."""
    if fs.kind is Kind.B and fs.length_unit is LengthUnit.WIRE:
        if fs.fixed and fs.max_len % 2:
            raise InvalidArgument(f"{where}: {fs.max_len} hex characters is not whole bytes")
        top = fs.max_len // 2
    else:
        top = fs.max_len
    return (top, top) if fs.fixed else (0, top)


def _capped(fs: FieldSpec, where: str, max_text: int | None, allow_empty: bool) -> tuple[int, int]:
    lo, hi = _unit_range(fs, where)
    if fs.fixed:
        return lo, hi
    if max_text is not None:
        if max_text < 0:
            raise InvalidArgument(f"max_text must be >= 0 or None, got {max_text}")
        hi = min(hi, max_text)
    if not allow_empty and hi >= 1:
        lo = 1
    return lo, hi


# --------------------------------------------------------------------------- plain values


def _plain(fs: FieldSpec, lo: int, hi: int) -> SearchStrategy[Any]:
    if fs.kind is Kind.B:
        return _binary(lo, hi)
    alphabet = _alphabet(fs.kind, fs.encoding, fs.codepage)
    if fs.kind is Kind.XN:
        return _signed(alphabet, lo, hi)
    return _text(alphabet, lo, hi)


def _outer_alphabet(fs: FieldSpec) -> frozenset[str] | None:
    """Characters a composite may put in its field; ``None`` for binary fields (any byte)."""
    if fs.kind is Kind.B:
        return None
    if fs.kind is Kind.XN:
        raise InvalidArgument("composites over x+n fields are not supported")
    return frozenset(_alphabet(fs.kind, fs.encoding, fs.codepage))


def _restrict(chars: str, outer: frozenset[str] | None) -> str:
    return chars if outer is None else "".join(c for c in chars if c in outer)


# --------------------------------------------------------------------------- positional


@dataclass(frozen=True)
class _Sub:
    """One positional subfield: encoded size = overhead + units."""

    overhead: int  # length prefix (+ x+n sign) in the composite's units
    lo: int
    hi: int
    binary: bool
    alphabet: str
    signed: bool

    def value(self, units: int) -> SearchStrategy[Any]:
        if self.binary:
            return st.binary(min_size=units, max_size=units)
        if self.signed:
            return _signed(self.alphabet, units, units)
        return _text(self.alphabet, units, units)


def _plan_sub(where: str, sub: FieldSpec, outer: frozenset[str] | None) -> _Sub:
    binary = sub.kind is Kind.B
    if binary and outer is not None:
        raise InvalidArgument(f"{where}: a binary subfield cannot live in a text field")
    if sub.prefix and outer is not None and not set(_DIGITS) <= outer:
        raise InvalidArgument(f"{where}: length digits are not allowed by the field's kind")
    if binary:
        overhead = (1 if sub.prefix <= 2 else 2) if sub.prefix else 0
        alphabet = ""
    else:
        # The composite codec reads subfields as ASCII inside the decoded field value.
        alphabet = _restrict(_alphabet(sub.kind, Encoding.ASCII, sub.codepage), outer)
        overhead = sub.prefix + (1 if sub.kind is Kind.XN else 0)
        if sub.kind is Kind.XN and outer is not None and not {"C", "D"} <= outer:
            raise InvalidArgument(f"{where}: x+n sign is not allowed by the field's kind")
    lo, hi = (sub.max_len, sub.max_len) if sub.fixed else (0, sub.max_len)
    if hi > 0 and not binary and not alphabet:
        raise InvalidArgument(f"{where}: no character fits both the subfield and the field")
    return _Sub(overhead, lo, hi, binary, alphabet, sub.kind is Kind.XN)


def _positional(
    where: str, fs: FieldSpec, comp: Positional, lo: int, hi: int, full: int
) -> SearchStrategy[dict[str, Any]]:
    outer = _outer_alphabet(fs)
    subs = [_plan_sub(f"{where}.{i}", s, outer) for i, s in enumerate(comp.subfields, 1)]
    mins = [s.overhead + s.lo for s in subs]
    maxs = [s.overhead + s.hi for s in subs]

    def feasible(tmin: int, tmax: int) -> list[int]:
        return [k for k in range(len(subs) + 1)
                if sum(mins[:k]) <= tmax and sum(maxs[:k]) >= tmin]

    tmin, tmax = lo, hi
    counts = feasible(tmin, tmax)
    if not counts and tmax < full:  # the max_text cap is below the smallest valid value
        tmax = full
        counts = feasible(tmin, tmax)
    if not counts:
        raise InvalidArgument(f"{where}: no combination of subfields fits the field's length")

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        k = draw(st.sampled_from(counts))
        out: dict[str, Any] = {}
        used = 0
        for i in range(k):
            sub = subs[i]
            rest_min, rest_max = sum(mins[i + 1 : k]), sum(maxs[i + 1 : k])
            u_lo = max(sub.lo, tmin - used - rest_max - sub.overhead)
            u_hi = min(sub.hi, tmax - used - rest_min - sub.overhead)
            units = draw(st.integers(u_lo, u_hi))
            out[str(i + 1)] = draw(sub.value(units))
            used += sub.overhead + units
        return out

    return build()


# --------------------------------------------------------------------------- simple TLV


def _simple_tlv(
    where: str, fs: FieldSpec, fmt: TlvFormat, lo: int, hi: int, max_entries: int = 4
) -> SearchStrategy[dict[str, str]]:
    ascii_fmt = fmt.encoding is TlvEncoding.ASCII
    outer = _outer_alphabet(fs)
    if not ascii_fmt and outer is not None:
        raise InvalidArgument(f"{where}: binary TLV needs a binary (b) field")
    overhead = fmt.tag_size + fmt.length_size
    max_value = fmt.max_value_length
    if ascii_fmt:
        tag_chars = _restrict(_ALNUM, outer)
        value_chars = _restrict(_PRINTABLE_ASCII, outer)
        if not tag_chars or not value_chars or (outer is not None and not set(_DIGITS) <= outer):
            raise InvalidArgument(f"{where}: the field's kind cannot hold ASCII TLVs")
        tags: SearchStrategy[str] = _text(tag_chars, fmt.tag_size, fmt.tag_size)
    else:
        tags = st.binary(min_size=fmt.tag_size, max_size=fmt.tag_size).map(
            lambda b: b.hex().upper())
    fixed = fs.fixed
    if fixed and hi < overhead:
        raise InvalidArgument(f"{where}: {hi} units cannot hold one TLV")

    def value(units: int) -> SearchStrategy[str]:
        if ascii_fmt:
            return _text(value_chars, units, units)
        return st.binary(min_size=units, max_size=units).map(lambda b: b.hex().upper())

    def filler_tags(taken: dict[str, str]) -> Iterable[str]:
        if ascii_fmt:
            candidates: Iterable[str] = map("".join, itertools.product(tag_chars,
                                                                       repeat=fmt.tag_size))
        else:
            candidates = (i.to_bytes(fmt.tag_size, "big").hex().upper()
                          for i in range(256**fmt.tag_size))
        return (t for t in candidates if t not in taken)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, str]:
        out: dict[str, str] = {}
        remaining = hi
        # A fixed field keeps room for at least one exact filler TLV at the end.
        reserve = overhead if fixed else 0
        for _ in range(draw(st.integers(1 if lo else 0, max_entries))):
            if remaining - reserve < overhead:
                break
            tag = draw(tags)
            if tag in out:
                continue
            units = draw(st.integers(0, min(max_value, remaining - reserve - overhead)))
            out[tag] = draw(value(units))
            remaining -= overhead + units
        if lo and not out and not fixed and remaining >= overhead:
            out[draw(tags)] = ""
            remaining -= overhead
        if fixed:
            free = filler_tags(out)
            while remaining:
                if remaining - overhead <= max_value:
                    units = remaining - overhead
                else:
                    units = min(max_value, remaining - 2 * overhead)
                out[next(free)] = (value_chars[0] if ascii_fmt else "00") * units
                remaining -= overhead + units
        return out

    return build()


# --------------------------------------------------------------------------- BER-TLV


def _random_ber_tag(constructed: bool) -> SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        first = draw(st.integers(0x01, 0xFE))
        first = first | 0x20 if constructed else first & ~0x20
        if first == 0x00:
            first = 0x01
        if first == 0xFF:
            first = 0xFE
        tag = [first]
        if first & 0x1F == 0x1F:  # multi-byte tag: continuation bytes, last one with b8 clear
            tag += draw(st.lists(st.integers(0x80, 0xFF), max_size=1))
            tag.append(draw(st.integers(0x00, 0x7F)))
        return bytes(tag).hex().upper()

    return build()


def _ber_tags(allow_constructed: bool) -> SearchStrategy[str]:
    options = [st.sampled_from(_EMV_PRIMITIVE), _random_ber_tag(False)]
    if allow_constructed:
        options += [st.sampled_from(_EMV_CONSTRUCTED), _random_ber_tag(True)]
    return st.one_of(options)


def _max_body(remaining: int, tag_len: int) -> int:
    """Largest primitive value (bytes) whose TLV fits ``remaining`` bytes; -1 if none."""
    body = remaining - tag_len - 1
    while body >= 0 and tag_len + _lenlen(body) + body > remaining:
        body -= 1
    return body


def _draw_ber_level(
    draw: st.DrawFn, budget: int, depth: int, max_entries: int, max_value: int, min_entries: int
) -> BerTlvTree:
    tree: BerTlvTree = {}
    used = 0
    for _ in range(draw(st.integers(min_entries, max_entries))):
        remaining = budget - used
        if remaining < 2:
            break
        tag = draw(_ber_tags(depth > 0))
        size = len(tag) // 2
        if tag in tree or remaining < size + 1:
            continue
        if int(tag[:2], 16) & 0x20:
            room = remaining - size
            child = _draw_ber_level(draw, room - _lenlen(room), depth - 1, max_entries,
                                    max_value, 0)
            tree[tag] = child
            body = _ber_size(child)
        else:
            value = draw(_binary(0, min(max_value, _max_body(remaining, size))))
            tree[tag] = value.hex().upper()
            body = len(value)
        used += size + _lenlen(body) + body
    if len(tree) < min_entries and budget - used >= 2:
        tree[next(t for t in _BER_FILLER_TAGS if t not in tree)] = ""
    return tree


def _ber_fill(tree: BerTlvTree, gap: int) -> None:
    """Add primitive filler TLVs taking exactly ``gap`` (0 or >= 2) more bytes."""
    free = (t for t in _BER_FILLER_TAGS if t not in tree)
    while gap:
        body = 0  # fallback: an empty TLV (2 bytes), then try again with what is left
        for width in (1, 2, 3, 4):
            candidate = gap - 1 - width
            if candidate >= 0 and _lenlen(candidate) == width:
                body = candidate
                break
        tree[next(free)] = "00" * body
        gap -= 1 + _lenlen(body) + body


def ber_tlv_trees(
    max_depth: int = 2,
    *,
    max_size: int = 64,
    max_entries: int = 4,
    max_value: int = 32,
    min_entries: int = 0,
) -> SearchStrategy[BerTlvTree]:
    """BER-TLV tag trees (field 55 style) that encode to at most ``max_size`` bytes.

    Keys are uppercase hex tags (EMV ones and random valid one-to-three-byte tags), values
    uppercase hex strings for primitive tags and nested trees for constructed ones, up to
    ``max_depth`` levels of templates (0: primitives only). Only canonical trees are produced
    (no padding, no duplicate tags), the form ``decode_ber_tlv`` returns.
    """
    for name, value in (("max_depth", max_depth), ("max_size", max_size),
                        ("max_entries", max_entries), ("max_value", max_value),
                        ("min_entries", min_entries)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidArgument(f"{name} must be an int >= 0, got {value!r}")
    if min_entries > max_entries:
        raise InvalidArgument(f"min_entries {min_entries} > max_entries {max_entries}")

    @st.composite
    def build(draw: st.DrawFn) -> BerTlvTree:
        return _draw_ber_level(draw, max_size, max_depth, max_entries, max_value, min_entries)

    return build()


def _ber_field(where: str, fs: FieldSpec, lo: int, hi: int) -> SearchStrategy[BerTlvTree]:
    if fs.kind is not Kind.B:
        raise InvalidArgument(f"{where}: BER-TLV needs a binary (b) field")
    if not fs.fixed:
        return ber_tlv_trees(max_size=hi, min_entries=1 if lo else 0)
    if hi == 1:
        raise InvalidArgument(f"{where}: one byte cannot hold a BER-TLV object")

    @st.composite
    def exact(draw: st.DrawFn) -> BerTlvTree:
        tree = _draw_ber_level(draw, max(hi - 2, 0), 2, 4, 32, 0)
        _ber_fill(tree, hi - _ber_size(tree))
        return tree

    return exact()


# --------------------------------------------------------------------------- public API


def field_spec_values(
    fs: FieldSpec,
    *,
    max_text: int | None = DEFAULT_MAX_TEXT,
    allow_empty: bool = True,
    where: str = "field",
) -> SearchStrategy[Any]:
    """Valid values of one :class:`FieldSpec` (also for fields not in any :class:`Spec`).

    ``where`` only names the field in :class:`InvalidArgument` errors about impossible specs.
    """
    lo, hi = _capped(fs, where, max_text, allow_empty)
    comp = fs.composite
    if comp is None:
        return _plain(fs, lo, hi)
    full = _unit_range(fs, where)[1]
    if isinstance(comp, BerTlv):
        return _ber_field(where, fs, lo, hi)
    if isinstance(comp, Positional):
        return _positional(where, fs, comp, lo, hi, full)
    if isinstance(comp, TlvFormat):
        return _simple_tlv(where, fs, comp, lo, hi)
    raise InvalidArgument(f"{where}: unknown composite {comp!r}")


def field_values(
    spec: Spec,
    number: int,
    *,
    max_text: int | None = DEFAULT_MAX_TEXT,
    allow_empty: bool = True,
) -> SearchStrategy[Any]:
    """Valid values for field ``number`` of ``spec``: the exact form ``unpack`` returns."""
    fs = spec.fields.get(number)
    if fs is None:
        raise InvalidArgument(f"field {number} is not defined by dialect {spec.name}")
    return field_spec_values(fs, max_text=max_text, allow_empty=allow_empty,
                             where=f"field {number}")


def mtis() -> SearchStrategy[str]:
    """Realistic MTIs: version 0-2, class 1-8, function 0-5, origin 0-5 (e.g. 0200, 1420)."""
    return st.builds(
        lambda *parts: "".join(parts),
        st.sampled_from("012"),
        st.sampled_from("12345678"),
        st.sampled_from("012345"),
        st.sampled_from("012345"),
    )


def messages(
    spec: Spec,
    *,
    mti: str | SearchStrategy[str] | None = None,
    fields: Iterable[int] | None = None,
    required: Iterable[int] = (),
    max_fields: int = 20,
    max_text: int | None = DEFAULT_MAX_TEXT,
    allow_empty: bool = True,
) -> SearchStrategy[Message]:
    """Valid messages of ``spec``: ``required`` fields plus a random subset of ``fields``.

    ``fields`` defaults to every field of the dialect; at most ``max_fields`` fields are
    present (``required`` ones always, even beyond the cap). ``mti`` is a fixed MTI, a
    strategy, or ``None`` for :func:`mtis`.
    """
    defined = set(spec.fields)
    must = sorted(set(required))
    pool = sorted(defined if fields is None else set(fields))
    unknown = [n for n in (*must, *pool) if n not in defined]
    if unknown:
        raise InvalidArgument(f"fields {unknown} are not defined by dialect {spec.name}")
    if isinstance(max_fields, bool) or not isinstance(max_fields, int) or max_fields < 0:
        raise InvalidArgument(f"max_fields must be an int >= 0, got {max_fields!r}")
    mti_strategy: SearchStrategy[str]
    if mti is None:
        mti_strategy = mtis()
    elif isinstance(mti, str):
        if len(mti) != 4 or not (mti.isascii() and mti.isdigit()):
            raise InvalidArgument(f"mti must be 4 digits, got {mti!r}")
        mti_strategy = st.just(mti)
    elif isinstance(mti, SearchStrategy):
        mti_strategy = mti
    else:
        raise InvalidArgument(f"mti must be a str, a strategy or None, got {mti!r}")
    optional = [n for n in pool if n not in must]
    values = {n: field_values(spec, n, max_text=max_text, allow_empty=allow_empty)
              for n in (*must, *optional)}
    picks = (st.lists(st.sampled_from(optional), unique=True,
                      max_size=max(0, max_fields - len(must)))
             if optional else st.just([]))

    @st.composite
    def build(draw: st.DrawFn) -> Message:
        code = draw(mti_strategy)
        numbers = sorted({*must, *draw(picks)})
        return Message(code, {n: draw(values[n]) for n in numbers})

    return build()


def packed_messages(spec: Spec, **kwargs: Any) -> SearchStrategy[bytes]:
    """Wire bytes of :func:`messages` (same keyword arguments), packed with ``spec``."""
    return messages(spec, **kwargs).map(spec.codec.pack)
