"""A readable dump of a message with cardholder data masked unless ``reveal`` is asked for.

Used by ``posemu iso8583 decode`` and the host simulator's logs, which is why masking is the
default: PAN first 6 / last 4, track data cut after the PAN, PIN blocks and keys as lengths
only, EMV tags shown without values, and any Luhn-valid PAN and any consumer payment code
(EMVCo CPM payload, numeric wallet code, ``CPM:`` value) in free or binary fields masked too.
"""

from __future__ import annotations

from typing import Any

from iso8583.masking import mask_pan, mask_track, scrub_sensitive
from iso8583.message import Message
from iso8583.spec import FieldSpec, Mask, Spec

__all__ = ["describe", "masked_bytes", "masked_value"]


def _emv(tree: dict[str, Any]) -> dict[str, Any]:
    return {
        tag: _emv(v) if isinstance(v, dict) else f"[{len(v) // 2} bytes]" for tag, v in tree.items()
    }


def masked_value(fs: FieldSpec | None, value: Any) -> Any:
    """The value as it may be shown or logged."""
    mask = fs.mask if fs else Mask.NONE
    if mask is Mask.SECRET:
        size = len(value) if isinstance(value, bytes | str) else 0
        return f"[{size} bytes hidden]" if isinstance(value, bytes) else f"[{size} chars hidden]"
    if mask is Mask.EMV and isinstance(value, dict):
        return _emv(value)
    if mask is Mask.EMV and isinstance(value, bytes):
        return f"[{len(value)} bytes hidden]"
    if isinstance(value, str):
        if mask is Mask.PAN:
            return mask_pan(value)
        if mask is Mask.TRACK:
            return mask_track(value)
        return scrub_sensitive(value)
    if isinstance(value, dict):
        return {k: masked_value(None, v) for k, v in value.items()}
    if isinstance(value, bytes):
        return masked_bytes(value)
    return value


def masked_bytes(value: bytes) -> str:
    """Hex, unless the bytes are text holding a PAN or a payment code: then that text masked.

    Binary fields carry text too (a payment code, a PAN), and its hex is no mask at all.
    """
    if len(value) >= 13 and value.isascii():
        text = value.decode("ascii")
        if text.isprintable():
            scrubbed = scrub_sensitive(text)
            if scrubbed != text:
                return scrubbed
    return value.hex().upper()


def _lines(name: str, value: Any, indent: str) -> list[str]:
    if isinstance(value, dict):
        out = [f"{indent}{name}"]
        for k, v in value.items():
            out.extend(_lines(f"{k:<6}", v, indent + "    "))
        return out
    if isinstance(value, bytes):
        value = value.hex().upper()
    return [f"{indent}{name} {value}"]


def describe(message: Message, spec: Spec, *, reveal: bool = False) -> str:
    lines = [f"MTI  {message.mti}    ({spec.name})"]
    for number in sorted(message.fields):
        fs = spec.fields.get(number)
        value = message.fields[number]
        shown = value if reveal else masked_value(fs, value)
        label = f"{number:>3}  {spec.field_name(number)[:44]:<44}"
        if isinstance(shown, dict):
            lines.append(label.rstrip())
            for k, v in shown.items():
                lines.extend(_lines(f"{k:<6}", v, " " * 9))
        else:
            if isinstance(shown, bytes):
                shown = shown.hex().upper()
            lines.append(f"{label} {shown}")
    return "\n".join(lines)
