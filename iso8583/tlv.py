"""TLV codecs for composite ISO 8583 fields.

Two families share this module because field codecs pick one per field:

* BER-TLV (ISO/IEC 8825-1 as profiled by EMV Book 3 Annex B) for the chip data of field 55.
* Simple fixed-width TLV for private-use composite fields (48, 60-63, 127 style), whose
  layout differs per dialect and is described by a :class:`TlvFormat`.

Values are plain JSON-ready dicts (tag -> value) that keep wire order, so messages can be
logged, diffed and written in test vectors. Where a tag may repeat at one level (EMVCo CPM
application templates), BER-TLV also has a list form of ``(tag, value, offset)`` nodes
(:func:`decode_ber_tlv_nodes`, :func:`encode_ber_tlv_nodes`); both forms share one decoder
and one encoder, so their rules and errors are the same. Errors carry ``path`` (e.g. ``("tag 70",
"tag 9F02")``) and the absolute ``offset`` (``base_offset`` + position) of the first byte of
the faulty tag, length or value, so the field codec can pass the field's own offset and
re-raise with ``field=`` set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, NamedTuple

from iso8583.errors import DecodeError, EncodeError, SpecError

__all__ = [
    "MAX_BER_DEPTH",
    "BerTlvNode",
    "BerTlvTree",
    "TlvEncoding",
    "TlvFormat",
    "ber_tag_bytes",
    "decode_ber_tlv",
    "decode_ber_tlv_nodes",
    "decode_simple_tlv",
    "encode_ber_tlv",
    "encode_ber_tlv_nodes",
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


class BerTlvNode(NamedTuple):
    """One data object of the list form, which keeps wire order and repeated tags.

    ``value`` is uppercase hex for a primitive tag and the list of child nodes for a
    constructed one; ``offset`` is the absolute offset of the tag's first byte. Encoding
    ignores ``offset``, so plain ``(tag, value)`` pairs encode too.
    """

    tag: str
    value: str | list[BerTlvNode]
    offset: int = 0


@dataclass(frozen=True, slots=True)
class _Rules:
    """Profile of one decode: the dict form refuses repeats, a list form may refuse padding."""

    padding: bool
    max_depth: int
    max_tag_bytes: int
    unique: bool


_NO_NODES: list[BerTlvNode] = []  # placeholders of _decode_level, never filled
_NO_TREE: BerTlvTree = {}
_DICT_RULES = _Rules(padding=True, max_depth=MAX_BER_DEPTH, max_tag_bytes=0, unique=True)


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
    * A tag repeated at one level is a DecodeError: the dict model cannot hold both (use
      :func:`decode_ber_tlv_nodes` where repeats are legal, e.g. EMVCo CPM templates).
    """
    buf = data if type(data) is bytes else bytes(data)
    hexed = buf.hex().upper()
    flat = _decode_flat(buf, hexed)
    if flat is not None:
        return flat
    tree: BerTlvTree = _decode_level(buf, 0, len(buf), base_offset, (), 0, hexed, _DICT_RULES)
    return tree


def decode_ber_tlv_nodes(
    data: bytes,
    *,
    base_offset: int = 0,
    padding: bool = True,
    max_depth: int = MAX_BER_DEPTH,
    max_tag_bytes: int | None = None,
) -> list[BerTlvNode]:
    """Decode BER-TLV bytes into a list of nodes: wire order and repeated tags are kept.

    Same rules and errors as :func:`decode_ber_tlv`, except that a repeated tag is data, not
    an error. A profile can be stricter: ``padding=False`` refuses ``00``/``FF`` padding,
    ``max_depth`` lowers the template nesting bound and ``max_tag_bytes`` bounds tag size.
    """
    if not 0 <= max_depth <= MAX_BER_DEPTH:
        raise ValueError(f"max_depth must be in 0..{MAX_BER_DEPTH}, got {max_depth}")
    if max_tag_bytes is not None and max_tag_bytes < 1:
        raise ValueError(f"max_tag_bytes must be at least 1, got {max_tag_bytes}")
    buf = data if type(data) is bytes else bytes(data)
    rules = _Rules(padding, max_depth, max_tag_bytes or 0, unique=False)
    nodes: list[BerTlvNode] = _decode_level(
        buf, 0, len(buf), base_offset, (), 0, buf.hex().upper(), rules
    )
    return nodes


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
    h: str,
    rules: _Rules,
) -> Any:
    """Decode the objects in ``buf[pos:end]``, one nesting level, into either form.

    ``rules.unique`` builds the dict form directly (no intermediate nodes: field 55 speed),
    otherwise the list form. Runs once per message, so the happy path is flat: the buffer
    is hexed once and tags and values are sliced out of that string; tag paths for messages
    are built only on errors.
    """
    unique = rules.unique
    # Only one of the two containers is filled; the other is an empty shared placeholder,
    # so the duplicate check below is a plain ``in`` on both paths.
    tree: BerTlvTree = {} if unique else _NO_TREE
    nodes: list[BerTlvNode] = _NO_NODES if unique else []
    level_start = pos
    short_tags = rules.max_tag_bytes != 1  # 2-byte tags take the quick branch below
    while pos < end:
        first = buf[pos]
        if first in _PADDING:
            if not rules.padding:
                raise DecodeError(
                    f"byte {first:02X} is not a tag (padding is not allowed)",
                    offset=base + pos,
                    path=path,
                )
            pos += 1
            continue
        tag_start = pos
        if first & 0x1F != 0x1F:
            pos += 1
        elif short_tags and pos + 1 < end and not buf[pos + 1] & 0x80:
            pos += 2
        else:
            pos = _tag_end(buf, pos, end, base, path, rules.max_tag_bytes)
        tag = h[2 * tag_start : 2 * pos]
        if tag in tree:
            earlier = _decode_level(
                buf, level_start, tag_start, base, path, depth, h, replace(rules, unique=False)
            )
            first_at = next(node.offset for node in earlier if node.tag == tag)
            raise DecodeError(
                f"duplicate tag (first at byte {first_at})",
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
                f"length {length} runs past the end ({_bytes(end - pos)} left)",
                offset=base + length_start,
                path=(*path, f"tag {tag}"),
            )
        value: Any
        if first & 0x20:
            tag_path = (*path, f"tag {tag}")
            if depth >= rules.max_depth:
                raise DecodeError(
                    f"templates nested deeper than {rules.max_depth}",
                    offset=base + tag_start,
                    path=tag_path,
                )
            value = _decode_level(buf, pos, pos + length, base, tag_path, depth + 1, h, rules)
        else:
            value = h[2 * pos : 2 * (pos + length)]
        if unique:
            tree[tag] = value
        else:
            nodes.append(BerTlvNode(tag, value, base + tag_start))
        pos += length
    return tree if unique else nodes


