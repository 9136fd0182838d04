"""The base of every ISO 8583 field construct: definition checks, length prefixes, and the
construct protocol shared by all wire layouts (``iso8583.fields`` has the layouts).

A :class:`FieldConstruct` is built from one :class:`FieldSpec`: its subclass supplies the data
("body") codec and the flat path; this class adds the length prefix, the checks of the count
against ``max_len``, and ``_parse``/``_build``/``_sizeof``, so every field works inside any
``Struct``, ``Prefixed`` or ``Switch``. Errors are the library's: ``DecodeError`` with field and
offset (from the start of the stream the construct reads), ``EncodeError`` with the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from construct import Construct, SizeofError, StreamError, stream_tell, stream_write

from iso8583.errors import DecodeError, EncodeError, SpecError
from iso8583.fieldspec import TEXT_KINDS, Encoding, FieldSpec, Kind, LengthUnit

__all__ = [
    "BodyDecoder",
    "BodyEncoder",
    "Decoder",
    "Encoder",
    "FieldConstruct",
    "check_field_spec",
    "prefix_width",
    "quick_prefix",
]

Decoder = Callable[[bytes, int], tuple[Any, int]]
Encoder = Callable[[Any], bytes]
BodyDecoder = Callable[[bytes, int, int], tuple[Any, int]]  # (buf, pos, count)
BodyEncoder = Callable[[Any], tuple[bytes, int]]  # value -> (data, count)


def check_field_spec(key: str, fs: FieldSpec) -> None:
    """Refuse impossible definitions once, so packing never meets one (SpecError names it)."""
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


# --- length prefixes ---------------------------------------------------------------------------


def prefix_width(fs: FieldSpec) -> int:
    if not fs.prefix:
        return 0
    if fs.prefix_encoding is Encoding.BCD:
        return (fs.prefix + 1) // 2
    if fs.prefix_encoding is Encoding.BINARY:
        return 1 if fs.prefix <= 2 else 2
    return fs.prefix


def _prefix_codec(
    key: str, fs: FieldSpec
) -> tuple[Callable[[int], bytes], Callable[[bytes, int], tuple[int, int]]]:
    enc = fs.prefix_encoding
    width = prefix_width(fs)

    def short(raw: bytes, pos: int) -> DecodeError:
        return DecodeError(
            f"length prefix needs {width} bytes, {len(raw)} left", field=key, offset=pos
        )

    if enc is Encoding.ASCII or enc is Encoding.EBCDIC:
        cp = fs.codepage
        ebcdic = enc is Encoding.EBCDIC
        fmt = b"%0" + str(width).encode() + b"d"

        def enc_len(n: int) -> bytes:
            out = fmt % n
            return out.decode("ascii").encode(cp) if ebcdic else out

        def dec_len(buf: bytes, pos: int) -> tuple[int, int]:
            raw = buf[pos : pos + width]
            if len(raw) != width:
                raise short(raw, pos)
            if ebcdic:
                raw = raw.decode(cp).encode("ascii", "replace")
            if not raw.isdigit():
                raise DecodeError(
                    f"length prefix {raw!r} is not {width} digits", field=key, offset=pos
                )
            return int(raw), pos + width

        return enc_len, dec_len
    if enc is Encoding.BCD:

        def enc_bcd(n: int) -> bytes:
            return bytes.fromhex(f"{n:0{width * 2}d}")

        def dec_bcd(buf: bytes, pos: int) -> tuple[int, int]:
            raw = buf[pos : pos + width]
            if len(raw) != width:
                raise short(raw, pos)
            h = raw.hex()
            if not h.isdigit():
                raise DecodeError(
                    f"length prefix {h.upper()} is not packed BCD", field=key, offset=pos
                )
            return int(h), pos + width

        return enc_bcd, dec_bcd
    if enc is Encoding.BINARY:

        def enc_bin(n: int) -> bytes:
            return n.to_bytes(width, "big")

        def dec_bin(buf: bytes, pos: int) -> tuple[int, int]:
            raw = buf[pos : pos + width]
            if len(raw) != width:
                raise short(raw, pos)
            return int.from_bytes(raw, "big"), pos + width

        return enc_bin, dec_bin
    raise SpecError(
        f"length prefix encoding {enc.value} is not ascii, ebcdic, bcd or binary",
        where=f"field {key}",
    )


def quick_prefix(fs: FieldSpec) -> tuple[Callable[[bytes], int | None], Callable[[int], bytes]]:
    """Reader and writer of a BCD or binary prefix for the flat paths (reader: None if bad)."""
    width = prefix_width(fs)
    if fs.prefix_encoding is Encoding.BCD:

        def read(raw: bytes) -> int | None:
            h = raw.hex()
            return int(h) if len(raw) == width and h.isdigit() else None

        def write(n: int) -> bytes:
            return bytes.fromhex(f"{n:0{width * 2}d}")

        return read, write

    def read_bin(raw: bytes) -> int | None:
        return int.from_bytes(raw, "big") if len(raw) == width else None

    def write_bin(n: int) -> bytes:
        return n.to_bytes(width, "big")

    return read_bin, write_bin


# --- the construct classes ---------------------------------------------------------------------


class FieldConstruct(Construct):  # type: ignore[misc]
    """One field (length prefix and data) of a dialect, keyed ``key`` in errors ("2", "48.3")."""

    unit = "characters"

    def __init__(self, key: str, fs: FieldSpec) -> None:
        super().__init__()
        check_field_spec(key, fs)
        self.key = key
        self.fs = fs
        self.prefix_width = prefix_width(fs)
        self.encode: Encoder
        self.decode: Decoder
        body_enc, body_dec = self._body()
        generic_enc, generic_dec = self._whole(body_enc, body_dec)
        self.encode, self.decode = self._flat(generic_enc, generic_dec)

    def __repr__(self) -> str:
        fs = self.fs
        size = f"LL{'L' * (fs.prefix - 2)}" if fs.prefix >= 2 else (fs.prefix or "fixed")
        return f"<{type(self).__name__} {self.key} {fs.kind.value}{fs.max_len} {size}>"

    # subclass hooks ----------------------------------------------------------------------------
    def _body(self) -> tuple[BodyEncoder, BodyDecoder]:
        raise NotImplementedError

    def data_bytes(self, count: int) -> int:
        """Wire bytes of the data of a value of ``count`` units."""
        raise NotImplementedError

    def _flat(self, enc: Encoder, dec: Decoder) -> tuple[Encoder, Decoder]:
        return enc, dec

    def emit_decode(self, n: int) -> list[str] | None:
        """Source that reads field ``n`` at ``p`` of ``buf`` into ``f[n]`` (None: call it)."""
        return None

    def emit_encode(self, n: int) -> str | None:
        """A source expression giving the bytes of ``v[n]`` (None: call ``encode``)."""
        return None

    # the whole field ---------------------------------------------------------------------------
    def _whole(self, body_enc: BodyEncoder, body_dec: BodyDecoder) -> tuple[Encoder, Decoder]:
        key, fs = self.key, self.fs
        max_len, unit = fs.max_len, self.unit
        if fs.fixed:

            def encode(value: Any) -> bytes:
                data, count = body_enc(value)
                if count != max_len:
                    raise EncodeError(
                        f"length {count} {unit}, expected exactly {max_len}", field=key
                    )
                return data

            def decode(buf: bytes, pos: int) -> tuple[Any, int]:
                return body_dec(buf, pos, max_len)

            return encode, decode
        enc_len, dec_len = _prefix_codec(key, fs)

        def encode_var(value: Any) -> bytes:
            data, count = body_enc(value)
            if count > max_len:
                raise EncodeError(f"length {count} {unit} exceeds the maximum {max_len}", field=key)
            return enc_len(count) + data

        def decode_var(buf: bytes, pos: int) -> tuple[Any, int]:
            count, start = dec_len(buf, pos)
            if count > max_len:
                raise DecodeError(
                    f"length {count} {unit} exceeds the maximum {max_len}", field=key, offset=pos
                )
            return body_dec(buf, start, count)

        self.read_length = dec_len
        return encode_var, decode_var

    # construct protocol ------------------------------------------------------------------------
    def _parse(self, stream: Any, context: Any, path: str) -> Any:
        try:
            start = stream_tell(stream, path)
        except StreamError:
            start = 0
        try:
            raw = self.read_raw(stream)
            value, _ = self.decode(raw, 0)
        except DecodeError as exc:
            raise DecodeError(
                exc.reason,
                field=exc.field,
                offset=None if exc.offset is None else exc.offset + start,
                path=exc.path,
            ) from None
        return value

    def read_raw(self, stream: Any) -> bytes:
        """Read exactly this field's bytes (fewer at the end of the stream: decode says so)."""
        fs = self.fs
        if fs.fixed:
            return bytes(stream.read(self.data_bytes(fs.max_len)))
        head = bytes(stream.read(self.prefix_width))
        count, _ = self.read_length(head, 0)
        if count > fs.max_len:
            return head  # decode reports the length against the maximum
        return head + bytes(stream.read(self.data_bytes(count)))

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        data = self.encode(obj)
        stream_write(stream, data, len(data), path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        if self.fs.fixed:
            return self.data_bytes(self.fs.max_len)
        raise SizeofError(f"field {self.key} has a length prefix: its size varies", path=path)
