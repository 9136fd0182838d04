"""ISO 8583 fields as construct classes: one class per wire layout of the data.

=============  ==========================================================================
class          data on the wire
=============  ==========================================================================
TextField      characters in ASCII or an EBCDIC code page (n, a, an, ans, z, x+n)
BcdField       packed BCD digits, two a byte, with a pad nibble for odd counts (n, z, x+n)
BinaryField    raw bytes (b)
HexField       bytes written as hex characters, two a byte (b)
=============  ==========================================================================

Each is fixed (``prefix=0``) or carries a length prefix of any digit count (LL, LLL, LLLL...)
written in ASCII, EBCDIC, packed BCD or binary. Every class is a ``construct.Construct``
(``_parse``/``_build``/``_sizeof``), so a field works inside any ``Struct``, ``Prefixed`` or
``Switch``, and offers three faster doors to the same rules for the message construct
(``iso8583.codec``):

* ``decode(buf, pos) -> (value, end)`` and ``encode(value) -> bytes``: the buffer API. A flat
  path handles well-formed values; anything irregular goes to the generic path, which explains
  every failure (``DecodeError`` with field and offset, ``EncodeError`` with field).
* ``emit_decode``/``emit_encode``: Python source for the flat path, which the message construct
  inlines into one function per bitmap (the idea of construct's ``_emitparse``/``_emitbuild``:
  decide everything when compiling, only slice and check at run time).
"""

from __future__ import annotations

import binascii
from typing import Any

from iso8583.charsets import CHAR_OK, bad_text, first_bad, ok_ans_any, ok_z
from iso8583.errors import DecodeError, EncodeError
from iso8583.fieldbase import (
    BodyDecoder,
    BodyEncoder,
    Decoder,
    Encoder,
    FieldConstruct,
    check_field_spec,
    quick_prefix,
)
from iso8583.fieldspec import Encoding, FieldSpec, Kind, LengthUnit, Pad

__all__ = [
    "BcdField",
    "BinaryField",
    "FieldConstruct",
    "HexField",
    "TextField",
    "check_field_spec",
    "plain_field",
]


