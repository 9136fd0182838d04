"""Is this the start of a message of our dialect? Said from the first bytes of a connection.

A client speaking the wrong protocol (a TLS ClientHello, HTTP, another dialect's framing) sends
a length header that means nothing: ``16 03`` of a TLS record read as a 2-byte length is 5,635
bytes the host would wait for. The host looks at the length, the TPDU/header and the MTI as
soon as they arrive and refuses at once what cannot be a message of its dialect.
"""

from __future__ import annotations

from iso8583.framing import LengthHeader
from iso8583.spec import BitmapEncoding, Encoding, Spec

__all__ = ["head_size", "implausible_start"]

_TLS_RECORD = b"\x16\x03"  # handshake record, TLS 1.x


def _mti_size(spec: Spec) -> int:
    return 2 if spec.mti_encoding is Encoding.BCD else 4


def head_size(spec: Spec) -> int:
    """Bytes needed to judge a connection's first frame: length, TPDU/header and MTI."""
    fmt = spec.frame_format
    return fmt.length_header.size + fmt.prefix_size + _mti_size(spec)


def _length(kind: LengthHeader, raw: bytes) -> int | None:
    if kind is LengthHeader.BINARY2:
        return int.from_bytes(raw, "big")
    if kind is LengthHeader.ASCII4:
        return int(raw) if raw.isdigit() else None
    digits = raw.hex()
    return int(digits) if digits.isdigit() else None


def _mti_ok(spec: Spec, raw: bytes) -> bool:
    if spec.mti_encoding is Encoding.BCD:
        return raw.hex().isdigit()
    if spec.mti_encoding is Encoding.EBCDIC:
        return all(0xF0 <= b <= 0xF9 for b in raw)
    return raw.isdigit()


def implausible_start(spec: Spec, head: bytes) -> str | None:
    """Why ``head`` (a connection's first bytes) cannot start a message, or None (yet)."""
    if head[:2] == _TLS_RECORD:
        return "the client started a TLS handshake; this host speaks plain TCP"
    fmt = spec.frame_format
    size = fmt.length_header.size
    if len(head) < size:
        return None
    body = _length(fmt.length_header, head[:size])
    if body is None:
        return None  # the framer names the bad header itself
    bitmap = 8 if spec.bitmap_encoding is BitmapEncoding.BINARY else 16
    smallest = fmt.prefix_size + _mti_size(spec) + bitmap
    if fmt.includes_itself:
        body -= size
    if 0 < body < smallest:
        return (
            f"length header {head[:size].hex().upper()} ({body} bytes) is shorter than any message"
        )
    if body > fmt.max_length:
        return f"length header {head[:size].hex().upper()} ({body} bytes) exceeds {fmt.max_length}"
    if len(head) < head_size(spec):
        return None
    start = size + fmt.prefix_size
    mti = head[start : start + _mti_size(spec)]
    if not _mti_ok(spec, mti):
        return f"bytes {mti.hex().upper()} after the length header are not an MTI"
    return None
