"""Dialects as data: what each field of a message looks like on the wire.

A :class:`Spec` is a table of :class:`FieldSpec` rows plus the MTI and bitmap encodings and the
TCP framing. It is plain, frozen data so it can be written by hand (``iso8583.dialects``),
loaded from a JSON/TOML file or converted from a jPOS GenericPackager. ``spec.construct`` is the
message as a construct (``iso8583.codec``), built from the table once, on first use. The field
vocabulary (``FieldSpec``, ``Kind``, ``Encoding``...) lives in ``iso8583.fieldspec`` and is
re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from iso8583.codec import MessageConstruct
from iso8583.fieldspec import (
    TEXT_KINDS,
    BerTlv,
    BitmapEncoding,
    Composite,
    Encoding,
    FieldSpec,
    Kind,
    LengthUnit,
    Mask,
    Pad,
    Positional,
)
from iso8583.framing import FrameFormat

__all__ = [
    "TEXT_KINDS",
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
        return self.framing or FrameFormat()

    @property
    def max_field(self) -> int:
        return 192 if self.tertiary_bitmap else 128

    @cached_property
    def construct(self) -> MessageConstruct:
        """The message as a construct (``iso8583.codec``), built once per spec on first use."""
        return MessageConstruct(self)

    @property
    def codec(self) -> MessageConstruct:
        """The same construct under its older name."""
        return self.construct

    def field_name(self, number: int) -> str:
        fs = self.fields.get(number)
        return fs.name if fs else f"Field {number}"

    def validate(self) -> Spec:
        """Check the table once so that packing never meets an impossible definition.

        Building the message construct is the check (SpecError names the field); it is kept.
        """
        _ = self.construct
        return self