class TextField(FieldConstruct):
    """Characters: ASCII, or EBCDIC in the field's code page."""

    def __init__(self, key: str, fs: FieldSpec) -> None:
        self.unit = "digits" if fs.kind in (Kind.N, Kind.Z, Kind.XN) else "characters"
        self.sign = 1 if fs.kind is Kind.XN else 0
        self.check = CHAR_OK[fs.kind]
        if fs.encoding is Encoding.EBCDIC and fs.kind is Kind.ANS:
            self.check = ok_ans_any
        super().__init__(key, fs)

    def data_bytes(self, count: int) -> int:
        return count + self.sign

    def _body(self) -> tuple[BodyEncoder, BodyDecoder]:
        key, kind, check, sign = self.key, self.fs.kind, self.check, self.sign
        codec_name = "ascii" if self.fs.encoding is Encoding.ASCII else self.fs.codepage

        def dec(buf: bytes, pos: int, count: int) -> tuple[str, int]:
            end = pos + count + sign
            raw = buf[pos:end]
            if len(raw) != count + sign:
                raise DecodeError(
                    f"needs {count + sign} bytes, {len(raw)} left", field=key, offset=pos
                )
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
                    bad_text(kind, s, check), field=key, offset=pos + first_bad(kind, s, check)
                )
            return s, end

        def enc(value: Any) -> tuple[bytes, int]:
            if not isinstance(value, str):
                raise EncodeError(f"expected a string, got {type(value).__name__}", field=key)
            if not check(value):
                raise EncodeError(bad_text(kind, value, check), field=key)
            try:
                return value.encode(codec_name), len(value) - sign
            except UnicodeEncodeError as exc:
                raise EncodeError(
                    f"character {value[exc.start]!r} has no {codec_name} encoding", field=key
                ) from None

        return enc, dec

    @property
    def _flat_ok(self) -> bool:
        fs = self.fs
        return fs.encoding is Encoding.ASCII and fs.kind is not Kind.XN

    @property
    def _ascii_prefix(self) -> bool:
        return self.fs.prefix in (2, 3, 4) and self.fs.prefix_encoding is Encoding.ASCII

    def _flat(self, slow_enc: Encoder, slow_dec: Decoder) -> tuple[Encoder, Decoder]:
        if not self._flat_ok or not (self.fs.fixed or self._ascii_prefix):
            return slow_enc, slow_dec
        max_len = self.fs.max_len
        # After the bytes were checked to be ASCII, str.isdigit means ASCII digits.
        check = str.isdigit if self.fs.kind is Kind.N else self.check
        if self.fs.fixed:

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

            return encode, decode
        width = self.fs.prefix
        fmt = f"%0{width}d%s"

        def encode_var(value: Any) -> bytes:
            if (
                type(value) is str
                and 0 < len(value) <= max_len
                and value.isascii()
                and check(value)
            ):
                return (fmt % (len(value), value)).encode("ascii")
            return slow_enc(value)

        def decode_var(buf: bytes, pos: int) -> tuple[Any, int]:
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

        return encode_var, decode_var

    def _check_src(self, n: int, var: str) -> str:
        kind = self.fs.kind
        if kind is Kind.N:
            return f"{var}.isdigit()"
        if kind is Kind.ANS:
            return f"{var}.isprintable()"
        return f"C{n}({var})"

    def emit_decode(self, n: int) -> list[str] | None:
        if not self._flat_ok:
            return None
        m = self.fs.max_len
        if self.fs.fixed:
            if self.fs.kind is Kind.N:  # bytes.isdigit: ASCII digits only
                return [
                    f"e = p + {m}; r = buf[p:e]",
                    f"if len(r) == {m} and r.isdigit(): f[{n}] = r.decode(); p = e",
                    f"else: f[{n}], p = D{n}(buf, p)",
                ]
            return [
                f"e = p + {m}; r = buf[p:e]",
                f"s = r.decode() if len(r) == {m} and r.isascii() else None",
                f"if s is not None and {self._check_src(n, 's')}: f[{n}] = s; p = e",
                f"else: f[{n}], p = D{n}(buf, p)",
            ]
        if not self._ascii_prefix:
            return None
        w = self.fs.prefix
        return [
            f"c = buf[p:p + {w}]",
            "c = int(c) if c.isdigit() else 0",
            f"e = p + {w} + c; r = buf[p + {w}:e]",
            f"s = r.decode() if 0 < c <= {m} and len(r) == c and r.isascii() else None",
            f"if s is not None and {self._check_src(n, 's')}: f[{n}] = s; p = e",
            f"else: f[{n}], p = D{n}(buf, p)",
        ]

    def emit_encode(self, n: int) -> str | None:
        if not self._flat_ok:
            return None
        m = self.fs.max_len
        ok = f"a.isascii() and {self._check_src(n, 'a')}"
        if self.fs.fixed:
            return (
                f"(a.encode() if type(a := v[{n}]) is str and len(a) == {m} and {ok} else E{n}(a))"
            )
        if not self._ascii_prefix:
            return None
        w = self.fs.prefix
        return (
            f"((b'%0{w}d' % len(a)) + a.encode() if type(a := v[{n}]) is str"
            f" and 0 < len(a) <= {m} and {ok} else E{n}(a))"
        )


def _bcd_offset(pos: int, index: int, *, sign: bool, lead: bool) -> int:
    """Byte holding character ``index`` of a decoded BCD value (sign byte, pad nibble)."""
    if sign:
        if index == 0:
            return pos
        pos, index = pos + 1, index - 1
    return pos + (index + lead) // 2


