"""Fault codes, and the tracker that turns conditions into debounced raised/cleared reports.

A condition is *raised* at once the first time it is seen, and *cleared* only after it has
stayed away for ``hold_down`` seconds; a re-raise inside that window cancels the pending
clear. So a flapping cover switch or a loose cable gives one raised and, once stable, one
cleared report, not a flood. Repeats while open are counted in the open fault's details.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.clock import format_time
from agent.store import OpenFaults

__all__ = ["FAULT_CODES", "FaultCode", "FaultTracker", "OpenFault"]


@dataclass(frozen=True, slots=True)
class FaultCode:
    code: str
    severity: str  # critical | major | minor | warning
    message: str

    @property
    def component(self) -> str:
        return self.code.split(".", 1)[0]


FAULT_CODES: dict[str, FaultCode] = {
    f.code: f
    for f in (
        FaultCode("printer.paper_out", "major", "printer out of paper"),
        FaultCode("printer.paper_near_end", "warning", "printer paper near end"),
        FaultCode("printer.cover_open", "major", "printer cover open"),
        FaultCode("printer.offline", "major", "printer not answering"),
        FaultCode("printer.failed", "major", "a receipt did not print"),
        FaultCode("reader.offline", "major", "card reader not answering"),
        FaultCode("reader.read_errors", "minor", "card reads failing"),
        FaultCode("scanner.offline", "minor", "QR scanner not answering"),
        FaultCode("host.unreachable", "critical", "acquirer host unreachable"),
        FaultCode("host.timeouts", "major", "acquirer host answers too slowly"),
        FaultCode("host.mac_errors", "critical", "acquirer messages fail MAC checks"),
        FaultCode("storage.low", "major", "terminal storage nearly full"),
        FaultCode("app.crash", "critical", "terminal application crashed"),
        FaultCode("battery.low", "warning", "battery low"),
        FaultCode("tamper", "critical", "tamper switch triggered"),
    )
}


@dataclass(slots=True)
class OpenFault:
    code: str
    report_id: str
    raised_at: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    repeats: int = 0

    def as_dict(self) -> dict[str, Any]:
        spec = FAULT_CODES[self.code]
        return {
            "code": self.code,
            "component": spec.component,
            "severity": spec.severity,
            "raised_at": self.raised_at,
            "fault_id": self.report_id,
            "message": self.message,
            "repeats": self.repeats,
        }


#: ``emit(state, code, message, details) -> report id`` — the agent turns it into a report.
Emit = Callable[[str, str, str, dict[str, Any]], str]


class FaultTracker:
    """Open faults of one terminal and the raised/cleared reports they cause."""

    def __init__(
        self,
        emit: Emit,
        *,
        hold_down: float = 2.0,
        history: int = 50,
        persist: OpenFaults | None = None,
    ) -> None:
        self._emit = emit
        self._persist = persist
        self.hold_down = hold_down
        self.open: dict[str, OpenFault] = {}
        self._clearing: dict[str, asyncio.TimerHandle] = {}
        self.recent: list[dict[str, Any]] = []  # last raised/cleared, for repair requests
        self._history = history
        if persist is not None:  # raised before a restart: still open, still to be cleared
            for code, saved in persist.load().items():
                if code in FAULT_CODES:
                    self.open[code] = OpenFault(
                        code,
                        saved["report_id"],
                        saved["raised_at"],
                        saved["message"],
                        saved.get("details", {}),
                    )

    def raise_(self, code: str, message: str = "", details: dict[str, Any] | None = None) -> None:
        if code not in FAULT_CODES:
            raise KeyError(f"unknown fault code {code!r}")
        pending = self._clearing.pop(code, None)
        if pending:
            pending.cancel()
        fault = self.open.get(code)
        if fault is not None:
            fault.repeats += 1
            if details:
                fault.details.update(details)
            return
        message = message or FAULT_CODES[code].message
        report_id = self._emit("raised", code, message, dict(details or {}))
        fault = OpenFault(code, report_id, format_time(), message, dict(details or {}))
        self.open[code] = fault
        if self._persist is not None:
            self._persist.save(
                code,
                {
                    "report_id": report_id,
                    "raised_at": fault.raised_at,
                    "message": message,
                    "details": fault.details,
                },
            )
        self._remember("raised", code, message)

    def clear(self, code: str, message: str = "") -> None:
        """Clear after the hold-down (at once when no event loop runs)."""
        if code not in self.open:
            return
        pending = self._clearing.get(code)
        if pending is not None:
            if not message:
                return
            pending.cancel()  # keep the more telling message of the two
            self._clearing.pop(code)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._do_clear(code, message)
            return
        self._clearing[code] = loop.call_later(self.hold_down, self._do_clear, code, message)

    def _do_clear(self, code: str, message: str) -> None:
        self._clearing.pop(code, None)
        fault = self.open.pop(code, None)
        if fault is None:
            return
        if self._persist is not None:
            self._persist.remove(code)
        text = message or f"{FAULT_CODES[code].message}: cleared"
        details = {"fault_id": fault.report_id, "raised_at": fault.raised_at}
        details["repeats"] = fault.repeats
        self._emit("cleared", code, text, details)
        self._remember("cleared", code, text)

    def flush(self) -> None:
        """Apply pending clears now (on shutdown, so a clear is not lost with the process)."""
        for code, handle in list(self._clearing.items()):
            handle.cancel()
            self._do_clear(code, "")

    def _remember(self, state: str, code: str, message: str) -> None:
        self.recent.append({"at": format_time(), "state": state, "code": code, "message": message})
        del self.recent[: -self._history]

    def snapshot(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self.open.values()]
