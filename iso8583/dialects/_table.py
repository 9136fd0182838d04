"""Shared helpers to turn compact field tables into :class:`FieldSpec` rows.

A row is ``(number, kind, max_len, prefix_digits, name)``; an *encoding policy* decides how each
kind travels in a given dialect (all-ASCII, BCD-and-binary, ...), so the ISO field tables are
written once and reused by every dialect built on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from iso8583.spec import Encoding, FieldSpec, Kind, LengthUnit, Mask, Pad

__all__ = ["DEFAULT_MASKS", "Row", "ascii_policy", "bcd_policy", "build_fields"]

Row = tuple[int, str, int, int, str]
Policy = Callable[[int, Kind, int, int, str], FieldSpec]

#: Which standard fields carry cardholder data, and how ``describe`` hides them.
DEFAULT_MASKS: Mapping[int, Mask] = {
    2: Mask.PAN,
    34: Mask.PAN,
    35: Mask.TRACK,
    36: Mask.TRACK,
    45: Mask.TRACK,
    52: Mask.SECRET,
    55: Mask.EMV,
}


def ascii_policy(*, binary_units: LengthUnit = LengthUnit.VALUE) -> Policy:
    """Everything as ASCII characters; binary data as hex-ASCII."""

    def make(number: int, kind: Kind, max_len: int, prefix: int, name: str) -> FieldSpec:
        binary = kind is Kind.B
        return FieldSpec(
            name=name,
            kind=kind,
            max_len=max_len,
            prefix=prefix,
            encoding=Encoding.HEX if binary else Encoding.ASCII,
            prefix_encoding=Encoding.ASCII,
            length_unit=binary_units if binary and prefix else LengthUnit.VALUE,
            mask=DEFAULT_MASKS.get(number, Mask.NONE),
        )

    return make


def bcd_policy(*, variable_pad: Pad = Pad.LEFT, track_pad: str = "F") -> Policy:
    """Numbers and lengths as packed BCD, text as ASCII, binary data as raw bytes."""

    def make(number: int, kind: Kind, max_len: int, prefix: int, name: str) -> FieldSpec:
        if kind is Kind.B:
            encoding = Encoding.BINARY
        elif kind in (Kind.N, Kind.XN, Kind.Z):
            encoding = Encoding.BCD
        else:
            encoding = Encoding.ASCII
        pad, nibble = Pad.LEFT, "0"
        if kind is Kind.Z:
            pad, nibble = Pad.RIGHT, track_pad
        elif prefix and kind is Kind.N:
            pad = variable_pad
        return FieldSpec(
            name=name,
            kind=kind,
            max_len=max_len,
            prefix=prefix,
            encoding=encoding,
            prefix_encoding=Encoding.BCD,
            pad=pad,
            pad_nibble=nibble,
            mask=DEFAULT_MASKS.get(number, Mask.NONE),
        )

    return make


def build_fields(rows: Iterable[Row], policy: Policy) -> dict[int, FieldSpec]:
    return {
        n: policy(n, Kind(kind), max_len, prefix, name) for n, kind, max_len, prefix, name in rows
    }
