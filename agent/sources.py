"""Where faults come from: the terminal's event bus (devices, receipts, the host link), rates
over a sliding window, and an exception hook for crashes.

Single events are not faults: one timeout is a slow host, three out of four in two minutes
is ``host.timeouts``. Devices report conditions directly (paper out is paper out); card read
errors and host outcomes are counted in a window. Raising and clearing go through the
:class:`~agent.faults.FaultTracker`, which debounces flapping.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar

from agent.faults import FaultTracker
from iso8583.masking import scrub_pans
from terminal.core.events import (
    DeviceCondition,
    DeviceEvent,
    DeviceRole,
    Event,
    LinkFailed,
    ReceiptCopyFailed,
    ReceiptCopyPrinted,
    Received,
    ReversalQueued,
    TxnFinished,
)

__all__ = ["CrashHook", "EventFaults", "RateWindow", "classify_host_failure"]

_PRINTER_CONDITIONS = {
    DeviceCondition.PAPER_OUT: "printer.paper_out",
    DeviceCondition.PAPER_NEAR_END: "printer.paper_near_end",
    DeviceCondition.COVER_OPEN: "printer.cover_open",
    DeviceCondition.OFFLINE: "printer.offline",
}
_PRINTER_CODES = tuple(_PRINTER_CONDITIONS.values())


def classify_host_failure(reason: str) -> str:
    """``mac``, ``timeout`` or ``unreachable`` for a link/engine failure text."""
    text = reason.lower()
    if "mac" in text:
        return "mac"
    if "timed out" in text or "timeout" in text or "no answer" in text:
        return "timeout"
    return "unreachable"


class RateWindow:
    """Outcomes in the last ``window`` seconds; a class is a fault when it has at least
    ``min_events`` and at least ``raise_ratio`` of all outcomes, and is over when its share
    falls under ``clear_ratio`` (hysteresis, so it does not flap at the threshold)."""

    def __init__(
        self,
        window: float = 120.0,
        *,
        min_events: int = 3,
        raise_ratio: float = 0.5,
        clear_ratio: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.min_events = min_events
        self.raise_ratio = raise_ratio
        self.clear_ratio = clear_ratio
        self._clock = clock
        self._items: deque[tuple[float, str]] = deque()

    def add(self, outcome: str) -> None:
        self._items.append((self._clock(), outcome))
        self._prune()

    def _prune(self) -> None:
        horizon = self._clock() - self.window
        while self._items and self._items[0][0] < horizon:
            self._items.popleft()

    def stats(self, outcome: str) -> tuple[int, int]:
        self._prune()
        return sum(1 for _, o in self._items if o == outcome), len(self._items)

    def verdict(self, outcome: str) -> bool | None:
        """True: raise; False: clear; None: no change."""
        count, total = self.stats(outcome)
        if count >= self.min_events and count >= self.raise_ratio * total:
            return True
        if total == 0 or count < self.clear_ratio * total:
            return False
        return None


class EventFaults:
    """Turns bus events into faults; ``on_printer_ok`` runs when the printer works again."""

    HOST_CODES: ClassVar[dict[str, str]] = {
        "timeout": "host.timeouts",
        "unreachable": "host.unreachable",
        "mac": "host.mac_errors",
    }

    def __init__(
        self,
        faults: FaultTracker,
        *,
        on_printer_ok: Callable[[], None] = lambda: None,
        host_window: float = 120.0,
        read_window: float = 60.0,
    ) -> None:
        self.faults = faults
        self.on_printer_ok = on_printer_ok
        self.host = RateWindow(host_window)
        self.reads = RateWindow(read_window, min_events=3, raise_ratio=0.0, clear_ratio=1e-9)
        self.failed_copies: set[tuple[int, str]] = set()

    def handle(self, event: Event) -> None:
        match event:
            case DeviceEvent():
                self._device(event)
            case ReceiptCopyFailed(journal_id=jid, copy=copy, reason=reason, printer=printer):
                self.failed_copies.add((jid, copy))
                self.faults.raise_(
                    "printer.failed",
                    f"receipt copy did not print: {reason}",
                    {
                        "journal_id": jid,
                        "copy": copy,
                        "reason": reason,
                        "printer": printer,
                        "failed_copies": len(self.failed_copies),
                    },
                )
            case ReceiptCopyPrinted(journal_id=jid, copy=copy):
                self.failed_copies.discard((jid, copy))
                self._printer_ok()
            case Received():
                self._host("ok")
            case LinkFailed(reason=reason):
                self._host(classify_host_failure(reason))
            case ReversalQueued(reason=reason):
                self._host(classify_host_failure(reason))
            case TxnFinished(error=error, response_code=code) if error or code == "A0":
                self._host("mac" if code == "A0" else classify_host_failure(error))
            case _:
                pass

    def _printer_ok(self) -> None:
        for code in _PRINTER_CODES:
            self.faults.clear(code)
        self.on_printer_ok()

    def _device(self, event: DeviceEvent) -> None:
        role, cond = event.role, event.condition
        detail = {"device": event.name, "url": event.url, "detail": event.detail}
        if role is DeviceRole.PRINTER:
            if cond in _PRINTER_CONDITIONS:
                self.faults.raise_(_PRINTER_CONDITIONS[cond], details=detail)
                if cond is DeviceCondition.PAPER_NEAR_END:
                    return
            elif cond in (DeviceCondition.ONLINE, DeviceCondition.RECOVERED):
                self._printer_ok()
            return
        prefix = "reader" if role is DeviceRole.READER else "scanner"
        if cond is DeviceCondition.OFFLINE:
            self.faults.raise_(f"{prefix}.offline", details=detail)
        elif cond in (DeviceCondition.ONLINE, DeviceCondition.RECOVERED):
            self.faults.clear(f"{prefix}.offline")
        elif cond is DeviceCondition.READ_ERROR and role is DeviceRole.READER:
            self.reads.add("error")
            count, _ = self.reads.stats("error")
            if count >= self.reads.min_events:
                details = {**detail, "errors_in_window": count, "window_s": self.reads.window}
                self.faults.raise_("reader.read_errors", details=details)

    def _host(self, outcome: str) -> None:
        self.host.add(outcome)
        for kind, code in self.HOST_CODES.items():
            verdict = self.host.verdict(kind)
            if verdict is True:
                count, total = self.host.stats(kind)
                self.faults.raise_(
                    code, details={"in_window": count, "of": total, "window_s": self.host.window}
                )
            elif verdict is False:
                self.faults.clear(code)

    def tick(self) -> None:
        """Periodic: clear window faults whose events aged out."""
        if self.reads.stats("error")[0] == 0:
            self.faults.clear("reader.read_errors")
        for kind, code in self.HOST_CODES.items():
            if self.host.verdict(kind) is False:
                self.faults.clear(code)


class CrashHook:
    """Reports an unhandled exception (main thread, other threads, the event loop) as
    ``app.crash`` before the default handling runs; the report is on disk before the
    process can die. Tracebacks are scrubbed of anything that looks like a PAN."""

    def __init__(self, report: Callable[[dict[str, Any]], None]) -> None:
        self._report = report
        self._old_sys: Any = None
        self._old_thread: Any = None

    def install(self) -> None:
        self._old_sys, sys.excepthook = sys.excepthook, self._sys_hook
        self._old_thread, threading.excepthook = threading.excepthook, self._thread_hook

    def uninstall(self) -> None:
        if self._old_sys is not None:
            sys.excepthook = self._old_sys
            threading.excepthook = self._old_thread
            self._old_sys = self._old_thread = None

    def record(self, exc: BaseException, where: str) -> None:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        with contextlib.suppress(Exception):  # the crash report must never make things worse
            self._report(
                {
                    "where": where,
                    "exception": type(exc).__name__,
                    "message": scrub_pans(str(exc))[:500],
                    "traceback": scrub_pans("".join(lines[-12:]))[-4000:],
                }
            )

    def _sys_hook(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            self.record(exc, "main thread")
        (self._old_sys or sys.__excepthook__)(kind, exc, tb)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None and not isinstance(args.exc_value, SystemExit):
            name = args.thread.name if args.thread else "?"
            self.record(args.exc_value, f"thread {name}")
        (self._old_thread or threading.__excepthook__)(args)

    #: Connection trouble is the link's business (reconnects), not a crash.
    NOT_CRASHES: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)

    def loop_handler(self, loop: Any, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        network = type(exc).__module__.startswith(("aiomqtt", "paho"))
        if isinstance(exc, Exception) and not network and not isinstance(exc, self.NOT_CRASHES):
            self.record(exc, f"event loop: {context.get('message', '')}")
        loop.default_exception_handler(context)