class BcdField(FieldConstruct):
    """Packed BCD digits (track data: 'D' nibbles for '='; x+n: an ASCII sign byte first)."""

    unit = "digits"

    def __init__(self, key: str, fs: FieldSpec) -> None:
        self.sign = 1 if fs.kind is Kind.XN else 0
        self.check = CHAR_OK[fs.kind]
        super().__init__(key, fs)

    def data_bytes(self, count: int) -> int:
        return (count + 1) // 2 + self.sign

    def _body(self) -> tuple[BodyEncoder, BodyDecoder]:
        key, fs, check, sign = self.key, self.fs, self.check, self.sign
        kind = fs.kind
        pad_left = fs.pad is Pad.LEFT
        pad = fs.pad_nibble.lower()
        track = kind is Kind.Z

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
                bad = first_bad(kind, s, check)
                raise DecodeError(
                    bad_text(kind, s.upper(), check),
                    field=key,
                    offset=_bcd_offset(
                        pos, bad, sign=bool(sign), lead=bool(count & 1 and pad_left)
                    ),
                )
            return s, end

        def enc(value: Any) -> tuple[bytes, int]:
            if not isinstance(value, str):
                raise EncodeError(f"expected a string, got {type(value).__name__}", field=key)
            if not check(value):
                raise EncodeError(bad_text(kind, value, check), field=key)
            digits = value[sign:]
            count = len(digits)
            if track:
                digits = digits.replace("=", "D")
            if count & 1:
                digits = pad + digits if pad_left else digits + pad
            data = bytes.fromhex(digits)
            return (value[0].encode("ascii") + data if sign else data), count

        return enc, dec

    def _flat(self, slow_enc: Encoder, slow_dec: Decoder) -> tuple[Encoder, Decoder]:
        fs = self.fs
        if fs.kind not in (Kind.N, Kind.Z):
            return slow_enc, slow_dec
        if not fs.fixed and fs.prefix_encoding not in (Encoding.BCD, Encoding.BINARY):
            return slow_enc, slow_dec
        max_len = fs.max_len
        track = fs.kind is Kind.Z
        pad = fs.pad_nibble.lower()
        left = fs.pad is Pad.LEFT

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
                if not ok_z(value):
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

            return encode, decode
        width = self.prefix_width
        read_len, write_len = quick_prefix(fs)

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

        return encode_var, decode_var

    def _fixed_n(self) -> tuple[int, str] | None:
        """(digits, pad) of a fixed, left-padded (or even) n field, the common binary field."""
        fs = self.fs
        if fs.kind is not Kind.N or not fs.fixed:
            return None
        if fs.max_len & 1 and fs.pad is not Pad.LEFT:
            return None
        return fs.max_len, fs.pad_nibble.lower()

    def emit_decode(self, n: int) -> list[str] | None:
        fixed = self._fixed_n()
        if fixed is None:
            return None
        m, pad = fixed
        nb = (m + 1) // 2
        if not m & 1:
            return [
                f"e = p + {nb}; h = buf[p:e].hex()",
                f"if len(h) == {m} and h.isdigit(): f[{n}] = h; p = e",
                f"else: f[{n}], p = D{n}(buf, p)",
            ]
        return [
            f"e = p + {nb}; h = buf[p:e].hex()",
            f"if len(h) == {m + 1} and h[0] == {pad!r} and h.isdigit(): f[{n}] = h[1:]; p = e",
            f"else: f[{n}], p = D{n}(buf, p)",
        ]

    def emit_encode(self, n: int) -> str | None:
        fixed = self._fixed_n()
        if fixed is None:
            return None
        m, pad = fixed
        digits = "a" if not m & 1 else f"{pad!r} + a"
        return (
            f"(fromhex({digits}) if type(a := v[{n}]) is str and len(a) == {m}"
            f" and a.isascii() and a.isdigit() else E{n}(a))"
        )


class BinaryField(FieldConstruct):
    """Raw bytes."""

    unit = "bytes"

    def data_bytes(self, count: int) -> int:
        return count

    def _body(self) -> tuple[BodyEncoder, BodyDecoder]:
        key = self.key

        def dec(buf: bytes, pos: int, count: int) -> tuple[bytes, int]:
            end = pos + count
            raw = buf[pos:end]
            if len(raw) != count:
                raise DecodeError(f"needs {count} bytes, {len(raw)} left", field=key, offset=pos)
            return raw, end

        def enc(value: Any) -> tuple[bytes, int]:
            if not isinstance(value, bytes | bytearray | memoryview):
                raise EncodeError(f"expected bytes, got {type(value).__name__}", field=key)
            value = bytes(value)
            return value, len(value)

        return enc, dec

    def _flat(self, slow_enc: Encoder, slow_dec: Decoder) -> tuple[Encoder, Decoder]:
        fs = self.fs
        max_len = fs.max_len
        if fs.fixed:

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

            return encode, decode
        if fs.prefix_encoding not in (Encoding.BCD, Encoding.BINARY):
            return slow_enc, slow_dec
        width = self.prefix_width
        read_len, write_len = quick_prefix(fs)

        def decode_var(buf: bytes, pos: int) -> tuple[Any, int]:
            start = pos + width
            count = read_len(buf[pos:start])
            if count is not None and count <= max_len:
                end = start + count
                raw = buf[start:end]
                if len(raw) == count:
                    return raw, end
            return slow_dec(buf, pos)

        def encode_var(value: Any) -> bytes:
            if type(value) is bytes and len(value) <= max_len:
                return write_len(len(value)) + value
            return slow_enc(value)

        return encode_var, decode_var

    def emit_decode(self, n: int) -> list[str] | None:
        if not self.fs.fixed:
            return None
        m = self.fs.max_len
        return [
            f"e = p + {m}; r = buf[p:e]",
            f"if len(r) == {m}: f[{n}] = r; p = e",
            f"else: f[{n}], p = D{n}(buf, p)",
        ]

    def emit_encode(self, n: int) -> str | None:
        if not self.fs.fixed:
            return None
        m = self.fs.max_len
        return f"(a if type(a := v[{n}]) is bytes and len(a) == {m} else E{n}(a))"