def _bytes(count: int) -> str:
    return "1 byte" if count == 1 else f"{count} bytes"


def _tag_end(
    buf: bytes, pos: int, end: int, base: int, path: tuple[str, ...], limit: int = 0
) -> int:
    """Read one tag at ``pos`` (not padding); return the position after it.

    ``limit`` (0: none) bounds the tag's size in bytes.
    """
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
            if limit and pos - start > limit:
                raise DecodeError(f"tag longer than {limit} bytes", offset=base + start, path=path)
            if not more:
                break
    return pos


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


def encode_ber_tlv_nodes(nodes: Sequence[BerTlvNode | Sequence[Any]]) -> bytes:
    """Encode the list form canonically, in list order; repeated tags are written as given.

    Each node is a :class:`BerTlvNode` or a ``(tag, value)`` pair: a hex string for a
    primitive tag, a list of child nodes for a constructed one. Same checks and errors as
    :func:`encode_ber_tlv`.
    """
    out = bytearray()
    _encode_level(nodes, (), 0, out, as_list=True)
    return bytes(out)


def ber_tag_bytes(tag: str) -> bytes:
    """A hex tag's bytes once its BER structure (multi-byte marker, continuation bits) holds.

    Raises :class:`EncodeError`; lets a profile that builds objects check tags up front.
    """
    return _tag_bytes(tag, ())


def _pairs(value: Any, path: tuple[str, ...], as_list: bool) -> Iterable[tuple[Any, Any]]:
    """The (tag, value) pairs of one level of either form, or an EncodeError naming its type."""
    if not as_list:
        if not isinstance(value, Mapping):
            raise EncodeError(f"expected a mapping of tags, got {type(value).__name__}", path=path)
        return value.items()
    if not isinstance(value, list | tuple):
        raise EncodeError(
            f"expected a list of (tag, value) nodes, got {type(value).__name__}", path=path
        )
    pairs = []
    for index, node in enumerate(value):
        if not isinstance(node, list | tuple) or len(node) not in (2, 3):
            raise EncodeError(f"node {index} is not a (tag, value) pair", path=path)
        pairs.append((node[0], node[1]))
    return pairs


def _encode_level(
    value: Any, path: tuple[str, ...], depth: int, out: bytearray, *, as_list: bool = False
) -> None:
    pairs = _pairs(value, path, as_list)
    if depth > MAX_BER_DEPTH:
        raise EncodeError(f"templates nested deeper than {MAX_BER_DEPTH}", path=path)
    seen: set[bytes] | None = None if as_list else set()
    for key, item in pairs:
        tag = _tag_bytes(key, path)
        tag_path = (*path, f"tag {tag.hex().upper()}")
        if seen is not None:
            if tag in seen:
                raise EncodeError("duplicate tag (keys differ only in letter case)", path=tag_path)
            seen.add(tag)
        if tag[0] & 0x20:
            if as_list and not isinstance(item, list | tuple):
                raise EncodeError(
                    f"constructed tag needs a list of child nodes, got {type(item).__name__}",
                    path=tag_path,
                )
            if not as_list and not isinstance(item, Mapping):
                raise EncodeError(
                    f"constructed tag needs a mapping of child tags, got {type(item).__name__}",
                    path=tag_path,
                )
            body = bytearray()
            _encode_level(item, tag_path, depth + 1, body, as_list=as_list)
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
