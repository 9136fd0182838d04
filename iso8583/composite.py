"""Composite fields as constructs: a field whose data is itself structured (subfields or TLV).

A composite construct wraps the plain field construct of its :class:`FieldSpec` (which delimits
the field: length prefix, encoding) and reads the field's value: positional subfields slice the
text (or bytes) one after another with their own field constructs, TLV composites parse tags
(``iso8583.tlv``). Packing accepts either the structured ``dict`` or the plain value
(``str``/``bytes``) so a user can send data the dialect's composite model cannot express.

:func:`field` is the one factory of field constructs: plain or composite, per ``FieldSpec``.
"""

from __future__ import annotations

from typing import Any

from iso8583.errors import DecodeError, EncodeError, SpecError
from iso8583.fields import FieldConstruct, plain_field
from iso8583.fieldspec import BerTlv, Encoding, FieldSpec, Kind, LengthUnit, Positional
from iso8583.tlv import (
    TlvFormat,
    decode_ber_tlv,
    decode_simple_tlv,
    encode_ber_tlv,
    encode_simple_tlv,
)

__all__ = ["BerTlvField", "CompositeField", "PositionalField", "SimpleTlvField", "field"]


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
            subs.append((str(i), field(f"{key}.{i}", sub)))
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


class CompositeField(FieldConstruct):
    """A field construct whose value is structured; ``subcon`` is the plain field it wraps."""

    def __init__(self, key: str, fs: FieldSpec) -> None:
        super(FieldConstruct, self).__init__()
        self.key = key
        self.fs = fs
        self.subcon = plain_field(key, fs)
        self.prefix_width = self.subcon.prefix_width
        self.inner = self._inner()
        self.encode, self.decode = self._wrap()

    def _inner(self) -> _PositionalCodec | _BerCodec | _SimpleTlvCodec:
        raise NotImplementedError

    def data_bytes(self, count: int) -> int:
        return self.subcon.data_bytes(count)

    def read_raw(self, stream: Any) -> bytes:
        return self.subcon.read_raw(stream)

    def _wrap(self) -> tuple[Any, Any]:
        key, fs, inner = self.key, self.fs, self.inner
        plain_encode, plain_decode = self.subcon.encode, self.subcon.decode
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

        return encode, decode


class PositionalField(CompositeField):
    """Positional subfields "1", "2", ..., each a field construct of its own."""

    def _inner(self) -> _PositionalCodec:
        assert isinstance(self.fs.composite, Positional)
        return _PositionalCodec(self.key, self.fs, self.fs.composite)


class SimpleTlvField(CompositeField):
    """Private tag-length-value subfields laid out by a :class:`TlvFormat`."""

    def _inner(self) -> _SimpleTlvCodec:
        assert isinstance(self.fs.composite, TlvFormat)
        return _SimpleTlvCodec(self.key, self.fs, self.fs.composite)


class BerTlvField(CompositeField):
    """BER-TLV chip data (field 55) in a binary field."""

    def _inner(self) -> _BerCodec:
        if self.fs.kind is not Kind.B:
            raise SpecError("BER-TLV needs a binary (b) field", where=f"field {self.key}")
        return _BerCodec(self.key)


def field(key: str, fs: FieldSpec) -> FieldConstruct:
    """The construct of one field (or subfield); raises SpecError on impossible definitions."""
    comp = fs.composite
    if comp is None:
        return plain_field(key, fs)
    if isinstance(comp, Positional):
        return PositionalField(key, fs)
    if isinstance(comp, BerTlv):
        return BerTlvField(key, fs)
    return SimpleTlvField(key, fs)