class HexField(FieldConstruct):
    """Bytes written as uppercase hex characters; the length counts bytes, or hex characters
    with ``LengthUnit.WIRE``."""

    def __init__(self, key: str, fs: FieldSpec) -> None:
        self.wire_units = fs.length_unit is LengthUnit.WIRE
        self.unit = "hex characters" if self.wire_units else "bytes"
        super().__init__(key, fs)

    def data_bytes(self, count: int) -> int:
        return count if self.wire_units else count * 2

    def _body(self) -> tuple[BodyEncoder, BodyDecoder]:
        key, wire_units = self.key, self.wire_units

        def dec(buf: bytes, pos: int, count: int) -> tuple[bytes, int]:
            nbytes = count if wire_units else count * 2
            end = pos + nbytes
            raw = buf[pos:end]
            if len(raw) != nbytes:
                raise DecodeError(f"needs {nbytes} bytes, {len(raw)} left", field=key, offset=pos)
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
            data = binascii.hexlify(bytes(value)).upper()
            return data, (len(data) if wire_units else len(value))

        return enc, dec

    def _flat(self, slow_enc: Encoder, slow_dec: Decoder) -> tuple[Encoder, Decoder]:
        fs = self.fs
        max_len = fs.max_len
        if not fs.fixed:
            if fs.prefix_encoding is Encoding.ASCII and fs.prefix in (2, 3, 4):
                return self._flat_prefixed(slow_enc, slow_dec)
            return slow_enc, slow_dec
        if self.wire_units:
            return slow_enc, slow_dec
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

        return encode, decode

    def _flat_prefixed(self, slow_enc: Encoder, slow_dec: Decoder) -> tuple[Encoder, Decoder]:
        """Hex data after an ASCII LL/LLL/LLLL prefix (field 55 of ASCII dialects)."""
        max_len, width, wire_units = self.fs.max_len, self.fs.prefix, self.wire_units
        per_unit = 1 if wire_units else 2

        def encode(value: Any) -> bytes:
            if type(value) is bytes:
                count = len(value) * 2 if wire_units else len(value)
                if count <= max_len:
                    return b"%0*d" % (width, count) + binascii.hexlify(value).upper()
            return slow_enc(value)

        def decode(buf: bytes, pos: int) -> tuple[Any, int]:
            head = buf[pos : pos + width]
            if len(head) == width and head.isdigit():
                count = int(head)
                start = pos + width
                end = start + count * per_unit
                raw = buf[start:end]
                if count <= max_len and len(raw) == count * per_unit and not len(raw) & 1:
                    try:
                        return binascii.unhexlify(raw), end
                    except (binascii.Error, ValueError):
                        pass
            return slow_dec(buf, pos)

        return encode, decode

    def emit_encode(self, n: int) -> str | None:
        if not self.fs.fixed or self.wire_units:
            return None
        m = self.fs.max_len
        return f"(hexlify(a).upper() if type(a := v[{n}]) is bytes and len(a) == {m} else E{n}(a))"


def plain_field(key: str, fs: FieldSpec) -> FieldConstruct:
    """The construct of a field's wire layout, composite or not (see ``composite.field``)."""
    if fs.kind is Kind.B:
        return HexField(key, fs) if fs.encoding is Encoding.HEX else BinaryField(key, fs)
    if fs.encoding is Encoding.BCD:
        return BcdField(key, fs)
    return TextField(key, fs)
