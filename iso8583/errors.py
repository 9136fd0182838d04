"""The one error tree of the ``iso8583`` package.

Every failure this package can raise is one of these; nothing else escapes a public call
(no ``IndexError``, ``UnicodeDecodeError`` or construct internals)::

    Iso8583Error
    ├── SpecError          a dialect definition (built-in, JSON/TOML file, jPOS XML) is invalid
    ├── EncodeError        a value breaks its field's rules while packing
    ├── DecodeError        bytes do not form a message of the dialect (keeps the partial message)
    ├── FramingError       a TCP stream frame is invalid (bad or oversized length header, TPDU)
    └── CryptoError        a key, PIN or MAC input is invalid, or a MAC does not verify
        └── MacMismatchError

Errors carry structured context (field number, subfield or TLV tag, byte offset) so that
callers such as the CLI can print one precise line and a host can answer with a format error.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CryptoError",
    "DecodeError",
    "EncodeError",
    "FramingError",
    "Iso8583Error",
    "MacMismatchError",
    "SpecError",
]


#: How the message's own parts are named to a person (``field`` keeps pyiso8583's keys).
_PART_NAMES = {"t": "MTI", "p": "primary bitmap", "1": "secondary bitmap"}


def _location(field: str | None, path: tuple[str, ...]) -> str:
    """Render ``field 55 tag 9F02`` (or ``MTI``, ``primary bitmap``) style locations."""
    parts = []
    if field is not None:
        parts.append(_PART_NAMES.get(field, f"field {field}"))
    parts.extend(path)
    return " ".join(parts)


class Iso8583Error(Exception):
    """Base of every error raised by the iso8583 package."""


class SpecError(Iso8583Error):
    """A dialect definition is invalid; ``where`` names the file, line or field."""

    def __init__(self, reason: str, *, where: str | None = None) -> None:
        self.reason = reason
        self.where = where
        super().__init__(f"{where}: {reason}" if where else reason)


class EncodeError(Iso8583Error):
    """A value cannot be packed into its field.

    ``field`` is the field key as a string ("t" for the MTI, "2".."192" for data fields,
    "h" for the header); ``path`` names subfields or TLV tags inside it.
    """

    def __init__(
        self, reason: str, *, field: str | None = None, path: tuple[str, ...] = ()
    ) -> None:
        self.reason = reason
        self.field = field
        self.path = path
        where = _location(field, path)
        super().__init__(f"{where}: {reason}" if where else reason)


class DecodeError(Iso8583Error):
    """Bytes do not form a valid message.

    ``offset`` is the byte offset from the start of the unpacked buffer where the fault was
    found; ``partial`` holds everything decoded before it (``{"t": ..., "fields": {...}}``)
    so a host can still answer with the STAN and terminal ID of a broken request.
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        offset: int | None = None,
        path: tuple[str, ...] = (),
        partial: Any = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.offset = offset
        self.path = path
        self.partial = partial
        where = _location(field, path)
        at = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{where}{at}: {reason}" if where else f"{reason}{at}")


class FramingError(Iso8583Error):
    """A frame in a byte stream is invalid; ``offset`` is relative to the stream buffer."""

    def __init__(self, reason: str, *, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(f"{reason} at byte {offset}" if offset is not None else reason)


class CryptoError(Iso8583Error):
    """A key, PIN, PAN or MAC input is invalid. Never carries key material in its text."""


class MacMismatchError(CryptoError):
    """A received MAC does not match the MAC computed over the message."""
