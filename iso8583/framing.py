"""TCP framing: how one ISO 8583 message travels on a byte stream.

TCP delivers a stream, not messages, so every acquirer link prefixes each message with a length
header and often a TPDU and a fixed network header. This module turns payloads into frames and
a stream of reads back into frames. It is pure: no sockets, the transport feeds the bytes it read.

A frame is one construct, :attr:`FrameFormat.construct`, compiled by construct's compiler::

    Struct("length" / Rebuild(<length header>, len_(this.payload) + <TPDU + header [+ own]>),
           "tpdu" / Struct("id" / Int8ub, "destination" / Int16ub, "source" / Int16ub),
           "header" / Bytes(header_length),
           "payload" / Bytes(this.length - <TPDU + header [+ own]>))

(parts the format lacks are left out). :meth:`FrameFormat.wrap` builds every frame with it and
:meth:`FrameFormat.unwrap` and :class:`StreamFramer` parse every frame with it; the length
header construct alone is read first, as soon as its bytes arrive, so that a bad or oversized
length is refused without waiting for a body. Construct and ``struct`` errors never escape
(``FramingError``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from construct import (
    Adapter,
    Bytes,
    Construct,
    ConstructError,
    GreedyBytes,
    Int8ub,
    Int16ub,
    Rebuild,
    Struct,
    len_,
    this,
)

from iso8583.errors import FramingError, SpecError

__all__ = ["Frame", "FrameFormat", "LengthHeader", "StreamFramer", "Tpdu"]

_TPDU_SIZE = 5
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class LengthHeader(Enum):
    """How the frame length is written in front of each frame."""

    NONE = "none"  # no length header: only a whole, already delimited frame can be unwrapped
    BINARY2 = "binary2"  # 2-byte unsigned big-endian integer
    ASCII4 = "ascii4"  # 4 ASCII decimal digits, "0123"
    BCD2 = "bcd2"  # 2 bytes of packed BCD, 01 23 (at most 9999)

    @property
    def size(self) -> int:
        """Bytes the header itself occupies."""
        return _HEADER_SIZE[self]

    @property
    def max_value(self) -> int:
        """Largest number the header can express."""
        return _HEADER_MAX[self]


_HEADER_SIZE = {
    LengthHeader.NONE: 0,
    LengthHeader.BINARY2: 2,
    LengthHeader.ASCII4: 4,
    LengthHeader.BCD2: 2,
}
_HEADER_MAX = {
    LengthHeader.NONE: 0,
    LengthHeader.BINARY2: 0xFFFF,
    LengthHeader.ASCII4: 9999,
    LengthHeader.BCD2: 9999,
}


class _LengthValueError(ConstructError):
    """A length header whose bytes are not a number in its notation."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class _AsciiDecimal(Adapter):
    """Fixed-width ASCII decimal digits <-> int; signs and spaces are refused, unlike ``int()``."""

    def _decode(self, obj: bytes, context: Any, path: Any) -> int:
        if not obj.isdigit():  # bytes.isdigit() accepts ASCII 0-9 only
            raise _LengthValueError(f"non-digit ASCII length header {obj!r}")
        return int(obj)

    def _encode(self, obj: int, context: Any, path: Any) -> bytes:
        return b"%0*d" % (self.sizeof(), obj)


class _PackedBcd(Adapter):
    """Fixed-width packed BCD (two decimal digits per byte) <-> int."""

    def _decode(self, obj: bytes, context: Any, path: Any) -> int:
        digits = obj.hex()
        if not digits.isdigit():
            raise _LengthValueError(f"invalid BCD nibble in length header {digits.upper()}")
        return int(digits)

    def _encode(self, obj: int, context: Any, path: Any) -> bytes:
        return bytes.fromhex(f"{obj:0{2 * self.sizeof()}d}")


_LENGTH_CODECS: dict[LengthHeader, Construct] = {
    LengthHeader.BINARY2: Int16ub,
    LengthHeader.ASCII4: _AsciiDecimal(Bytes(4)),
    LengthHeader.BCD2: _PackedBcd(Bytes(2)),
}

_TPDU_STRUCT = Struct("id" / Int8ub, "destination" / Int16ub, "source" / Int16ub)
_TPDU_CODEC = _TPDU_STRUCT  # Tpdu.to_bytes/from_bytes: configuration, not the hot path

