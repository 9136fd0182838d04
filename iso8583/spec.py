"""Dialects as data: what each field of a message looks like on the wire.

A :class:`Spec` is a table of :class:`FieldSpec` rows plus the MTI and bitmap encodings and the
TCP framing. It is plain, frozen data so it can be written by hand (``iso8583.dialects``),
loaded from a JSON/TOML file or converted from a jPOS GenericPackager; ``iso8583.codec`` turns it
into fast pack/unpack functions once, when the spec is first used.

Field anatomy (every part but the data optional)::

    | length prefix (LL, LLL, LLLL digits: ASCII, EBCDIC, BCD or binary) | data (encoded) |

Lengths count *units* of the value: characters for text, digits for packed BCD, bytes for
binary; ``LengthUnit.WIRE`` instead counts encoded bytes (pyiso8583 counts hex characters of
binary fields in its ASCII spec, jPOS counts bytes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from iso8583.errors import SpecError
from iso8583.tlv import TlvFormat

if TYPE_CHECKING:
    from iso8583.codec import MessageCodec
    from iso8583.framing import FrameFormat

__all__ = [
    "BerTlv",
    "BitmapEncoding",
    "Composite",
    "Encoding",
    "FieldSpec",
    "Kind",
    "LengthUnit",
    "Mask",
    "Pad",
    "Positional",
    "Spec",
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


@dataclass(frozen=True)
class Spec:
    """A complete dialect: MTI, bitmaps, fields and how messages are framed on TCP."""

    name: str
    description: str
    fields: Mapping[int, FieldSpec]
    mti_encoding: Encoding = Encoding.ASCII
    bitmap_encoding: BitmapEncoding = BitmapEncoding.HEX
    tertiary_bitmap: bool = False  # field 65 is then the bitmap of fields 129-192
    codepage: str = "cp500"
    framing: FrameFormat | None = field(default=None, compare=False)

    def __hash__(self) -> int:  # equal specs share a name; the field table is not hashable
        return hash(self.name)

    @property
    def frame_format(self) -> FrameFormat:
        """The dialect's TCP framing; a 2-byte binary length header unless it says otherwise."""
        from iso8583.framing import FrameFormat

        return self.framing or FrameFormat()

    @property
    def max_field(self) -> int:
        return 192 if self.tertiary_bitmap else 128

    @cached_property
    def codec(self) -> MessageCodec:
        """Compiled once per spec, on first use."""
        from iso8583.codec import MessageCodec

        return MessageCodec(self)

    def field_name(self, number: int) -> str:
        fs = self.fields.get(number)
        return fs.name if fs else f"Field {number}"

    def validate(self) -> Spec:
        """Check the table once so that packing never meets an impossible definition."""
        from iso8583.codec import compile_field

        where = f"spec {self.name}"
        for number in self.fields:
            if not 2 <= number <= self.max_field:
                raise SpecError(
                    f"field number {number} is outside 2..{self.max_field}", where=where
                )
            if self.tertiary_bitmap and number == 65:
                raise SpecError(
                    "field 65 is the tertiary bitmap and cannot be defined", where=where
                )
        try:
            "0".encode(self.codepage)
        except LookupError:
            raise SpecError(f"unknown code page {self.codepage!r}", where=where) from None
        for number, fs in self.fields.items():
            compile_field(str(number), fs)  # raises SpecError naming the field
        if self.mti_encoding not in (Encoding.ASCII, Encoding.BCD, Encoding.EBCDIC):
            raise SpecError(
                f"MTI encoding {self.mti_encoding} is not ascii, bcd or ebcdic",
                where=f"spec {self.name}",
            )
        return self
