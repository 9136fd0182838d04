"""ISO 8583 for payments engineers: dialects as data, messages and frames as construct objects
(``spec.construct``, fast ``pack``/``unpack``), framing, crypto.

>>> from iso8583 import Message, get_spec, pack, unpack
>>> spec = get_spec("iso87ascii")
>>> raw = pack(Message("0800", {7: "1123071200", 11: "000001", 70: "301"}), spec)
>>> unpack(raw, spec).fields[70]
'301'

Errors are all :class:`Iso8583Error` (see ``iso8583.errors``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from iso8583.errors import (
    CryptoError,
    DecodeError,
    EncodeError,
    FramingError,
    Iso8583Error,
    MacMismatchError,
    SpecError,
)
from iso8583.message import Message

if TYPE_CHECKING:
    from iso8583.dialects import get_spec, spec_names
    from iso8583.framing import Frame, FrameFormat, LengthHeader, StreamFramer, Tpdu
    from iso8583.spec import (
        BerTlv,
        BitmapEncoding,
        Encoding,
        FieldSpec,
        Kind,
        LengthUnit,
        Mask,
        Pad,
        Positional,
        Spec,
    )
    from iso8583.tlv import TlvEncoding, TlvFormat

#: Names loaded on first use: ``import iso8583.masking`` (or the errors) must not pay for
#: construct and the compiled dialects, which a CLI command that only masks never needs.
_LAZY = {
    **dict.fromkeys(("get_spec", "spec_names"), "iso8583.dialects"),
    **dict.fromkeys(
        ("Frame", "FrameFormat", "LengthHeader", "StreamFramer", "Tpdu"), "iso8583.framing"
    ),
    **dict.fromkeys(
        (
            "BerTlv",
            "BitmapEncoding",
            "Encoding",
            "FieldSpec",
            "Kind",
            "LengthUnit",
            "Mask",
            "Pad",
            "Positional",
            "Spec",
        ),
        "iso8583.spec",
    ),
    **dict.fromkeys(("TlvEncoding", "TlvFormat"), "iso8583.tlv"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'iso8583' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "BerTlv",
    "BitmapEncoding",
    "CryptoError",
    "DecodeError",
    "EncodeError",
    "Encoding",
    "FieldSpec",
    "Frame",
    "FrameFormat",
    "FramingError",
    "Iso8583Error",
    "Kind",
    "LengthHeader",
    "LengthUnit",
    "MacMismatchError",
    "Mask",
    "Message",
    "Pad",
    "Positional",
    "Spec",
    "SpecError",
    "StreamFramer",
    "TlvEncoding",
    "TlvFormat",
    "Tpdu",
    "get_spec",
    "pack",
    "spec_names",
    "unpack",
]


def pack(message: Message, spec: Spec) -> bytes:
    """Encode ``message`` with ``spec``; raises :class:`EncodeError` naming the field."""
    return spec.construct.pack(message)


def unpack(data: bytes | bytearray | memoryview, spec: Spec) -> Message:
    """Decode one message; raises :class:`DecodeError` with field, offset and partial message."""
    return spec.construct.unpack(data)
