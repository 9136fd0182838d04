"""Errors of the QR payment core.

One subtree of ``TerminalError`` so the UI can catch every QR failure at once and still
print a precise line::

    QrError
    ├── MpmError             a merchant-presented payload breaks the EMVCo MPM rules
    │   └── MpmCrcError      ... and specifically its ID 63 CRC does not match
    ├── CpmError             a consumer-presented EMVCo CPM code is malformed
    ├── PaymentCodeError     a plain numeric wallet code is malformed
    └── QrRenderError        a payload cannot be drawn as a QR symbol

Every error carries ``reason`` (what is wrong), ``offset`` (where: a character index for
MPM and numeric codes, a byte index into the Base64-decoded data for CPM) and ``tag`` (the
MPM ID path such as ``"62.05"`` or the BER-TLV tag path such as ``"61.5A"``). Messages never
contain a PAN or track data, only tags and offsets.
"""

from __future__ import annotations

from typing import ClassVar

from terminal.core.errors import TerminalError

__all__ = [
    "CpmError",
    "MpmCrcError",
    "MpmError",
    "PaymentCodeError",
    "QrError",
    "QrRenderError",
]


class QrError(TerminalError, ValueError):
    """Base of every QR error; renders as ``ID 62.05 at char 130: <reason>``."""

    noun: ClassVar[str] = "ID"
    default_unit: ClassVar[str] = "char"

    def __init__(
        self,
        reason: str,
        *,
        offset: int | None = None,
        tag: str | None = None,
        unit: str | None = None,
    ) -> None:
        self.reason = reason
        self.offset = offset
        self.tag = tag
        self.unit = unit or self.default_unit
        where = []
        if tag is not None:
            where.append(f"{self.noun} {tag}")
        if offset is not None:
            where.append(f"at {self.unit} {offset}")
        super().__init__(f"{' '.join(where)}: {reason}" if where else reason)


class MpmError(QrError):
    """An EMVCo merchant-presented payload is structurally or semantically invalid."""


class MpmCrcError(MpmError):
    """The ID 63 CRC differs from the one computed; ``found`` and ``computed`` are hex."""

    def __init__(self, *, found: str, computed: str, offset: int | None = None) -> None:
        self.found = found
        self.computed = computed
        super().__init__(
            f"CRC mismatch: payload says {found}, computed {computed}", offset=offset, tag="63"
        )


class CpmError(QrError):
    """An EMVCo consumer-presented code is invalid; offsets count bytes unless ``unit`` says."""

    noun: ClassVar[str] = "tag"
    default_unit: ClassVar[str] = "byte"


class PaymentCodeError(QrError):
    """A scanned customer payment code is neither a valid numeric code nor CPM data."""


class QrRenderError(QrError):
    """A payload cannot be encoded as a QR symbol (too long, unencodable, bad border)."""
