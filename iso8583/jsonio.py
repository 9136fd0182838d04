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

from iso8583.describe import masked_bytes, masked_value
from iso8583.errors import EncodeError
from iso8583.masking import mask_pan, mask_track, scrub_sensitive
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
    """Field value -> its JSON value as shown: in clear, or masked like ``describe`` does.

    Same results as ``masked_value(fs, _to_json(fs, value))``, with the usual value types
    taken directly: bytes of a binary field, the tag tree (hex strings) of a TLV field.
    """

    def general(value: Any) -> Any:
        shown = _to_json(fs, value)
        return shown if reveal else masked_value(fs, shown)

    tree = fs.composite is not None and not isinstance(fs.composite, Positional)
    if tree and (reveal or fs.mask is Mask.EMV):
        # A tag tree holds hex strings only, so its JSON form is itself.
        if reveal:
            return lambda value: value if type(value) is dict else general(value)
        return lambda value: masked_value(fs, value) if type(value) is dict else general(value)
    if fs.kind is Kind.B and fs.composite is None and (reveal or fs.mask is Mask.NONE):
        if reveal:
            return lambda value: value.hex().upper() if type(value) is bytes else general(value)
        return lambda value: masked_bytes(value) if type(value) is bytes else general(value)
    if not reveal and fs.kind is not Kind.B:
        text = {Mask.PAN: mask_pan, Mask.TRACK: mask_track, Mask.NONE: scrub_sensitive}.get(fs.mask)
        if text is not None:
            return lambda value: text(value) if type(value) is str else general(value)
    return general


class JsonTable:
    """One dialect's JSON converters (build with :func:`json_table`, which caches them)."""

    def __init__(self, spec: Spec, reveal: bool) -> None:
        self.spec = spec
        self.reveal = reveal
        size = spec.max_field + 1
        self._keys = [str(n) for n in range(size)]
        self._out: list[Out | None] = [None] * size
        # Text values that go out as they are: all in clear; else those of unmasked fields
        # too short to hold a PAN (longer ones are scrubbed of PANs in free text).
        self._as_is = [False] * size
        for n, fs in spec.fields.items():
            self._out[n] = _shown(fs, reveal)
            self._as_is[n] = fs.kind is not Kind.B and (reveal or fs.mask is Mask.NONE)
        self._in: dict[str, tuple[int, bool, bool]] = {
            # key -> (number, hex string means bytes, an object is taken as it is)
            str(n): (
                n,
                fs.kind is Kind.B,
                fs.composite is not None and not isinstance(fs.composite, Positional),
            )
            for n, fs in spec.fields.items()
        }

    def to_json(self, message: Message) -> dict[str, Any]:
        try:
            items = sorted(message.fields.items())
            out = {}
            keys, conv, as_is = self._keys, self._out, self._as_is
            if self.reveal:
                for n, v in items:
                    out[keys[n]] = v if type(v) is str and as_is[n] else conv[n](v)  # type: ignore[misc]
            else:
                for n, v in items:
                    if type(v) is str and as_is[n] and len(v) < 13:
                        out[keys[n]] = v
                    else:
                        out[keys[n]] = conv[n](v)  # type: ignore[misc]
            return {"mti": message.mti, "fields": out}
        except (TypeError, IndexError):  # keys a dialect cannot have: the general rules
            return self._to_json_general(message)

    def _to_json_general(self, message: Message) -> dict[str, Any]:
        fields = {}
        for n, v in sorted(message.fields.items()):
            fs = self.spec.fields.get(n)
            shown = _to_json(fs, v)
            fields[str(n)] = shown if self.reveal else masked_value(fs, shown)
        return {"mti": message.mti, "fields": fields}

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