# Errors construct (or its compiled parsers, which call struct directly) can raise.
_CODEC_ERRORS = (ConstructError, struct.error, ValueError, TypeError)


@lru_cache(maxsize=64)
def _prefix_size(tpdu: bool, header_length: int) -> int:
    return int(_prefix_codec(tpdu, header_length).sizeof())


@lru_cache(maxsize=64)
def _prefix_codec(tpdu: bool, header_length: int) -> Construct:
    """The compiled TPDU + fixed header layout of one frame format (shared between formats)."""
    fields = []
    if tpdu:
        fields.append("tpdu" / _TPDU_STRUCT)
    if header_length:
        fields.append("header" / Bytes(header_length))
    return Struct(*fields).compile()


@lru_cache(maxsize=64)
def _frame_codec(
    kind: LengthHeader, includes_itself: bool, tpdu: bool, header_length: int
) -> Construct:
    """The whole frame of one format as a compiled construct (see the module docstring)."""
    fields = []
    around = _prefix_size(tpdu, header_length) + (kind.size if includes_itself else 0)
    if kind is not LengthHeader.NONE:
        fields.append("length" / Rebuild(_LENGTH_CODECS[kind], len_(this.payload) + around))
    if tpdu:
        fields.append("tpdu" / _TPDU_STRUCT)
    if header_length:
        fields.append("header" / Bytes(header_length))
    if kind is LengthHeader.NONE:
        fields.append("payload" / GreedyBytes)
    else:
        fields.append("payload" / Bytes(this.length - around))
    return Struct(*fields).compile()


