"""MACs on whole messages and the sign-on key exchange of the acquirer protocol.

MAC rule (as most acquirers): the MAC field is the last field of the message: 64 when no
field above 64 is present, 128 otherwise. It is computed with ISO 9797-1 algorithm 3 (retail
MAC, TDES MAC key) over every packed byte that precedes the MAC field's data; the MAC field
travels in the message (its bit set) while being computed, with zeros in place of its value.

Key exchange: at sign-on the host generates a PIN key and a MAC key, returns each encrypted
under the terminal master key (TMK) with its check value; the terminal decrypts and verifies
the KCVs before using them.
"""

from __future__ import annotations

from dataclasses import dataclass

from iso8583.acquirer.model import SessionKeys
from iso8583.errors import CryptoError
from iso8583.keys import (
    Key,
    KeyAlgorithm,
    decrypt_key,
    encrypt_key,
    generate_key,
    key_check_value,
)
from iso8583.mac import MacAlgorithm, compute_mac, verify_mac
from iso8583.message import Message
from iso8583.spec import Spec

__all__ = [
    "TEST_TMK",
    "WorkingKeys",
    "apply_mac",
    "issue_session_keys",
    "mac_field_for",
    "open_session_keys",
    "pack_with_mac",
    "verify_message_mac",
]

#: The emulator's published test master key; real terminals load theirs in a key ceremony.
TEST_TMK = Key(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"), KeyAlgorithm.TDES)

MAC_ALGORITHM = MacAlgorithm.ISO9797_ALG3
_ZERO_MAC = bytes(8)


@dataclass(frozen=True, slots=True)
class WorkingKeys:
    """Clear working keys held in memory only; repr shows check values, never key bytes."""

    pin_key: Key
    mac_key: Key


def mac_field_for(message: Message) -> int:
    fields = message.fields
    top = max(fields, default=0)
    if top <= 64:
        return 64
    if top != 128:
        return 128
    return 128 if max(fields.keys() - {64, 128}, default=0) > 64 else 64


_WIDTHS: dict[tuple[object, int], int] = {}


def _mac_field_width(spec: Spec, field: int) -> int:
    """Bytes the 8-byte MAC occupies on the wire in this dialect (8, or 16 as hex)."""
    codec = spec.codec
    key = (codec, field)
    width = _WIDTHS.get(key)
    if width is None:
        width = len(codec.encode_field(field, _ZERO_MAC))
        if len(_WIDTHS) >= 64:
            _WIDTHS.clear()
        _WIDTHS[key] = width
    return width


def _with_zero_mac(message: Message) -> tuple[int, Message]:
    field = mac_field_for(message)
    fields = {n: v for n, v in message.fields.items() if n not in (64, 128)}
    fields[field] = _ZERO_MAC
    return field, Message(message.mti, fields)


def pack_with_mac(message: Message, spec: Spec, mac_key: Key) -> bytes:
    """Pack once, MAC the bytes before the MAC field, and splice the MAC in."""
    fields = message.fields
    if 64 in fields or 128 in fields:
        field, probe = _with_zero_mac(message)
    else:  # the usual reply: no MAC field yet, a plain copy plus the zero MAC will do
        field = mac_field_for(message)
        probe_fields = dict(fields)
        probe_fields[field] = _ZERO_MAC
        probe = Message(message.mti, probe_fields)
    codec = spec.codec
    packed = codec.pack(probe)
    head = packed[: -_mac_field_width(spec, field)]
    return head + codec.encode_field(field, compute_mac(head, mac_key, MAC_ALGORITHM))


def apply_mac(message: Message, spec: Spec, mac_key: Key) -> Message:
    """Return the message with its MAC field set (field 64 or 128)."""
    field, probe = _with_zero_mac(message)
    packed = spec.codec.pack(probe)
    probe.fields[field] = compute_mac(
        packed[: -_mac_field_width(spec, field)], mac_key, MAC_ALGORITHM
    )
    return probe


def verify_message_mac(
    message: Message, spec: Spec, mac_key: Key, *, raw: bytes | None = None
) -> None:
    """Raise :class:`~iso8583.errors.MacMismatchError` unless the message's MAC is right.

    ``raw`` (the bytes ``message`` was unpacked from) saves packing the message again: the
    MAC covers exactly the bytes in front of the MAC field, which is the last field.
    """
    field = mac_field_for(message)
    mac = message.fields.get(field)
    if not isinstance(mac, bytes):
        raise CryptoError(f"message has no MAC in field {field}")
    width = _mac_field_width(spec, field)
    if raw is None:
        raw = spec.codec.pack(_with_zero_mac(message)[1])
    verify_mac(raw[:-width], mac, mac_key, MAC_ALGORITHM)


def issue_session_keys(tmk: Key = TEST_TMK) -> tuple[WorkingKeys, SessionKeys]:
    """Host side of sign-on: fresh working keys, and their encrypted form for the terminal."""
    pin_key = generate_key(KeyAlgorithm.TDES, 16)
    mac_key = generate_key(KeyAlgorithm.TDES, 16)
    wire = SessionKeys(
        pin_key=encrypt_key(pin_key, tmk),
        pin_kcv=key_check_value(pin_key),
        mac_key=encrypt_key(mac_key, tmk),
        mac_kcv=key_check_value(mac_key),
    )
    return WorkingKeys(pin_key, mac_key), wire


def open_session_keys(wire: SessionKeys, tmk: Key = TEST_TMK) -> WorkingKeys:
    """Terminal side of sign-on: decrypt the working keys and check their KCVs."""
    pin = Key(decrypt_key(wire.pin_key, tmk), KeyAlgorithm.TDES)
    mac = Key(decrypt_key(wire.mac_key, tmk), KeyAlgorithm.TDES)
    if key_check_value(pin) != wire.pin_kcv:
        raise CryptoError("PIN key check value does not match: wrong master key?")
    if key_check_value(mac) != wire.mac_kcv:
        raise CryptoError("MAC key check value does not match: wrong master key?")
    return WorkingKeys(pin, mac)
