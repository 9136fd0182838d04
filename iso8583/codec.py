"""Compile a :class:`~iso8583.spec.Spec` into pack/unpack functions.

Why closures and not one construct ``Struct`` per field: a compiled construct ``parse()`` call
costs about 6.5 µs on our reference machine, while pyiso8583 packs or unpacks a whole 19-field
purchase in about 50 µs; a construct call per field would have made us slower than the peer we
must beat by 2x. So each :class:`FieldSpec` is compiled once into a pair of specialised closures
(the same idea as construct's compiler: decide everything at build time, do only slicing and
checks at run time), the unpack loop visits set bitmap bits only, and construct describes the
fixed layouts of the framing (``iso8583.framing``).

Every decoder has the signature ``decode(buf, pos) -> (value, new_pos)`` and raises
:class:`DecodeError` with the field key and the byte offset; every encoder is
``encode(value) -> bytes`` and raises :class:`EncodeError` with the field key.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from iso8583.errors import DecodeError, EncodeError, SpecError
from iso8583.message import Message
from iso8583.spec import (
    TEXT_KINDS,
    BitmapEncoding,
    Encoding,
    FieldSpec,
    Kind,
    LengthUnit,
    Pad,
    Spec,
)

__all__ = ["FieldCodec", "MessageCodec", "compile_field"]

Decoder = Callable[[bytes, int], tuple[Any, int]]
Encoder = Callable[[Any], bytes]


@dataclass(frozen=True, slots=True)
class FieldCodec:
    encode: Encoder
    decode: Decoder


# --- character classes ------------------------------------------------------------------------


def _ok_n(s: str) -> bool:
    return not s or (s.isascii() and s.isdigit())


def _ok_a(s: str) -> bool:
    t = s.replace(" ", "")
    return s.isascii() and (not t or t.isalpha())


def _ok_an(s: str) -> bool:
    t = s.replace(" ", "")
    return s.isascii() and (not t or t.isalnum())


def _ok_ans_ascii(s: str) -> bool:
    return s.isascii() and s.isprintable()


def _ok_ans_any(s: str) -> bool:
    return s.isprintable()


def _ok_z(s: str) -> bool:
    t = s.replace("=", "").replace("D", "")
    return not t or (t.isascii() and t.isdigit())


def _ok_xn(s: str) -> bool:
    return len(s) >= 1 and s[0] in "CD" and _ok_n(s[1:])


_CHAR_OK: dict[Kind, Callable[[str], bool]] = {
    Kind.N: _ok_n,
    Kind.A: _ok_a,
    Kind.AN: _ok_an,
    Kind.ANS: _ok_ans_ascii,
    Kind.Z: _ok_z,
    Kind.XN: _ok_xn,
}

_KIND_WORDS = {
    Kind.N: "digits",
    Kind.A: "letters and spaces",
    Kind.AN: "letters, digits and spaces",
    Kind.ANS: "printable characters",
    Kind.Z: "digits and '='",
    Kind.XN: "'C' or 'D' followed by digits",
}


def _first_bad(kind: Kind, s: str, check: Callable[[str], bool]) -> int:
    """Index of the first character that breaks the class (slow path, errors only)."""
    if kind is Kind.XN:
        if not s or s[0] not in "CD":
            return 0
        return 1 + _first_bad(Kind.N, s[1:], _ok_n)
    for i, ch in enumerate(s):
        if not check(ch):
            return i
    return 0


def _bad_text(key: str, kind: Kind, s: str, check: Callable[[str], bool]) -> str:
    i = _first_bad(kind, s, check)
    ch = s[i] if i < len(s) else ""
    return f"{kind.value} allows {_KIND_WORDS[kind]}; got {ch!r} at character {i}"


# --- length prefixes ---------------------------------------------------------------------------

LenEncoder = Callable[[int], bytes]
LenDecoder = Callable[[bytes, int], tuple[int, int]]


def _prefix_codec(key: str, fs: FieldSpec) -> tuple[LenEncoder, LenDecoder]:
    digits = fs.prefix
    enc = fs.prefix_encoding
    if enc is Encoding.ASCII or enc is Encoding.EBCDIC:
        width = digits
        cp = fs.codepage
        ebcdic = enc is Encoding.EBCDIC
        fmt = b"%0" + str(digits).encode() + b"d"

        def enc_len(n: int) -> bytes:
            out = fmt % n
            return out.decode("ascii").encode(cp) if ebcdic else out

        def dec_len(buf: bytes, pos: int) -> tuple[int, int]:
            raw = buf[pos : pos + width]
            if len(raw) != width:
                raise DecodeError(
                    f"length prefix needs {width} bytes, {len(raw)} left", field=key, offset=pos
                )
            if ebcdic:
                raw = raw.decode(cp).encode("ascii", "replace")
            if not raw.isdigit():
                raise DecodeError(
                    f"length prefix {raw!r} is not {width} digits", field=key, offset=pos
                )
            return int(raw), pos + width

        return enc_len, dec_len
    if enc is Encoding.BCD:
        width = (digits + 1) // 2

        def enc_len(n: int) -> bytes:
            return bytes.fromhex(f"{n:0{width * 2}d}")

        def dec_len(buf: bytes, pos: int) -> tuple[int, int]:
            raw = buf[pos : pos + width]
            if len(raw) != width:
                raise DecodeError(
                    f"length prefix needs {width} bytes, {len(raw)} left", field=key, offset=pos
                )
            h = raw.hex()
            if not h.isdigit():
                raise DecodeError(
                    f"length prefix {h.upper()} is not packed BCD", field=key, offset=pos
                )
            return int(h), pos + width

        return enc_len, dec_len
    if enc is Encoding.BINARY:
        width = 1 if digits <= 2 else 2

        def enc_len(n: int) -> bytes:
            return n.to_bytes(width, "big")

        def dec_len(buf: bytes, pos: int) -> tuple[int, int]:
            raw = buf[pos : pos + width]
            if len(raw) != width:
                raise DecodeError(
                    f"length prefix needs {width} bytes, {len(raw)} left", field=key, offset=pos
                )
            return int.from_bytes(raw, "big"), pos + width

        return enc_len, dec_len
    raise SpecError(
        f"length prefix encoding {enc.value} is not ascii, ebcdic, bcd or binary",
        where=f"field {key}",
    )


# --- field bodies ------------------------------------------------------------------------------
# A body codec converts between a value and its data bytes, given the *count* from the prefix
# (or the fixed length): characters, digits or bytes depending on the field.

BodyDecoder = Callable[[bytes, int, int], tuple[Any, int]]  # (buf, pos, count)
BodyEncoder = Callable[[Any], tuple[bytes, int]]  # value -> (data, count)


def _check_spec(key: str, fs: FieldSpec) -> None:
    where = f"field {key}"
    if fs.max_len < 0 or (fs.fixed and fs.max_len == 0 and fs.kind is not Kind.B):
        raise SpecError(f"max_len {fs.max_len} is invalid", where=where)
    if fs.prefix not in (0, 1, 2, 3, 4, 5, 6):
        raise SpecError(f"prefix of {fs.prefix} digits is not supported", where=where)
    if fs.prefix and fs.prefix_encoding is Encoding.BINARY:
        capacity = 256 ** (1 if fs.prefix <= 2 else 2) - 1
    else:
        capacity = 10**fs.prefix - 1
    if fs.prefix and fs.max_len > capacity:
        raise SpecError(f"max_len {fs.max_len} does not fit {fs.prefix} length digits", where=where)
    if fs.kind is Kind.B and fs.encoding not in (Encoding.BINARY, Encoding.HEX):
        raise SpecError("binary data must use binary or hex encoding", where=where)
    if fs.kind in TEXT_KINDS and fs.encoding in (Encoding.BINARY, Encoding.HEX):
        raise SpecError(
            f"{fs.kind.value} data cannot use {fs.encoding.value} encoding", where=where
        )
    if fs.encoding is Encoding.BCD and fs.kind not in (Kind.N, Kind.Z, Kind.XN):
        raise SpecError(f"{fs.kind.value} data cannot be packed BCD", where=where)
    if fs.length_unit is LengthUnit.WIRE and fs.encoding is not Encoding.HEX:
        raise SpecError("length_unit 'wire' only applies to hex-encoded binary data", where=where)
    if len(fs.pad_nibble) != 1 or fs.pad_nibble not in "0123456789ABCDEFabcdef":
        raise SpecError(f"pad nibble {fs.pad_nibble!r} is not one hex digit", where=where)
    try:
        "0".encode(fs.codepage)
    except LookupError as exc:
        raise SpecError(f"unknown code page {fs.codepage!r}", where=where) from exc


def _text_body(key: str, fs: FieldSpec) -> tuple[BodyEncoder, BodyDecoder]:
    kind = fs.kind
    check = _CHAR_OK[kind]
    if fs.encoding is Encoding.EBCDIC and kind is Kind.ANS:
        check = _ok_ans_any
    codec_name = "ascii" if fs.encoding is Encoding.ASCII else fs.codepage
    sign = 1 if kind is Kind.XN else 0

    def dec(buf: bytes, pos: int, count: int) -> tuple[str, int]:
        end = pos + count + sign
        raw = buf[pos:end]
        if len(raw) != count + sign:
            raise DecodeError(f"needs {count + sign} bytes, {len(raw)} left", field=key, offset=pos)
        try:
            s = raw.decode(codec_name)
        except UnicodeDecodeError as exc:
            raise DecodeError(
                f"byte 0x{raw[exc.start]:02X} is not {codec_name}",
                field=key,
                offset=pos + exc.start,
            ) from None
        if not check(s):
            raise DecodeError(
                _bad_text(key, kind, s, check), field=key, offset=pos + _first_bad(kind, s, check)
            )
        return s, end

    def enc(value: Any) -> tuple[bytes, int]:
        if not isinstance(value, str):
            raise EncodeError(f"expected a string, got {type(value).__name__}", field=key)
        if not check(value):
            raise EncodeError(_bad_text(key, kind, value, check), field=key)
        try:
            return value.encode(codec_name), len(value) - sign
        except UnicodeEncodeError as exc:
            raise EncodeError(
                f"character {value[exc.start]!r} has no {codec_name} encoding", field=key
            ) from None

    return enc, dec


def _bcd_offset(pos: int, index: int, *, sign: bool, lead: bool) -> int:
    """Byte holding character ``index`` of a decoded BCD value (sign byte, pad nibble)."""
    if sign:
        if index == 0:
            return pos
        pos, index = pos + 1, index - 1
    return pos + (index + lead) // 2


def _bcd_body(key: str, fs: FieldSpec) -> tuple[BodyEncoder, BodyDecoder]:
    kind = fs.kind
    check = _CHAR_OK[kind]
    pad_left = fs.pad is Pad.LEFT
    pad = fs.pad_nibble.lower()
    track = kind is Kind.Z
    sign = 1 if kind is Kind.XN else 0

    def dec(buf: bytes, pos: int, count: int) -> tuple[str, int]:
        nbytes = (count + 1) // 2 + sign
        end = pos + nbytes
        raw = buf[pos:end]
        if len(raw) != nbytes:
            raise DecodeError(f"needs {nbytes} bytes, {len(raw)} left", field=key, offset=pos)
        prefix = ""
        if sign:
            prefix = chr(raw[0])
            raw = raw[1:]
        h = raw.hex()
        if count & 1:
            if pad_left:
                p, h = h[0], h[1:]
            else:
                p, h = h[-1], h[:-1]
            if p != pad:
                raise DecodeError(
                    f"pad nibble is {p.upper()}, expected {pad.upper()}", field=key, offset=pos
                )
        if track:
            h = h.replace("d", "=")
        s = prefix + h
        if not check(s):
            bad = _first_bad(kind, s, check)
            raise DecodeError(
                _bad_text(key, kind, s.upper(), check),
                field=key,
                offset=_bcd_offset(pos, bad, sign=bool(sign), lead=bool(count & 1 and pad_left)),
            )
        return s, end

    def enc(value: Any) -> tuple[bytes, int]:
        if not isinstance(value, str):
            raise EncodeError(f"expected a string, got {type(value).__name__}", field=key)
        if not check(value):
            raise EncodeError(_bad_text(key, kind, value, check), field=key)
        digits = value[sign:]
        count = len(digits)
        if track:
            digits = digits.replace("=", "D")
        if count & 1:
            digits = pad + digits if pad_left else digits + pad
        data = bytes.fromhex(digits)
        return (value[0].encode("ascii") + data if sign else data), count

    return enc, dec


def _binary_body(key: str, fs: FieldSpec) -> tuple[BodyEncoder, BodyDecoder]:
    hexed = fs.encoding is Encoding.HEX
    wire_units = fs.length_unit is LengthUnit.WIRE

    def dec(buf: bytes, pos: int, count: int) -> tuple[bytes, int]:
        nbytes = count * 2 if hexed and not wire_units else count
        end = pos + nbytes
        raw = buf[pos:end]
        if len(raw) != nbytes:
            raise DecodeError(f"needs {nbytes} bytes, {len(raw)} left", field=key, offset=pos)
        if not hexed:
            return raw, end
        if nbytes & 1:
            raise DecodeError(f"{nbytes} hex characters is an odd count", field=key, offset=pos)
        try:
            return binascii.unhexlify(raw), end
        except (binascii.Error, ValueError):
            bad = next(i for i, c in enumerate(raw) if chr(c) not in "0123456789ABCDEFabcdef")
            raise DecodeError(
                f"byte 0x{raw[bad]:02X} is not a hex digit", field=key, offset=pos + bad
            ) from None

    def enc(value: Any) -> tuple[bytes, int]:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise EncodeError(f"expected bytes, got {type(value).__name__}", field=key)
        value = bytes(value)
        if not hexed:
            return value, len(value)
        data = binascii.hexlify(value).upper()
        return data, (len(data) if wire_units else len(value))

    return enc, dec


def _body(key: str, fs: FieldSpec) -> tuple[BodyEncoder, BodyDecoder]:
    if fs.kind is Kind.B:
        return _binary_body(key, fs)
    if fs.encoding is Encoding.BCD:
        return _bcd_body(key, fs)
    return _text_body(key, fs)


# --- whole fields ------------------------------------------------------------------------------


def compile_field(key: str, fs: FieldSpec) -> FieldCodec:
    """Build the codec of one field (or subfield); raises SpecError on impossible specs."""
    _check_spec(key, fs)
    body_enc, body_dec = _body(key, fs)
    max_len = fs.max_len
    unit = (
        "digits"
        if fs.kind in (Kind.N, Kind.Z, Kind.XN)
        else ("bytes" if fs.kind is Kind.B and fs.length_unit is LengthUnit.VALUE else "characters")
    )
    if fs.kind is Kind.B and fs.length_unit is LengthUnit.WIRE:
        unit = "hex characters"

    if fs.fixed:

        def encode(value: Any) -> bytes:
            data, count = body_enc(value)
            if count != max_len:
                raise EncodeError(f"length {count} {unit}, expected exactly {max_len}", field=key)
            return data

        def decode(buf: bytes, pos: int) -> tuple[Any, int]:
            return body_dec(buf, pos, max_len)
    else:
        enc_len, dec_len = _prefix_codec(key, fs)

        def encode(value: Any) -> bytes:
            data, count = body_enc(value)
            if count > max_len:
                raise EncodeError(f"length {count} {unit} exceeds the maximum {max_len}", field=key)
            return enc_len(count) + data

        def decode(buf: bytes, pos: int) -> tuple[Any, int]:
            count, start = dec_len(buf, pos)
            if count > max_len:
                raise DecodeError(
                    f"length {count} {unit} exceeds the maximum {max_len}", field=key, offset=pos
                )
            return body_dec(buf, start, count)

    codec = _fast_path(fs, FieldCodec(encode, decode))
    if fs.composite is not None:
        from iso8583.composite import wrap_composite

        return wrap_composite(key, fs, codec)
    return codec


# --- fast paths --------------------------------------------------------------------------------
# The generic closures above explain every failure precisely. The common layouts get a second,
# flatter pair that checks the same rules in fewer calls and hands anything irregular to the
# generic pair, so errors are reported by one piece of code only.


def _fast_text_check(fs: FieldSpec) -> Callable[[str], bool]:
    if fs.kind is Kind.N:
        return str.isdigit  # the data was decoded from ASCII-only bytes below
    return _CHAR_OK[fs.kind]


def _fast_path(fs: FieldSpec, generic: FieldCodec) -> FieldCodec:
    slow_enc, slow_dec = generic.encode, generic.decode
    max_len = fs.max_len
    ascii_prefix = fs.prefix in (2, 3, 4) and fs.prefix_encoding is Encoding.ASCII
    if fs.encoding is Encoding.ASCII and fs.kind in TEXT_KINDS and fs.kind is not Kind.XN:
        check = _fast_text_check(fs)
        if fs.fixed:

            def encode(value: Any) -> bytes:
                if (
                    type(value) is str
                    and len(value) == max_len
                    and value.isascii()
                    and check(value)
                ):
                    return value.encode("ascii")
                return slow_enc(value)

            def decode(buf: bytes, pos: int) -> tuple[Any, int]:
                end = pos + max_len
                raw = buf[pos:end]
                if len(raw) == max_len and raw.isascii():
                    s = raw.decode("ascii")
                    if check(s):
                        return s, end
                return slow_dec(buf, pos)

            if fs.kind is Kind.N:

                def decode(buf: bytes, pos: int) -> tuple[Any, int]:
                    end = pos + max_len
                    raw = buf[pos:end]
                    if len(raw) == max_len and raw.isdigit():  # bytes: ASCII digits only
                        return raw.decode("ascii"), end
                    return slow_dec(buf, pos)

            return FieldCodec(encode, decode)
        if ascii_prefix:
            width = fs.prefix
            fmt = f"%0{width}d%s"

            def encode(value: Any) -> bytes:
                if (
                    type(value) is str
                    and 0 < len(value) <= max_len
                    and value.isascii()
                    and check(value)
                ):
                    return (fmt % (len(value), value)).encode("ascii")
                return slow_enc(value)

            def decode(buf: bytes, pos: int) -> tuple[Any, int]:
                head = buf[pos : pos + width]
                if head.isdigit():
                    count = int(head)
                    start = pos + width
                    end = start + count
                    raw = buf[start:end]
                    if 0 < count <= max_len and len(raw) == count and raw.isascii():
                        s = raw.decode("ascii")
                        if check(s):
                            return s, end
                return slow_dec(buf, pos)

            return FieldCodec(encode, decode)
    if fs.kind is Kind.B and fs.fixed and fs.length_unit is LengthUnit.VALUE:
        if fs.encoding is Encoding.BINARY:

            def decode(buf: bytes, pos: int) -> tuple[Any, int]:
                end = pos + max_len
                raw = buf[pos:end]
                if len(raw) == max_len:
                    return raw, end
                return slow_dec(buf, pos)

            def encode(value: Any) -> bytes:
                if type(value) is bytes and len(value) == max_len:
                    return value
                return slow_enc(value)

            return FieldCodec(encode, decode)
        width = 2 * max_len

        def encode(value: Any) -> bytes:
            if type(value) is bytes and len(value) == max_len:
                return binascii.hexlify(value).upper()
            return slow_enc(value)

        def decode(buf: bytes, pos: int) -> tuple[Any, int]:
            end = pos + width
            raw = buf[pos:end]
            if len(raw) == width:
                try:
                    return binascii.unhexlify(raw), end
                except (binascii.Error, ValueError):
                    pass
            return slow_dec(buf, pos)

        return FieldCodec(encode, decode)
    if fs.kind is Kind.N and fs.encoding is Encoding.BCD and fs.fixed:
        return _fast_fixed_bcd(fs, generic)
    if fs.encoding is Encoding.BCD and fs.kind in (Kind.N, Kind.Z):
        return _fast_bcd(fs, generic)
    if (
        fs.kind is Kind.B
        and fs.encoding is Encoding.BINARY
        and fs.prefix_encoding in (Encoding.BCD, Encoding.BINARY)
        and fs.prefix
    ):
        return _fast_prefixed_binary(fs, generic)
    return generic


def _fast_fixed_bcd(fs: FieldSpec, generic: FieldCodec) -> FieldCodec:
    """Fixed packed-BCD numbers, the most common field of binary dialects, without helpers."""
    slow_enc, slow_dec = generic.encode, generic.decode
    max_len = fs.max_len
    nbytes = (max_len + 1) // 2
    pad = fs.pad_nibble.lower()
    if not max_len & 1:

        def decode(buf: bytes, pos: int) -> tuple[Any, int]:
            end = pos + nbytes
            h = buf[pos:end].hex()
            if len(h) == max_len and h.isdigit():
                return h, end
            return slow_dec(buf, pos)

        def encode(value: Any) -> bytes:
            if type(value) is str and len(value) == max_len and value.isascii() and value.isdigit():
                return bytes.fromhex(value)
            return slow_enc(value)

        return FieldCodec(encode, decode)
    if fs.pad is Pad.LEFT:

        def decode_odd(buf: bytes, pos: int) -> tuple[Any, int]:
            end = pos + nbytes
            h = buf[pos:end].hex()
            if len(h) == max_len + 1 and h[0] == pad and h[1:].isdigit():
                return h[1:], end
            return slow_dec(buf, pos)

        def encode_odd(value: Any) -> bytes:
            if type(value) is str and len(value) == max_len and value.isascii() and value.isdigit():
                return bytes.fromhex(pad + value)
            return slow_enc(value)

        return FieldCodec(encode_odd, decode_odd)
    return _fast_bcd(fs, generic)


def _bcd_prefix(fs: FieldSpec) -> tuple[int, Callable[[bytes], int | None], Callable[[int], bytes]]:
    """Width, reader and writer of a BCD or binary length prefix (reader: None if invalid)."""
    if fs.prefix_encoding is Encoding.BCD:
        width = (fs.prefix + 1) // 2

        def read(raw: bytes) -> int | None:
            h = raw.hex()
            return int(h) if len(raw) == width and h.isdigit() else None

        def write(n: int) -> bytes:
            return bytes.fromhex(f"{n:0{width * 2}d}")

        return width, read, write
    width = 1 if fs.prefix <= 2 else 2

    def read_bin(raw: bytes) -> int | None:
        return int.from_bytes(raw, "big") if len(raw) == width else None

    def write_bin(n: int) -> bytes:
        return n.to_bytes(width, "big")

    return width, read_bin, write_bin


def _fast_bcd(fs: FieldSpec, generic: FieldCodec) -> FieldCodec:
    """Packed BCD numbers and track data: fixed (odd or even) or with a BCD/binary prefix."""
    slow_enc, slow_dec = generic.encode, generic.decode
    max_len = fs.max_len
    track = fs.kind is Kind.Z
    pad = fs.pad_nibble.lower()
    left = fs.pad is Pad.LEFT
    if not fs.fixed and fs.prefix_encoding not in (Encoding.BCD, Encoding.BINARY):
        return generic

    def digits_of(raw: bytes, count: int) -> str | None:
        h = raw.hex()
        if count & 1:
            if left:
                if h[0] != pad:
                    return None
                h = h[1:]
            else:
                if h[-1] != pad:
                    return None
                h = h[:-1]
        if track:
            h = h.replace("d", "=")
            return h if h.replace("=", "").isdigit() or not h.replace("=", "") else None
        return h if h.isdigit() or not h else None

    def packed(value: str) -> bytes | None:
        if track:
            if not _ok_z(value):
                return None
            value = value.replace("=", "D")
        elif not (value.isascii() and value.isdigit()):
            return None
        if len(value) & 1:
            value = pad + value if left else value + pad
        return bytes.fromhex(value)

    if fs.fixed:
        nbytes = (max_len + 1) // 2

        def decode(buf: bytes, pos: int) -> tuple[Any, int]:
            end = pos + nbytes
            raw = buf[pos:end]
            if len(raw) == nbytes:
                s = digits_of(raw, max_len)
                if s is not None:
                    return s, end
            return slow_dec(buf, pos)

        def encode(value: Any) -> bytes:
            if type(value) is str and len(value) == max_len:
                data = packed(value)
                if data is not None:
                    return data
            return slow_enc(value)

        return FieldCodec(encode, decode)
    width, read_len, write_len = _bcd_prefix(fs)

    def decode_var(buf: bytes, pos: int) -> tuple[Any, int]:
        start = pos + width
        count = read_len(buf[pos:start])
        if count is not None and count <= max_len:
            nbytes = (count + 1) // 2
            end = start + nbytes
            raw = buf[start:end]
            if len(raw) == nbytes:
                s = digits_of(raw, count)
                if s is not None:
                    return s, end
        return slow_dec(buf, pos)

    def encode_var(value: Any) -> bytes:
        if type(value) is str and 0 < len(value) <= max_len:
            data = packed(value)
            if data is not None:
                return write_len(len(value)) + data
        return slow_enc(value)

    return FieldCodec(encode_var, decode_var)


def _fast_prefixed_binary(fs: FieldSpec, generic: FieldCodec) -> FieldCodec:
    slow_enc, slow_dec = generic.encode, generic.decode
    max_len = fs.max_len
    width, read_len, write_len = _bcd_prefix(fs)

    def decode(buf: bytes, pos: int) -> tuple[Any, int]:
        start = pos + width
        count = read_len(buf[pos:start])
        if count is not None and count <= max_len:
            end = start + count
            raw = buf[start:end]
            if len(raw) == count:
                return raw, end
        return slow_dec(buf, pos)

    def encode(value: Any) -> bytes:
        if type(value) is bytes and len(value) <= max_len:
            return write_len(len(value)) + value
        return slow_enc(value)

    return FieldCodec(encode, decode)


# --- messages ----------------------------------------------------------------------------------


def _bit_table() -> tuple[tuple[tuple[int, ...], ...], ...]:
    """_BITS[i][b]: field numbers whose bits are set in byte ``b`` at bitmap byte ``i``."""
    return tuple(
        tuple(tuple(i * 8 + bit + 1 for bit in range(8) if b & (0x80 >> bit)) for b in range(256))
        for i in range(24)
    )


_BITS = _bit_table()


def _set_bits(bitmap: bytes, first_byte: int) -> list[int]:
    """Field numbers set in an 8-byte bitmap whose first byte is bitmap byte ``first_byte``."""
    numbers: list[int] = []
    for i, byte in enumerate(bitmap, first_byte):
        if byte:
            numbers.extend(_BITS[i][byte])
    return numbers


_SECONDARY = object()  # plan-cache marker: "a secondary bitmap follows this primary"
_MAX_PLANS = 4096
_MASKS = tuple(1 << (192 - n) if n else 0 for n in range(193))  # bit of field n in 192 bits


def _undefined(key: str, spec_name: str) -> Decoder:
    def decode(buf: bytes, pos: int) -> tuple[Any, int]:
        raise DecodeError(
            f"present in the bitmap but not defined by dialect {spec_name}", field=key, offset=pos
        )

    return decode


def _undefined_enc(key: str, spec_name: str) -> Encoder:
    def encode(value: Any) -> bytes:
        raise EncodeError(f"not defined by dialect {spec_name}", field=key)

    return encode


class MessageCodec:
    """Packs and unpacks whole messages of one spec.

    Layout::

        | MTI (4 ASCII/EBCDIC or 2 BCD bytes) | primary bitmap | secondary bitmap if bit 1 |
        | fields 2..128 in order (field 65 is the tertiary bitmap when the spec has one)   |
    """

    def __init__(self, spec: Spec) -> None:
        spec.validate()
        self.spec = spec
        size = spec.max_field + 1
        self._enc: list[Encoder] = [_undefined_enc(str(n), spec.name) for n in range(size)]
        self._dec: list[Decoder] = [_undefined(str(n), spec.name) for n in range(size)]
        for number, fs in spec.fields.items():
            fc = compile_field(str(number), fs)
            self._enc[number] = fc.encode
            self._dec[number] = fc.decode
        self._tertiary = spec.tertiary_bitmap
        bm = spec.bitmap_encoding
        self._bm_width = 8 if bm is BitmapEncoding.BINARY else 16
        self._bm_kind = bm
        self._cp = spec.codepage
        self._plans: dict[bytes, Any] = {}
        self._mti_cache: dict[str, bytes] = {}

    def encode_field(self, number: int, value: Any) -> bytes:
        """One field as it appears on the wire (length prefix included)."""
        return self._enc[number](value)

    # MTI ---------------------------------------------------------------------------------------
    def _encode_mti(self, mti: Any) -> bytes:
        cached = self._mti_cache.get(mti) if type(mti) is str else None
        if cached is not None:
            return cached
        encoded = self._encode_mti_checked(mti)
        if len(self._mti_cache) < 256:
            self._mti_cache[mti] = encoded
        return encoded

    def _encode_mti_checked(self, mti: Any) -> bytes:
        if not isinstance(mti, str) or len(mti) != 4 or not _ok_n(mti):
            raise EncodeError(f"MTI must be 4 digits, got {mti!r}", field="t")
        enc = self.spec.mti_encoding
        if enc is Encoding.BCD:
            return bytes.fromhex(mti)
        if enc is Encoding.EBCDIC:
            return mti.encode(self._cp)
        return mti.encode("ascii")

    def _checked_mti(self, buf: bytes) -> tuple[str, int]:
        try:
            return self._decode_mti(buf)
        except DecodeError as exc:
            exc.partial = Message("", {})  # every DecodeError carries a partial message
            raise

    def _decode_mti(self, buf: bytes) -> tuple[str, int]:
        enc = self.spec.mti_encoding
        width = 2 if enc is Encoding.BCD else 4
        raw = buf[:width]
        if len(raw) != width:
            raise DecodeError(f"MTI needs {width} bytes, got {len(raw)}", field="t", offset=0)
        if enc is Encoding.BCD:
            mti = raw.hex()
        else:
            mti = raw.decode("ascii" if enc is Encoding.ASCII else self._cp, "replace")
        if not _ok_n(mti):
            raise DecodeError(f"MTI {mti.upper()!r} is not 4 digits", field="t", offset=0)
        return mti, width

    # bitmaps -----------------------------------------------------------------------------------
    def _encode_bitmap(self, bits: bytes) -> bytes:
        if self._bm_kind is BitmapEncoding.BINARY:
            return bits
        h = binascii.hexlify(bits).upper()
        return (
            h.decode("ascii").encode(self._cp) if self._bm_kind is BitmapEncoding.EBCDIC_HEX else h
        )

    def _decode_bitmap(self, buf: bytes, pos: int, key: str) -> tuple[bytes, int]:
        width = self._bm_width
        raw = buf[pos : pos + width]
        if len(raw) != width:
            raise DecodeError(f"bitmap needs {width} bytes, {len(raw)} left", field=key, offset=pos)
        if self._bm_kind is BitmapEncoding.BINARY:
            return raw, pos + width
        if self._bm_kind is BitmapEncoding.EBCDIC_HEX:
            raw = raw.decode(self._cp).encode("ascii", "replace")
        try:
            return binascii.unhexlify(raw), pos + width
        except (binascii.Error, ValueError):
            bad = next(i for i, c in enumerate(raw) if chr(c) not in "0123456789ABCDEFabcdef")
            raise DecodeError(
                f"bitmap byte 0x{raw[bad]:02X} is not a hex digit", field=key, offset=pos + bad
            ) from None

    # messages ----------------------------------------------------------------------------------
    def pack(self, message: Message) -> bytes:
        fields = message.fields
        try:
            numbers = sorted(fields)
        except TypeError:
            raise EncodeError("field keys must be integers") from None
        if not numbers:
            return self._encode_mti(message.mti) + self._encode_bitmap(bytes(8))
        first, top = numbers[0], numbers[-1]
        if type(first) is not int or type(top) is not int or first < 2 or top > self.spec.max_field:
            bad = next(
                n for n in numbers if not isinstance(n, int) or not 2 <= n <= self.spec.max_field
            )
            raise EncodeError(f"field number must be 2..{self.spec.max_field}", field=str(bad))
        if self._tertiary:
            return self._pack_tertiary(message, numbers)
        enc = self._enc
        masks = _MASKS
        parts = [self._encode_mti(message.mti), b""]
        bits = 0
        n = 0
        try:
            for n in numbers:
                bits |= masks[n]
                parts.append(enc[n](fields[n]))
        except EncodeError:
            raise
        except Exception as exc:  # a value so odd that an encoder tripped over it
            raise EncodeError(f"cannot encode value: {exc}", field=str(n)) from exc
        if top > 64:
            raw = (bits | masks[1]).to_bytes(24, "big")
            parts[1] = self._encode_bitmap(raw[:8]) + self._encode_bitmap(raw[8:16])
        else:
            parts[1] = self._encode_bitmap(bits.to_bytes(24, "big")[:8])
        return b"".join(parts)

    def _pack_tertiary(self, message: Message, numbers: list[int]) -> bytes:
        """Packing for dialects whose field 65 is the bitmap of fields 129-192."""
        fields = message.fields
        if 65 in fields:
            raise EncodeError("field 65 is the tertiary bitmap in this dialect", field="65")
        top = numbers[-1]
        bits = 0
        for n in numbers:
            bits |= _MASKS[n]
        if top > 64:
            bits |= _MASKS[1]
        if top > 128:
            bits |= _MASKS[65]
        raw = bits.to_bytes(24, "big")
        parts = [self._encode_mti(message.mti), self._encode_bitmap(raw[:8])]
        if top > 64:
            parts.append(self._encode_bitmap(raw[8:16]))
        n = 0
        try:
            for n in numbers:
                if (
                    n > 64
                    and top > 128
                    and (bits >> (192 - 65)) & 1
                    and n == min((m for m in numbers if m > 64), default=0)
                ):
                    # The tertiary bitmap travels at the position of field 65.
                    parts.append(self._encode_bitmap(raw[16:24]))
                    bits &= ~_MASKS[65]
                parts.append(self._enc[n](fields[n]))
        except EncodeError:
            raise
        except Exception as exc:
            raise EncodeError(f"cannot encode value: {exc}", field=str(n)) from exc
        return b"".join(parts)

    def unpack(self, data: bytes | bytearray | memoryview) -> Message:
        buf = data if type(data) is bytes else bytes(data)
        mti, pos = self._checked_mti(buf)
        fields: dict[int, Any] = {}
        n = 0
        try:
            if self._tertiary:
                pos = self._fields_with_tertiary(buf, pos, fields)
            else:
                plan, pos = self._plan(buf, pos)
                for n, dec in plan:
                    fields[n], pos = dec(buf, pos)
            if pos != len(buf):
                raise DecodeError(
                    f"{len(buf) - pos} unexpected bytes after the last field", offset=pos
                )
        except DecodeError as exc:
            exc.partial = Message(mti, fields)
            raise
        except Exception as exc:  # defensive: no foreign exception may escape
            raise DecodeError(
                f"cannot decode: {exc!r}",
                field=str(n) if n else None,
                offset=pos,
                partial=Message(mti, fields),
            ) from exc
        return Message(mti, fields)

    def _plan(self, buf: bytes, pos: int) -> tuple[tuple[tuple[int, Decoder], ...], int]:
        """The (field, decoder) sequence a bitmap calls for, cached by the bitmap's raw bytes.

        A host sees few distinct bitmaps, so after the first message of each shape the bitmap
        costs one dict lookup instead of a hex decode and a walk over its bits.
        """
        w = self._bm_width
        plans = self._plans
        entry = plans.get(buf[pos : pos + w])
        if entry is _SECONDARY:
            both = buf[pos : pos + 2 * w]
            # A truncated message would otherwise look up its lone primary: the marker itself.
            entry = plans.get(both) if len(both) == 2 * w else None
            if entry is not None:
                return entry, pos + 2 * w  # type: ignore[return-value]
        elif entry is not None:
            return entry, pos + w  # type: ignore[return-value]
        start = pos
        primary, pos = self._decode_bitmap(buf, pos, "p")
        numbers = _set_bits(primary, 0)
        secondary = bool(numbers) and numbers[0] == 1
        if secondary:
            more, pos = self._decode_bitmap(buf, pos, "1")
            del numbers[0]
            numbers.extend(_set_bits(more, 8))
        plan = tuple((n, self._dec[n]) for n in numbers)
        if len(plans) < _MAX_PLANS:
            if secondary:
                plans[buf[start : start + w]] = _SECONDARY
            plans[buf[start:pos]] = plan
        return plan, pos

    def _fields_with_tertiary(self, buf: bytes, pos: int, fields: dict[int, Any]) -> int:
        """Fields of a dialect whose field 65 is the bitmap of fields 129-192 (no plan cache)."""
        primary, pos = self._decode_bitmap(buf, pos, "p")
        numbers = _set_bits(primary, 0)
        if numbers and numbers[0] == 1:
            secondary, pos = self._decode_bitmap(buf, pos, "1")
            del numbers[0]
            numbers.extend(_set_bits(secondary, 8))
        dec = self._dec
        for n in numbers:
            if n == 65:
                third, pos = self._decode_bitmap(buf, pos, "65")
                numbers.extend(_set_bits(third, 16))
                continue
            fields[n], pos = dec[n](buf, pos)
        return pos