@dataclass(frozen=True)
class Tpdu:
    """Transport Protocol Data Unit: routes a message through a NAC/NII network.

    ::

        | id (1) | destination (2) | source (2) |      e.g. 60 0001 0000
    """

    id: int = 0x60
    destination: int = 0
    source: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, int):
            raise FramingError(f"TPDU id must be an int, got {self.id!r}")
        if not 0 <= self.id <= 0xFF:
            raise FramingError(f"TPDU id {self.id} out of range 0..0xFF")
        for name in ("destination", "source"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise FramingError(f"TPDU {name} must be an int, got {value!r}")
            if not 0 <= value <= 0xFFFF:
                raise FramingError(f"TPDU {name} {value} out of range 0..0xFFFF")

    def response(self) -> Tpdu:
        """The TPDU of the reply: the host sends back to where the request came from."""
        return Tpdu._checked(self.id, self.source, self.destination)

    @classmethod
    def _checked(cls, tid: int, destination: int, source: int) -> Tpdu:
        """A Tpdu from values already in range (parsed by the TPDU construct, or swapped)."""
        tpdu = object.__new__(cls)
        object.__setattr__(tpdu, "id", tid)
        object.__setattr__(tpdu, "destination", destination)
        object.__setattr__(tpdu, "source", source)
        return tpdu

    def to_bytes(self) -> bytes:
        """The 5 wire bytes."""
        return bytes(_TPDU_CODEC.build(self._as_container()))

    def hex(self) -> str:
        """Uppercase hex, the way TPDUs are written in configuration files."""
        return self.to_bytes().hex().upper()

    @classmethod
    def from_bytes(cls, data: bytes) -> Tpdu:
        """Parse exactly 5 bytes."""
        if len(data) != _TPDU_SIZE:
            raise FramingError(f"TPDU must be {_TPDU_SIZE} bytes, got {len(data)}")
        parsed = _TPDU_CODEC.parse(bytes(data))
        return cls(parsed.id, destination=parsed.destination, source=parsed.source)

    @classmethod
    def from_hex(cls, text: str) -> Tpdu:
        """Parse the configuration-file form, e.g. ``"6000010000"``."""
        cleaned = text.strip()
        if len(cleaned) != 2 * _TPDU_SIZE or not set(cleaned) <= _HEX_DIGITS:
            raise FramingError(f"TPDU must be {2 * _TPDU_SIZE} hex digits, got {text!r}")
        return cls.from_bytes(bytes.fromhex(cleaned))

    def _as_container(self) -> dict[str, int]:
        return {"id": self.id, "destination": self.destination, "source": self.source}


@dataclass(frozen=True)
class Frame:
    """One received frame: its routing parts and the ISO 8583 message bytes."""

    tpdu: Tpdu | None
    header: bytes
    payload: bytes


@dataclass(frozen=True)
class FrameFormat:
    """How a message is framed on one link.

    ::

        | length header | TPDU      | fixed header       | ISO 8583 message |
        | 0/2/4 bytes   | 0/5 bytes | header_length bytes| payload          |
                        |<------------- body: counted by the length -------->|

    The length counts the body only, or the body plus the header's own bytes when
    ``includes_itself`` is set. ``max_length`` bounds the body (everything after the length
    header) whatever ``includes_itself`` says, so that a limit keeps one meaning. A body of
    zero bytes is a keep-alive; it is valid only when the format has no TPDU and no fixed
    header (a longer body cannot be shorter than those).
    """

    length_header: LengthHeader = LengthHeader.BINARY2
    includes_itself: bool = False
    tpdu: bool = False
    header_length: int = 0
    max_length: int = 8192

    def __post_init__(self) -> None:
        if not isinstance(self.length_header, LengthHeader):
            raise SpecError(f"length_header must be a LengthHeader, got {self.length_header!r}")
        if self.length_header is LengthHeader.NONE and self.includes_itself:
            raise SpecError("includes_itself makes no sense without a length header")
        if self.header_length < 0:
            raise SpecError(f"header_length must not be negative, got {self.header_length}")
        if self.max_length < self.prefix_size:
            raise SpecError(
                f"max_length {self.max_length} is smaller than TPDU + header ({self.prefix_size})"
            )
        if self.length_header is not LengthHeader.NONE:
            own = self.length_header.size if self.includes_itself else 0
            capacity = self.length_header.max_value - own
            if self.max_length > capacity:
                raise SpecError(
                    f"max_length {self.max_length} exceeds what a {self.length_header.value} "
                    f"length header can express ({capacity})"
                )

    @property
    def prefix_size(self) -> int:
        """Bytes of TPDU plus fixed header in front of the ISO message."""
        return _prefix_size(self.tpdu, self.header_length)

    def wrap(self, payload: bytes, *, tpdu: Tpdu | None = None, header: bytes = b"") -> bytes:
        """Frame one ISO message for sending; an empty payload with no prefix is a keep-alive."""
        if self.tpdu and tpdu is None:
            raise FramingError("this frame format needs a TPDU")
        if not self.tpdu and tpdu is not None:
            raise FramingError("this frame format has no TPDU")
        if len(header) != self.header_length:
            raise FramingError(
                f"fixed header must be {self.header_length} bytes, got {len(header)}"
            )
        body_length = self.prefix_size + len(payload)
        if body_length > self.max_length:
            raise FramingError(
                f"frame body of {body_length} bytes exceeds max_length {self.max_length}"
            )
        container: dict[str, Any] = {"header": bytes(header), "payload": bytes(payload)}
        if tpdu is not None:
            container["tpdu"] = tpdu._as_container()
        try:
            return bytes(self.construct.build(container))
        except _CODEC_ERRORS as exc:  # pragma: no cover - inputs are validated above
            raise FramingError(f"cannot build frame: {exc}") from None

    @property
    def construct(self) -> Construct:
        """This format's frame (length, TPDU, header, payload bytes) as one construct."""
        return _frame_codec(self.length_header, self.includes_itself, self.tpdu, self.header_length)

    def unwrap(self, frame_bytes: bytes) -> Frame:
        """Split one complete frame; trailing or missing bytes are a FramingError.

        A keep-alive comes back as an empty ``Frame`` (no TPDU, header or payload).
        """
        data = bytes(frame_bytes)
        size = self.length_header.size
        if self.length_header is LengthHeader.NONE:
            body = len(data)
            self._check_body(body, declared=body, offset=0)
        else:
            if len(data) < size:
                raise FramingError(
                    f"frame of {len(data)} bytes is shorter than its {size}-byte length header",
                    offset=0,
                )
            body = self._read_length(data[:size], offset=0)
            if len(data) - size != body:
                raise FramingError(
                    f"length header declares {body} bytes but {len(data) - size} follow",
                    offset=size,
                )
        return self._parse_frame(data, offset=0)

    def _read_length(self, raw: bytes, *, offset: int) -> int:
        """Parse and validate a length header; returns the body length."""
        kind = self.length_header
        try:
            declared = int(_LENGTH_CODECS[kind].parse(raw))
        except _LengthValueError as exc:
            raise FramingError(exc.reason, offset=offset) from None
        except _CODEC_ERRORS as exc:
            raise FramingError(
                f"unreadable length header {raw.hex().upper()}: {exc}", offset=offset
            ) from None
        own = kind.size if self.includes_itself else 0
        if declared < own:
            raise FramingError(
                f"length {declared} is smaller than the length header itself ({own} bytes)",
                offset=offset,
            )
        body = declared - own
        self._check_body(body, declared=declared, offset=offset)
        return body

    def _check_body(self, body: int, *, declared: int, offset: int) -> None:
        if body > self.max_length:
            what = f"length {declared}" + (f" ({body} bytes of body)" if declared != body else "")
            raise FramingError(f"{what} exceeds max_length {self.max_length}", offset=offset)
        if 0 < body < self.prefix_size or (body == 0 and self.prefix_size):
            raise FramingError(
                f"length {declared} is smaller than TPDU + header ({self.prefix_size} bytes)",
                offset=offset,
            )

    def _parse_frame(self, frame: bytes, *, offset: int) -> Frame:
        """Parse one whole frame whose length header was validated by ``_read_length``."""
        try:
            parsed = self.construct.parse(frame)
        except _CODEC_ERRORS as exc:  # pragma: no cover - the length is validated before
            raise FramingError(f"unreadable frame: {exc}", offset=offset) from None
        tpdu = None
        if self.tpdu:
            t = parsed.tpdu
            tpdu = Tpdu._checked(t.id, t.destination, t.source)
        header = parsed.header if self.header_length else b""
        return Frame(tpdu=tpdu, header=header, payload=parsed.payload)


class StreamFramer:
    """Cuts one connection's byte stream into frames; create one per connection.

    ``feed`` returns every frame completed by the data so far (a read may hold several
    messages, or a fraction of one) and keeps the rest. ``needed`` is the "need more bytes"
    contract: how many more bytes complete the pending frame, at least 1 while one is pending,
    0 when idle. Keep-alives (zero-length frames, valid only without TPDU/header) yield nothing
    and are counted in ``keepalives``.

    A bad length header (non-digit, bad BCD, oversized, shorter than TPDU + header) is found as
    soon as its bytes arrive, without waiting for the body, and raises ``FramingError`` whose
    offset counts from the first byte ever fed. The stream cannot be resynchronised after
    that, so the framer stays failed: every later ``feed`` raises, and frames completed earlier
    in the failing call are dropped with the connection.
    """

    def __init__(self, frame_format: FrameFormat) -> None:
        if frame_format.length_header is LengthHeader.NONE:
            raise SpecError("a stream needs a length header to find frame boundaries")
        self.format = frame_format
        self.keepalives = 0
        self.error: FramingError | None = None
        self._buffer = bytearray()
        self._buffer_offset = 0  # stream offset of _buffer[0]
        self._body: int | None = None  # body length of the pending frame, once its header is read

    @property
    def needed(self) -> int:
        """Bytes still missing for the pending frame; 0 when idle or failed."""
        if self.error is not None or not self._buffer:
            return 0
        size = self.format.length_header.size
        if self._body is None:
            return size - len(self._buffer)
        return size + self._body - len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """Add the bytes of one read; return the frames it completed, in order."""
        if self.error is not None:
            raise FramingError(
                f"framer unusable after an earlier error: {self.error.reason}",
                offset=self.error.offset,
            )
        self._buffer += data
        size = self.format.length_header.size
        frames: list[Frame] = []
        pos = 0
        try:
            while True:
                if self._body is None:
                    if len(self._buffer) - pos < size:
                        break
                    raw = bytes(self._buffer[pos : pos + size])
                    self._body = self.format._read_length(raw, offset=self._buffer_offset + pos)
                end = pos + size + self._body
                if end > len(self._buffer):
                    break
                if self._body == 0:
                    self.keepalives += 1
                else:
                    frame = bytes(self._buffer[pos:end])
                    frames.append(self.format._parse_frame(frame, offset=self._buffer_offset + pos))
                self._body = None
                pos = end
        except FramingError as exc:
            self.error = exc
            self._buffer.clear()
            self._body = None
            raise
        del self._buffer[:pos]
        self._buffer_offset += pos
        return frames
