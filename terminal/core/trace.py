"""The message trace: what went over the wire, field by field, masked, with timings.

Why an event: the engine publishes one :class:`MessageTraced` per message sent or received
on the event bus, and whoever wants a trace listens (``posemu pay --trace``, the TUI's trace
screen, a ``--trace-file``). The record is masked when it is made, so no listener can leak
card data: PANs first 6 / last 4 (:func:`iso8583.masking.mask_pan`), tracks cut after the
PAN, PIN blocks and EMV values as lengths, the working keys of a sign-on answer hidden, and a
wallet payment code masked like a PAN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iso8583.describe import masked_value
from iso8583.masking import mask_pan
from iso8583.message import Message
from iso8583.spec import Spec
from terminal.core.events import Event

__all__ = ["MessageTraced", "trace_record"]

#: Fields that carry working keys (under the TMK) in network-management (x8xx) messages.
_KEY_FIELDS = frozenset({62, 96})
#: Fields that may carry a consumer-presented payment code (a bearer credential).
_CODE_FIELDS = frozenset({59})


@dataclass(frozen=True, slots=True)
class MessageTraced(Event):
    """One ISO 8583 message as it left or reached the terminal (already masked)."""

    direction: str  # "sent" or "received"
    mti: str
    stan: str
    kind: str
    spec: str
    at: datetime  # wall-clock time, local
    size: int  # bytes of the packed message (without framing)
    #: Milliseconds since the request went out (``received``), or 0.0 (``sent``).
    elapsed_ms: float
    fields: tuple[tuple[int, str, Any], ...]  # (number, name, masked value)
    note: str = ""  # e.g. "stale answer, skipped", "undecodable"

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "mti": self.mti,
            "stan": self.stan,
            "kind": self.kind,
            "spec": self.spec,
            "at": self.at.isoformat(timespec="milliseconds"),
            "size": self.size,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "fields": {str(n): v for n, _, v in self.fields},
            "note": self.note,
        }

    def json_line(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, default=str)

    def text(self) -> str:
        """A field-by-field dump, e.g. for ``posemu pay --trace``."""
        arrow = ">>" if self.direction == "sent" else "<<"
        timing = "" if self.direction == "sent" else f" after {self.elapsed_ms:.1f} ms"
        head = (
            f"{arrow} {self.direction} {self.mti} {self.kind} stan {self.stan or '-'} "
            f"{self.size} bytes{timing} at {self.at:%H:%M:%S.%f}"[:-3]
        )
        lines = [head + (f"  ({self.note})" if self.note else "")]
        for number, name, value in self.fields:
            lines.extend(_lines(f"  {number:>3}  {name[:40]:<40} ", value))
        return "\n".join(lines)


def _lines(label: str, value: Any) -> list[str]:
    if isinstance(value, dict):
        out = [label.rstrip()]
        for key, sub in value.items():
            out.extend(_lines(f"{' ' * 9}{key:<6} ", sub))
        return out
    return [f"{label}{value}"]


def _masked(spec: Spec, mti: str, number: int, value: Any) -> Any:
    if number in _KEY_FIELDS and mti[1:2] == "8":
        size = len(value) if isinstance(value, bytes | str) else 0
        return f"[{size} {'bytes' if isinstance(value, bytes) else 'chars'} hidden: keys]"
    if number in _CODE_FIELDS and isinstance(value, str):
        compact = value.strip()
        if compact.isascii() and compact.isdigit() and len(compact) >= 12:
            return mask_pan(compact)
        if compact and not compact.startswith("000201"):  # not an MPM payload: a CPM code
            return f"[{len(compact)} chars hidden: payment code]"
    shown = masked_value(spec.fields.get(number), value)
    return shown.hex().upper() if isinstance(shown, bytes) else shown


def trace_record(
    direction: str,
    message: Message,
    spec: Spec,
    *,
    kind: str,
    size: int,
    elapsed_ms: float = 0.0,
    note: str = "",
    at: datetime | None = None,
) -> MessageTraced:
    """A masked trace record of ``message``."""
    fields = tuple(
        (number, spec.field_name(number), _masked(spec, message.mti, number, value))
        for number, value in sorted(message.fields.items())
    )
    return MessageTraced(
        direction=direction,
        mti=message.mti,
        stan=str(message.fields.get(11, "")),
        kind=kind,
        spec=spec.name,
        at=at or datetime.now(),
        size=size,
        elapsed_ms=elapsed_ms,
        fields=fields,
        note=note,
    )
