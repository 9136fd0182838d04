"""Messages as JSON: ``{"mti": "0200", "fields": {"2": "...", "52": "hex", "55": {...}}}``.

Binary values travel as uppercase hex strings; composite fields as objects (BER-TLV tags map to
hex strings). This is the format of ``posemu iso8583 encode/decode --json``.

Bulk conversion (``posemu iso8583 ... -``, 20,000 messages) spends as much time here as in the
codec, so each dialect gets its table of per-field converters once (:func:`json_table`): the
usual value (a string in a text field, a hex string in a binary one) takes one dict lookup and
one type check; anything else goes through the general rules below, which also word the errors.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from iso8583.describe import masked_value
from iso8583.errors import EncodeError
from iso8583.masking import scrub_pans
from iso8583.message import Message
from iso8583.spec import FieldSpec, Kind, Mask, Positional, Spec

__all__ = ["JsonTable", "json_table", "message_from_json", "message_to_json"]


def _to_json(fs: FieldSpec | None, value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex().upper()
    if isinstance(value, dict):
        subs = fs.composite.subfields if fs and isinstance(fs.composite, Positional) else ()
        return {
            k: _to_json(subs[int(k) - 1] if k.isdigit() and 0 < int(k) <= len(subs) else None, v)
            for k, v in value.items()
        }
    return value


def _from_json(key: str, fs: FieldSpec, value: Any) -> Any:
    if isinstance(value, dict):
        if isinstance(fs.composite, Positional):
            subs = fs.composite.subfields
            out = {}
            for k, v in value.items():
                if not (k.isdigit() and 0 < int(k) <= len(subs)):
                    raise EncodeError(f"unknown subfield {k!r}", field=key)
                out[k] = _from_json(f"{key}.{k}", subs[int(k) - 1], v)
            return out
        if fs.composite is None:
            raise EncodeError("an object was given but the field has no subfields", field=key)
        return value
    if fs.kind is Kind.B:
        if not isinstance(value, str):
            raise EncodeError(
                f"binary value must be a hex string, got {type(value).__name__}", field=key
            )
        try:
            return binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            raise EncodeError("binary value must be an even-length hex string", field=key) from None
    if isinstance(value, int) and not isinstance(value, bool) and fs.kind is Kind.N:
        raise EncodeError(
            f'numeric fields are strings in JSON (leading zeros matter), write "{value}"', field=key
        )
    return value


Out = Callable[[Any], Any]


def _shown(fs: FieldSpec, reveal: bool) -> Out:
    """Field value -> its JSON value as shown: in clear, or masked like ``describe`` does."""
    if reveal:
        if fs.kind is Kind.B and fs.composite is None:

            def hexed(value: Any) -> Any:
                return value.hex().upper() if type(value) is bytes else _to_json(fs, value)

            return hexed

        def plain(value: Any) -> Any:
            return value if type(value) is str else _to_json(fs, value)

        return plain
    if fs.mask is Mask.NONE and fs.kind is not Kind.B:

        def scrubbed(value: Any) -> Any:
            if type(value) is str:
                return scrub_pans(value)
            return masked_value(fs, _to_json(fs, value))

        return scrubbed

    def masked(value: Any) -> Any:
        return masked_value(fs, _to_json(fs, value))

    return masked


class JsonTable:
    """One dialect's JSON converters (build with :func:`json_table`, which caches them)."""

    def __init__(self, spec: Spec, reveal: bool) -> None:
        self.spec = spec
        self._out = {n: (str(n), _shown(fs, reveal)) for n, fs in spec.fields.items()}
        # key -> (number, hex string means bytes, an object is taken as it is)
        self._in: dict[str, tuple[int, bool, bool]] = {
            str(n): (
                n,
                fs.kind is Kind.B,
                fs.composite is not None and not isinstance(fs.composite, Positional),
            )
            for n, fs in spec.fields.items()
        }

    def to_json(self, message: Message) -> dict[str, Any]:
        out = {}
        table = self._out
        fields = message.fields
        for n in sorted(fields):
            entry = table.get(n)
            if entry is None:
                out[str(n)] = masked_value(None, _to_json(None, fields[n]))
            else:
                out[entry[0]] = entry[1](fields[n])
        return {"mti": message.mti, "fields": out}

    def from_json(self, obj: Any) -> Message:
        """Validate the JSON shape and turn hex strings back to bytes where the spec says b."""
        if type(obj) is not dict or len(obj) != 2 or type(mti := obj.get("mti")) is not str:
            return message_from_json(obj, self.spec)
        raw_fields = obj.get("fields")
        if type(raw_fields) is not dict:
            return message_from_json(obj, self.spec)
        table = self._in
        fields: dict[int, Any] = {}
        unhex = binascii.unhexlify
        for key, value in raw_fields.items():
            entry = table.get(key)
            if entry is None:
                return message_from_json(obj, self.spec)
            n, binary, tree = entry
            if type(value) is str:
                if binary:
                    try:
                        value = unhex(value)
                    except (binascii.Error, ValueError):
                        return message_from_json(obj, self.spec)
            elif not (tree and type(value) is dict):
                return message_from_json(obj, self.spec)
            fields[n] = value
        return Message(mti, fields)


@lru_cache(maxsize=32)
def json_table(spec: Spec, *, reveal: bool = True) -> JsonTable:
    """The converters of ``spec`` (in clear with ``reveal``, else masked), built once."""
    return JsonTable(spec, reveal)


def message_to_json(message: Message, spec: Spec) -> dict[str, Any]:
    return json_table(spec, reveal=True).to_json(message)


def message_from_json(obj: Any, spec: Spec) -> Message:
    """Validate the JSON shape and convert hex strings back to bytes where the spec says b."""
    if not isinstance(obj, Mapping):
        raise EncodeError("message JSON must be an object with 'mti' and 'fields'")
    unknown = set(obj) - {"mti", "fields"}
    if unknown:
        raise EncodeError(f"unknown key {sorted(unknown)[0]!r} (expected 'mti' and 'fields')")
    mti = obj.get("mti")
    if not isinstance(mti, str):
        raise EncodeError("'mti' must be a string of 4 digits", field="t")
    raw_fields = obj.get("fields", {})
    if not isinstance(raw_fields, Mapping):
        raise EncodeError("'fields' must be an object keyed by field number")
    fields: dict[int, Any] = {}
    for key, value in raw_fields.items():
        if not (isinstance(key, str) and key.isdigit()):
            raise EncodeError(f"field key {key!r} is not a field number")
        number = int(key)
        fs = spec.fields.get(number)
        if fs is None:
            raise EncodeError(f"not defined by dialect {spec.name}", field=key)
        fields[number] = _from_json(key, fs, value)
    return Message(mti, fields)
