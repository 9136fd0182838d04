"""The field table's vocabulary: data kinds, encodings and one field's wire layout.

These types are plain frozen data, the lowest layer of the package: the field constructs
(``iso8583.fields``, ``iso8583.composite``), the message construct (``iso8583.codec``) and the
dialect (``iso8583.spec``) all read them, and they import nothing but the TLV formats.

Field anatomy (every part but the data optional)::

    | length prefix (LL, LLL, LLLL digits: ASCII, EBCDIC, BCD or binary) | data (encoded) |

Lengths count *units* of the value: characters for text, digits for packed BCD, bytes for
binary; ``LengthUnit.WIRE`` instead counts encoded bytes (pyiso8583 counts hex characters of
binary fields in its ASCII spec, jPOS counts bytes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from iso8583.tlv import TlvFormat

__all__ = [
    "TEXT_KINDS",
    "BerTlv",
    "BitmapEncoding",
    "Composite",
    "DialectTable",
    "Encoding",
    "FieldSpec",
    "Kind",
    "LengthUnit",
    "Mask",
    "Pad",
    "Positional",
]


class Kind(StrEnum):
    """ISO 8583 data types."""

    N = "n"  # digits
    A = "a"  # letters and space
    AN = "an"  # letters, digits and space
    ANS = "ans"  # printable characters
    B = "b"  # binary bytes
    Z = "z"  # track 2/3 data: digits and the '=' separator
    XN = "x+n"  # 'C' (credit) or 'D' (debit) followed by digits: signed amounts


TEXT_KINDS = frozenset({Kind.N, Kind.A, Kind.AN, Kind.ANS, Kind.Z, Kind.XN})


class Encoding(StrEnum):
    """How data (or a length prefix) is represented in bytes."""

    ASCII = "ascii"
    EBCDIC = "ebcdic"  # code page cp500 unless the spec says cp037
    BCD = "bcd"  # packed BCD, two digits a byte
    BINARY = "binary"  # raw bytes; for a length prefix, an unsigned big-endian integer
    HEX = "hex"  # binary data written as hex-ASCII characters (two per byte)


class BitmapEncoding(StrEnum):
    BINARY = "binary"  # 8 bytes per bitmap
    HEX = "hex"  # 16 hex-ASCII characters per bitmap
    EBCDIC_HEX = "ebcdic-hex"  # 16 hex characters in EBCDIC


class Pad(StrEnum):
    """Where the pad nibble of an odd-length BCD number goes."""

    LEFT = "left"  # right-aligned digits: 0123 for 123
    RIGHT = "right"  # left-aligned digits: 1230 (common for track data, PAN in some networks)


class LengthUnit(StrEnum):
    VALUE = "value"  # characters, digits or bytes of the value
    WIRE = "wire"  # encoded bytes on the wire (only differs for HEX binary data)


class Mask(StrEnum):
    """How ``describe`` shows a field by default: sensitive data never reaches a log in clear."""

    NONE = "none"
    PAN = "pan"  # first 6 and last 4 digits
    TRACK = "track"  # PAN part masked, the rest hidden
    SECRET = "secret"  # PIN block, CVV, keys: length only
    EMV = "emv"  # chip data: tags kept, values hidden


@dataclass(frozen=True, slots=True)
class Positional:
    """Subfields one after the other, keyed "1", "2", ...; trailing ones may be absent."""

    subfields: tuple[FieldSpec, ...]


@dataclass(frozen=True, slots=True)
class BerTlv:
    """BER-TLV (EMV chip data in field 55): multi-byte tags, long lengths, constructed tags."""


#: Private tag-length-value subfields (fields 48, 60-63, 127 of many networks) are a TlvFormat.
Composite = Positional | TlvFormat | BerTlv


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a dialect. ``max_len`` is the exact length of a fixed field (``prefix=0``)."""

    name: str
    kind: Kind
    max_len: int
    prefix: int = 0  # number of length digits: 0 (fixed), 2 (LL), 3 (LLL), 4 (LLLL)
    encoding: Encoding = Encoding.ASCII
    prefix_encoding: Encoding = Encoding.ASCII
    pad: Pad = Pad.LEFT
    pad_nibble: str = "0"
    length_unit: LengthUnit = LengthUnit.VALUE
    codepage: str = "cp500"  # for EBCDIC data or prefixes
    composite: Composite | None = None
    mask: Mask = Mask.NONE

    @property
    def fixed(self) -> bool:
        return self.prefix == 0

    def with_(self, **changes: Any) -> FieldSpec:
        return replace(self, **changes)


class DialectTable(Protocol):
    """What the message construct reads of a dialect (``iso8583.spec.Spec`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def fields(self) -> Mapping[int, FieldSpec]: ...
    @property
    def mti_encoding(self) -> Encoding: ...
    @property
    def bitmap_encoding(self) -> BitmapEncoding: ...
    @property
    def tertiary_bitmap(self) -> bool: ...
    @property
    def codepage(self) -> str: ...
    @property
    def max_field(self) -> int: ...
