"""TLV codecs for composite ISO 8583 fields.

Two families share this module because field codecs pick one per field:

* BER-TLV (ISO/IEC 8825-1 as profiled by EMV Book 3 Annex B) for the chip data of field 55.
* Simple fixed-width TLV for private-use composite fields (48, 60-63, 127 style), whose
  layout differs per dialect and is described by a :class:`TlvFormat`.

Values are plain JSON-ready dicts (tag -> value) that keep wire order, so messages can be
logged, diffed and written in test vectors. Errors carry ``path`` (e.g. ``("tag 70",
"tag 9F02")``) and the absolute ``offset`` (``base_offset`` + position) of the first byte of
the faulty tag, length or value, so the field codec can pass the field's own offset and
re-raise with ``field=`` set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from iso8583.errors import DecodeError, EncodeError, SpecError

__all__ = [
    "MAX_BER_DEPTH",
    "BerTlvTree",
    "TlvEncoding",
    "TlvFormat",
    "decode_ber_tlv",
    "decode_simple_tlv",
    "encode_ber_tlv",
    "encode_simple_tlv",
]

BerTlvTree = dict[str, "str | BerTlvTree"]
"""Uppercase hex tag -> uppercase hex value (primitive) or nested tree (constructed)."""

MAX_BER_DEPTH = 16
"""Deepest template nesting accepted; EMV needs 3, the bound keeps recursion finite."""

_PADDING = (0x00, 0xFF)
_MAX_LENGTH_BYTES = 3
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")


# --------------------------------------------------------------------------- BER-TLV decode


def decode_ber_tlv(data: bytes, *, base_offset: int = 0) -> BerTlvTree:
    """Decode BER-TLV bytes (e.g. field 55) into an ordered tag tree.

    Rules, per EMV Book 3 Annex B:

    * Tag: bit 6 of the first byte marks a constructed object (decoded recursively); low five
      bits ``11111`` mean more tag bytes follow, each with bit 8 set except the last.
    * Length: short form ``0x00``-``0x7F``, long form ``0x81 nn``, ``0x82 nnnn``,
      ``0x83 nnnnnn`` (3 length bytes, the most EMV allows). Indefinite ``0x80`` and longer
      forms are DecodeErrors. Non-minimal long forms are accepted (so re-encoding them
      yields the canonical, shorter form).
    * Padding: ``00`` and ``FF`` bytes where a tag would start are skipped, at any level.
      EMV allows ``00`` between objects and ISO 7816-4 also ``FF``; EMV warns issuers off
      ``FF``-leading tags, so treating both as padding costs nothing real. Padding is lost:
      only canonical bytes (no padding, minimal lengths) survive decode -> encode unchanged.
    * A tag repeated at one level is a DecodeError: the dict model cannot hold both.
    """
    buf = data if type(data) is bytes else bytes(data)
    hexed = buf.hex().upper()
    flat = _decode_flat(buf, hexed)
    if flat is not None:
        return flat
    return _decode_level(buf, 0, len(buf), base_offset, (), 0, hexed)


def _decode_flat(buf: bytes, h: str) -> BerTlvTree | None:
    """The usual chip data in one loop: primitive 1-2 byte tags, short lengths, no padding.

    ``None`` for anything else (templates, padding, long forms, faults): ``_decode_level``
    then decodes it and words every error.
    """
    result: BerTlvTree = {}
    pos = 0
    end = len(buf)
    while pos < end:
        first = buf[pos]
        if first & 0x1F == 0x1F:
            if pos + 1 >= end or buf[pos + 1] & 0x80:
                return None
            at = pos + 2
        else:
            at = pos + 1
        if first & 0x20 or first == 0 or first == 0xFF or at >= end:
            return None
        length = buf[at]
        start = at + 1
        stop = start + length
        if length >= 0x80 or stop > end:
            return None
        tag = h[2 * pos : 2 * at]
        if tag in result:
            return None
        result[tag] = h[2 * start : 2 * stop]
        pos = stop
    return result


def _decode_level(
    buf: bytes,
    pos: int,
    end: int,
    base: int,
    path: tuple[str, ...],
    depth: int,
    hexed: str | None = None,
) -> BerTlvTree:
    """Decode the objects in ``buf[pos:end]``, one nesting level.

    Runs once per message, so the happy path is flat: the buffer is hexed once and tags and
    values are sliced out of that string; tag paths for messages are built only on errors.
    """
    h = hexed if hexed is not None else buf.hex().upper()
    result: BerTlvTree = {}
    while pos < end:
        first = buf[pos]
        if first in _PADDING:
            pos += 1
            continue
        tag_start = pos
        if first & 0x1F != 0x1F:
            pos += 1
        elif pos + 1 < end and not buf[pos + 1] & 0x80:
            pos += 2
        else:
            _, pos = _read_tag(buf, pos, end, base, path)
        tag = h[2 * tag_start : 2 * pos]
        if tag in result:
            raise DecodeError(
                f"duplicate tag (first at byte {base + _first_offset(buf, tag, end)})",
                offset=base + tag_start,
                path=(*path, f"tag {tag}"),
            )
        length_start = pos
        if pos < end and buf[pos] < 0x80:
            length = buf[pos]
            pos += 1
        else:
            length, pos = _read_length(buf, pos, end, base, (*path, f"tag {tag}"))
        if length > end - pos:
            raise DecodeError(
                f"length {length} runs past the end ({end - pos} bytes left)",
                offset=base + length_start,
                path=(*path, f"tag {tag}"),
            )
        if first & 0x20:
            tag_path = (*path, f"tag {tag}")
            if depth >= MAX_BER_DEPTH:
                raise DecodeError(
                    f"templates nested deeper than {MAX_BER_DEPTH}",
                    offset=base + tag_start,
                    path=tag_path,
                )
            result[tag] = _decode_level(buf, pos, pos + length, base, tag_path, depth + 1, h)
        else:
            result[tag] = h[2 * pos : 2 * (pos + length)]
        pos += length
    return result


def _first_offset(buf: bytes, tag: str, end: int) -> int:
    """Where a duplicated tag first appeared (error path only): index of its tag bytes."""
    return buf.find(bytes.fromhex(tag), 0, end)


def _read_tag(buf: bytes, pos: int, end: int, base: int, path: tuple[str, ...]) -> tuple[str, int]:
    """Read one tag at ``pos`` (not padding); return its hex and the next position."""
    start = pos
    pos += 1
    if buf[start] & 0x1F == 0x1F:
        while True:
            if pos >= end:
                partial = buf[start:pos].hex().upper()
                raise DecodeError(
                    f"truncated tag {partial}: another tag byte expected",
                    offset=base + start,
                    path=path,
                )
            more = buf[pos] & 0x80
            pos += 1
            if not more:
                break
    return buf[start:pos].hex().upper(), pos


def _read_length(
    buf: bytes, pos: int, end: int, base: int, path: tuple[str, ...]
) -> tuple[int, int]:
    """Read one length field at ``pos``; return the length and the value's position."""
    if pos >= end:
        raise DecodeError("truncated: length expected", offset=base + pos, path=path)
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0:
        raise DecodeError("indefinite length (0x80) not allowed", offset=base + pos, path=path)
    if count > _MAX_LENGTH_BYTES:
        raise DecodeError(
            f"length of {count} length bytes not supported (at most {_MAX_LENGTH_BYTES})",
            offset=base + pos,
            path=path,
        )
    if pos + 1 + count > end:
        raise DecodeError(
            f"truncated length: {count} length bytes announced, {end - pos - 1} left",
            offset=base + pos,
            path=path,
        )
    return int.from_bytes(buf[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


# --------------------------------------------------------------------------- BER-TLV encode


def encode_ber_tlv(value: Mapping[str, str | Mapping[str, Any]]) -> bytes:
    """Encode a tag tree canonically: no padding, minimal-length lengths, mapping order kept.

    Tags and values are hex strings in either case. A constructed tag (bit 6 of its first
    byte) must map to a mapping, a primitive tag to a hex string.
    """
    fast = _encode_fast(value, 0)
    if fast is not None:
        return fast
    out = bytearray()
    _encode_level(value, (), 0, out)
    return bytes(out)


# Canonical (uppercase) tags that passed _tag_bytes, so the fast path can skip re-validating
# them. Bounded: a stream of random tags cannot grow it without limit.
_KNOWN_TAGS: dict[str, bytes] = {}
_KNOWN_TAGS_MAX = 4096
_SHORT_LENGTHS_HEX = tuple(f"{n:02X}" for n in range(0x80))


def _encode_fast(value: Any, depth: int) -> bytes | None:
    """Encode the common case quickly; ``None`` hands anything unusual to the checked path.

    Known tags, even-length hex values and short lengths are written as one hex string and
    converted by a single ``bytes.fromhex``, whose length check refuses any whitespace.
    """
    hexed = _encode_fast_hex(value, depth)
    if hexed is None:
        return None
    try:
        out = bytes.fromhex(hexed)
    except ValueError:
        return None
    return out if len(out) * 2 == len(hexed) else None


def _encode_fast_hex(value: Any, depth: int) -> str | None:
    if type(value) is not dict or depth > MAX_BER_DEPTH:
        return None
    parts = []
    known = _KNOWN_TAGS
    for key, item in value.items():
        tag = known.get(key)
        if tag is None:
            return None
        if type(item) is str:
            size = len(item)
            if tag[0] & 0x20 or size & 1 or size >= 0x100:
                return None
            parts.append(key)
            parts.append(_SHORT_LENGTHS_HEX[size >> 1])
            parts.append(item)
        elif type(item) is dict:
            if not tag[0] & 0x20:
                return None
            inner = _encode_fast_hex(item, depth + 1)
            if inner is None or len(inner) & 1 or len(inner) >= 0x100:
                return None
            parts.append(key)
            parts.append(_SHORT_LENGTHS_HEX[len(inner) >> 1])
            parts.append(inner)
        else:
            return None
    return "".join(parts)


def _encode_level(value: Any, path: tuple[str, ...], depth: int, out: bytearray) -> None:
    if not isinstance(value, Mapping):
        raise EncodeError(f"expected a mapping of tags, got {type(value).__name__}", path=path)
    if depth > MAX_BER_DEPTH:
        raise EncodeError(f"templates nested deeper than {MAX_BER_DEPTH}", path=path)
    seen: set[bytes] = set()
    for key, item in value.items():
        tag = _tag_bytes(key, path)
        tag_path = (*path, f"tag {tag.hex().upper()}")
        if tag in seen:
            raise EncodeError("duplicate tag (keys differ only in letter case)", path=tag_path)
        seen.add(tag)
        if tag[0] & 0x20:
            if not isinstance(item, Mapping):
                raise EncodeError(
                    f"constructed tag needs a mapping of child tags, got {type(item).__name__}",
                    path=tag_path,
                )
            body = bytearray()
            _encode_level(item, tag_path, depth + 1, body)
        else:
            if not isinstance(item, str):
                raise EncodeError(
                    f"primitive tag needs a hex string, got {type(item).__name__}",
                    path=tag_path,
                )
            body = bytearray(_hex_bytes(item, tag_path))
        out += tag
        out += _length_bytes(len(body), tag_path)
        out += body


def _tag_bytes(key: Any, path: tuple[str, ...]) -> bytes:
    """Validate a tag's hex form: the multi-byte marker and continuation bits must agree."""
    tag_path = (*path, f"tag {key}" if isinstance(key, str) else f"tag {key!r}")
    if not isinstance(key, str) or not key or not _HEX.fullmatch(key):
        raise EncodeError("tag must be a non-empty even-length hex string", path=tag_path)
    tag = bytes.fromhex(key)
    if tag[0] in _PADDING:
        raise EncodeError("a tag cannot start with 00 or FF (read as padding)", path=tag_path)
    if tag[0] & 0x1F != 0x1F:
        if len(tag) != 1:
            raise EncodeError(
                "first byte's low 5 bits are not 11111, so the tag must be one byte",
                path=tag_path,
            )
        _remember(key, tag)
        return tag
    if len(tag) == 1:
        raise EncodeError("first byte's low 5 bits 11111 announce more tag bytes", path=tag_path)
    if any(not b & 0x80 for b in tag[1:-1]):
        raise EncodeError("a middle tag byte has bit 8 clear (tag ends early)", path=tag_path)
    if tag[-1] & 0x80:
        raise EncodeError("the last tag byte has bit 8 set (more bytes announced)", path=tag_path)
    _remember(key, tag)
    return tag


def _remember(key: str, tag: bytes) -> None:
    if (key.isupper() or key.isdigit()) and len(_KNOWN_TAGS) < _KNOWN_TAGS_MAX:
        _KNOWN_TAGS[key] = tag


def _length_bytes(length: int, path: tuple[str, ...]) -> bytes:
    if length < 0x80:
        return bytes([length])
    count = (length.bit_length() + 7) // 8
    if count > _MAX_LENGTH_BYTES:
        raise EncodeError(
            f"value of {length} bytes exceeds the 3-byte long form (0xFFFFFF)", path=path
        )
    return bytes([0x80 | count]) + length.to_bytes(count, "big")


def _hex_bytes(text: str, path: tuple[str, ...]) -> bytes:
    if not _HEX.fullmatch(text):
        raise EncodeError("value must be an even-length hex string", path=path)
    return bytes.fromhex(text)


# --------------------------------------------------------------------------- simple TLV


class TlvEncoding(Enum):
    """How tag and length of a simple TLV are written."""

    ASCII = "ascii"  # tag as ASCII letters/digits, length as ASCII decimal digits, ASCII value
    BINARY = "binary"  # tag as raw bytes (hex in the model), big-endian binary length


@dataclass(frozen=True)
class TlvFormat:
    """Layout of the simple TLVs of a private-use field (one per dialect field).

    ::

        ASCII : | tag (tag_size chars) | length (length_size digits)      | value (ASCII) |
                  "01"                   "005"                              "HELLO"
        BINARY: | tag (tag_size bytes) | length (length_size bytes, BE)   | value (bytes) |
                  01                     05                                 0102030405

    Sizes count characters for ASCII and bytes for binary; the length counts value bytes.
    """

    encoding: TlvEncoding = TlvEncoding.ASCII
    tag_size: int = 2
    length_size: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.encoding, TlvEncoding):
            raise SpecError(f"encoding must be a TlvEncoding, got {self.encoding!r}")
        for name in ("tag_size", "length_size"):
            size = getattr(self, name)
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 8:
                raise SpecError(f"{name} must be an int in 1..8, got {size!r}")

    @property
    def max_value_length(self) -> int:
        """Longest value the length field can express."""
        if self.encoding is TlvEncoding.ASCII:
            return 10**self.length_size - 1
        return 256**self.length_size - 1


def decode_simple_tlv(data: bytes, fmt: TlvFormat, *, base_offset: int = 0) -> dict[str, str]:
    """Decode back-to-back simple TLVs into an ordered tag -> value dict.

    ASCII format: tags must be ASCII letters/digits and values ASCII text. Binary format:
    tags and values are uppercase hex. No padding is allowed; a repeated tag is a DecodeError.
    """
    buf = bytes(data)
    ascii_fmt = fmt.encoding is TlvEncoding.ASCII
    result: dict[str, str] = {}
    first_seen: dict[str, int] = {}
    pos = 0
    while pos < len(buf):
        start = pos
        raw_tag = buf[pos : pos + fmt.tag_size]
        if len(raw_tag) < fmt.tag_size:
            raise DecodeError(
                f"truncated tag: {fmt.tag_size} bytes expected, {len(raw_tag)} left",
                offset=base_offset + pos,
            )
        if ascii_fmt:
            if not (raw_tag.isascii() and raw_tag.isalnum()):
                raise DecodeError(
                    f"tag {raw_tag.hex().upper()} is not ASCII letters/digits",
                    offset=base_offset + pos,
                )
            tag = raw_tag.decode("ascii")
        else:
            tag = raw_tag.hex().upper()
        path = (f"tag {tag}",)
        if tag in first_seen:
            raise DecodeError(
                f"duplicate tag (first at byte {first_seen[tag]})",
                offset=base_offset + start,
                path=path,
            )
        first_seen[tag] = base_offset + start
        pos += fmt.tag_size
        raw_length = buf[pos : pos + fmt.length_size]
        if len(raw_length) < fmt.length_size:
            raise DecodeError(
                f"truncated length: {fmt.length_size} bytes expected, {len(raw_length)} left",
                offset=base_offset + pos,
                path=path,
            )
        if ascii_fmt:
            if not raw_length.isdigit():  # bytes.isdigit() accepts ASCII 0-9 only
                raise DecodeError(
                    f"length {raw_length!r} is not ASCII digits",
                    offset=base_offset + pos,
                    path=path,
                )
            length = int(raw_length)
        else:
            length = int.from_bytes(raw_length, "big")
        left = len(buf) - pos - fmt.length_size
        if length > left:
            raise DecodeError(
                f"length {length} runs past the end ({left} bytes left)",
                offset=base_offset + pos,
                path=path,
            )
        pos += fmt.length_size
        raw_value = buf[pos : pos + length]
        if ascii_fmt:
            if not raw_value.isascii():
                bad = next(i for i, b in enumerate(raw_value) if b > 0x7F)
                raise DecodeError(
                    f"value byte {raw_value[bad]:02X} is not ASCII",
                    offset=base_offset + pos + bad,
                    path=path,
                )
            result[tag] = raw_value.decode("ascii")
        else:
            result[tag] = raw_value.hex().upper()
        pos += length
    return result


def encode_simple_tlv(mapping: Mapping[str, str], fmt: TlvFormat) -> bytes:
    """Encode a tag -> value mapping in order (ASCII text, or hex for the binary format)."""
    ascii_fmt = fmt.encoding is TlvEncoding.ASCII
    out = bytearray()
    seen: set[bytes] = set()
    for key, value in mapping.items():
        path = (f"tag {key}" if isinstance(key, str) else f"tag {key!r}",)
        if ascii_fmt:
            if not (
                isinstance(key, str)
                and len(key) == fmt.tag_size
                and key.isascii()
                and key.isalnum()
            ):
                raise EncodeError(f"tag must be {fmt.tag_size} ASCII letters/digits", path=path)
            tag = key.encode("ascii")
            if not isinstance(value, str) or not value.isascii():
                raise EncodeError("value must be an ASCII string", path=path)
            body = value.encode("ascii")
        else:
            if not (isinstance(key, str) and len(key) == 2 * fmt.tag_size and _HEX.fullmatch(key)):
                raise EncodeError(f"tag must be {fmt.tag_size} bytes of hex", path=path)
            tag = bytes.fromhex(key)
            if not isinstance(value, str):
                raise EncodeError("value must be a hex string", path=path)
            body = _hex_bytes(value, path)
        if tag in seen:
            raise EncodeError("duplicate tag (keys differ only in letter case)", path=path)
        seen.add(tag)
        if len(body) > fmt.max_value_length:
            raise EncodeError(
                f"value of {len(body)} bytes exceeds the {fmt.max_value_length} its "
                f"{fmt.length_size}-{'digit' if ascii_fmt else 'byte'} length can express",
                path=path,
            )
        out += tag
        if ascii_fmt:
            out += b"%0*d" % (fmt.length_size, len(body))
        else:
            out += len(body).to_bytes(fmt.length_size, "big")
        out += body
    return bytes(out)
