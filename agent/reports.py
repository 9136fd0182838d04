"""JSON payloads of the reports a terminal sends (docs/tms-protocol.md has the full schema).

Every report is one JSON object with ``v`` (protocol version), ``type``, ``id`` (unique, for
de-duplication), ``tid`` (terminal ID) and ``at`` (ISO 8601 UTC), plus its own fields.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from agent.clock import format_time, new_id

__all__ = ["PROTOCOL_VERSION", "DeviceIdentity", "decode", "encode", "report"]

PROTOCOL_VERSION = 1


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """What support needs to know which box this is (the after-sales flow in the domain notes)."""

    terminal_id: str
    model: str = "POSEMU-S1"
    serial: str = ""
    firmware: str = "0.1.0"
    purchase_date: str = ""  # ISO date, as recorded at installation

    def as_dict(self) -> dict[str, str]:
        data = asdict(self)
        data.pop("terminal_id")
        return data


def report(kind: str, identity: DeviceIdentity, **fields: Any) -> dict[str, Any]:
    """A new report of ``kind`` with a fresh ID and time; ``fields`` are added as given."""
    body: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "type": kind,
        "id": new_id(),
        "tid": identity.terminal_id,
        "at": format_time(),
    }
    body.update(fields)
    return body


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def decode(payload: bytes) -> dict[str, Any] | None:
    """A report object, or None if the payload is not a JSON object (never raises)."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
