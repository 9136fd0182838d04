"""Composite fields: a field whose data is itself structured (subfields or TLV).

The outer :class:`FieldSpec` delimits the field (length prefix, encoding); the composite then
reads the field's value: positional subfields slice the text (or bytes) one after another, TLV
composites parse tags. Packing accepts either the structured ``dict`` or the plain value
(``str``/``bytes``) so a user can send data the dialect's composite model cannot express.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iso8583.errors import DecodeError, EncodeError, SpecError
from iso8583.spec import BerTlv, Encoding, FieldSpec, Kind, LengthUnit, Positional
from iso8583.tlv import (
    TlvFormat,
    decode_ber_tlv,
    decode_simple_tlv,
    encode_ber_tlv,
    encode_simple_tlv,
)

if TYPE_CHECKING:
    from iso8583.codec import FieldCodec

__all__ = ["wrap_composite"]


def _data_width(fs: FieldSpec, value: str | bytes) -> int:
    """Bytes the value's data took on the wire, to turn inner offsets into absolute ones."""
    if fs.kind is Kind.B:
        return len(value) * (2 if fs.encoding is Encoding.HEX else 1)
    sign = 1 if fs.kind is Kind.XN else 0
    if fs.encoding is Encoding.BCD:
        return sign + (len(value) - sign + 1) // 2
    return len(value)


def _inner_offset(fs: FieldSpec, start: int, inner: int) -> int:
    if fs.encoding is Encoding.BCD:
        return start + inner // 2
    if fs.kind is Kind.B and fs.encoding is Encoding.HEX:
        return start + inner * 2
    return start + inner


class _PositionalCodec:
    """Subfields "1", "2", ... read in order; trailing subfields may be absent."""

    def __init__(self, key: str, fs: FieldSpec, composite: Positional) -> None:
        from iso8583.codec import compile_field

        self.key = key
        self.text = fs.kind is not Kind.B
        subs = []
        for i, sub in enumerate(composite.subfields, 1):
            # Subfields live inside the already-decoded value: text is sliced as ASCII
            # characters (BCD digits are characters by then), bytes as raw bytes.
            if sub.encoding not in (Encoding.ASCII, Encoding.BINARY, Encoding.HEX):
                raise SpecError(
                    f"subfield {i} is read from the field's decoded value, so its encoding "
                    f"must be ascii (or binary for b), not {sub.encoding.value}",
                    where=f"field {key}",
                )
            if sub.kind is Kind.B:
                sub = sub.with_(
                    encoding=Encoding.BINARY,
                    prefix_encoding=Encoding.BINARY,
                    length_unit=LengthUnit.VALUE,
                )
            else:
                sub = sub.with_(encoding=Encoding.ASCII, prefix_encoding=Encoding.ASCII)
            subs.append((str(i), compile_field(f"{key}.{i}", sub)))
        self.subs = subs

    def decode(self, value: str | bytes) -> dict[str, Any]:
        data = value.encode("latin-1") if isinstance(value, str) else value
        out: dict[str, Any] = {}
        pos = 0
        for name, codec in self.subs:
            if pos >= len(data):
                break
            out[name], pos = codec.decode(data, pos)
        if pos != len(data):
            raise DecodeError(
                f"{len(data) - pos} characters after the last subfield", field=self.key, offset=pos
            )
        return out

    def encode(self, value: dict[str, Any]) -> str | bytes:
        names = [name for name, _ in self.subs]
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise EncodeError(
                f"unknown subfield {unknown[0]!r} (known: {', '.join(names)})", field=self.key
            )
        parts: list[bytes] = []
        missing_from: str | None = None
        for name, codec in self.subs:
            if name not in value:
                missing_from = missing_from or name
                continue
            if missing_from is not None:
                raise EncodeError(
                    f"subfield {missing_from} is missing but {name} is present", field=self.key
                )
            parts.append(codec.encode(value[name]))
        data = b"".join(parts)
        return data.decode("latin-1") if self.text else data


class _BerCodec:
    def __init__(self, key: str) -> None:
        self.key = key

    def decode(self, value: bytes) -> dict[str, Any]:
        return decode_ber_tlv(value)

    def encode(self, value: dict[str, Any]) -> bytes:
        return encode_ber_tlv(value)


class _SimpleTlvCodec:
    def __init__(self, key: str, fs: FieldSpec, composite: TlvFormat) -> None:
        self.key = key
        self.text = fs.kind is not Kind.B
        self.fmt = composite

    def decode(self, value: str | bytes) -> dict[str, Any]:
        data = value.encode("latin-1") if isinstance(value, str) else value
        return decode_simple_tlv(data, self.fmt)

    def encode(self, value: dict[str, Any]) -> str | bytes:
        data = encode_simple_tlv(value, self.fmt)
        return data.decode("latin-1") if self.text else data


def wrap_composite(key: str, fs: FieldSpec, plain: FieldCodec) -> FieldCodec:
    """Layer the composite of ``fs`` over the field's plain codec."""
    from iso8583.codec import FieldCodec

    comp = fs.composite
    inner: _PositionalCodec | _BerCodec | _SimpleTlvCodec
    if isinstance(comp, Positional):
        inner = _PositionalCodec(key, fs, comp)
    elif isinstance(comp, BerTlv):
        if fs.kind is not Kind.B:
            raise SpecError("BER-TLV needs a binary (b) field", where=f"field {key}")
        inner = _BerCodec(key)
    else:
        assert isinstance(comp, TlvFormat)
        inner = _SimpleTlvCodec(key, fs, comp)

    plain_encode, plain_decode = plain.encode, plain.decode
    inner_decode = decode_ber_tlv if isinstance(inner, _BerCodec) else inner.decode

    def decode(buf: bytes, pos: int) -> tuple[Any, int]:
        value, end = plain_decode(buf, pos)
        try:
            return inner_decode(value), end
        except DecodeError as exc:
            start = end - _data_width(fs, value)
            field = exc.field if exc.field and exc.field.startswith(key + ".") else key
            raise DecodeError(
                exc.reason,
                field=field,
                path=exc.path,
                offset=_inner_offset(fs, start, exc.offset or 0),
            ) from None

    def encode(value: Any) -> bytes:
        if isinstance(value, dict):
            try:
                value = inner.encode(value)
            except EncodeError as exc:
                if exc.field and exc.field.startswith(key + "."):
                    raise
                raise EncodeError(exc.reason, field=key, path=exc.path) from None
        return plain_encode(value)

    return FieldCodec(encode, decode)
