"""Messages as JSON: ``{"mti": "0200", "fields": {"2": "...", "52": "hex", "55": {...}}}``.

Binary values travel as uppercase hex strings; composite fields as objects (BER-TLV tags map to
hex strings). This is the format of ``posemu iso8583 encode/decode --json``.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any

from iso8583.errors import EncodeError
from iso8583.message import Message
from iso8583.spec import FieldSpec, Kind, Positional, Spec

__all__ = ["message_from_json", "message_to_json"]


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


def message_to_json(message: Message, spec: Spec) -> dict[str, Any]:
    return {
        "mti": message.mti,
        "fields": {
            str(n): _to_json(spec.fields.get(n), v) for n, v in sorted(message.fields.items())
        },
    }


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
