"""The devices a terminal was started with (``--reader``, ``--printer``, ``--scanner``).

Built from URLs by the wiring code (CLI commands, the runtime), started and stopped with
it; the TUI and the CLI receive this set and never open a port themselves. Each device
reports through ``emit`` (the event bus), and the set remembers every device's last event
for the devices panel.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from terminal.core.devices import CardReader, CodeScanner, EmitEvent
from terminal.core.events import DeviceEvent

__all__ = ["AttachedDevices", "DeviceRow"]


@dataclass(frozen=True)
class DeviceRow:
    """One line of the devices panel."""

    role: str
    url: str
    state: str
    last_event: str


@dataclass
class AttachedDevices:
    reader: CardReader | None = None
    printer: Any = None  # a ReceiptPrinter; a serial one also has start/stop/state
    scanner: CodeScanner | None = None
    events: list[tuple[datetime, DeviceEvent]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listeners: list[EmitEvent] = field(default_factory=list)

    @classmethod
    def from_urls(
        cls,
        *,
        reader: str | None = None,
        printer: str | Any = None,
        scanner: str | None = None,
        emit: EmitEvent | None = None,
    ) -> AttachedDevices:
        """Parse every URL first (a bad one is an error before anything is opened).

        ``printer`` is a URL, or a printer already built (``terminal.devices.open_printer``).
        """
        devices = cls()
        if emit is not None:
            devices._listeners.append(emit)
        if reader:
            from terminal.devices.serial_reader import SerialCardReader

            devices.reader = SerialCardReader(reader, emit=devices.emit)
        if isinstance(printer, str):
            from terminal.devices import open_printer

            devices.printer = open_printer(printer, publish=devices.emit)
        elif printer is not None:
            devices.printer = printer
        if scanner:
            from terminal.devices.serial_scanner import SerialCodeScanner

            devices.scanner = SerialCodeScanner(scanner, emit=devices.emit)
        return devices

    def attach_to(self, runtime: Any) -> None:
        """Hand the devices to a ``TerminalRuntime``: its receipt service prints on the
        printer, its bus gets every device event, and the reader and scanner are listed in
        ``runtime.devices.others`` for the front ends (and, later, the agent)."""
        self.subscribe(runtime.bus.publish)
        if self.printer is not None:
            runtime.set_printer(self.printer)
        for role in ("reader", "scanner"):
            device = getattr(self, role)
            if device is not None:
                runtime.devices.others[role] = device
        runtime.devices.others["attached"] = self

    def emit(self, event: DeviceEvent) -> None:
        with self._lock:
            self.events.append((datetime.now(), event))
            del self.events[:-100]
            listeners = tuple(self._listeners)
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener(event)

    def subscribe(self, listener: EmitEvent) -> None:
        with self._lock:
            self._listeners.append(listener)

    @property
    def all(self) -> list[Any]:
        return [d for d in (self.reader, self.printer, self.scanner) if d is not None]

    def start(self) -> None:
        for device in self.all:
            if hasattr(device, "start"):
                device.start()

    def stop(self) -> None:
        for device in self.all:
            with contextlib.suppress(Exception):
                if hasattr(device, "stop"):
                    device.stop()

    @property
    def printer_state(self) -> str:
        """The real printer's state for a status bar ("" when there is none)."""
        printer = self.printer
        if printer is None or not hasattr(printer, "line"):
            return ""
        return str(printer.state)

    def rows(self) -> list[DeviceRow]:
        rows = []
        for role, device in (("reader", self.reader), ("printer", self.printer),
                             ("scanner", self.scanner)):  # fmt: skip
            if device is None:
                continue
            last = self._last(role)
            url = getattr(device, "url", device.name)
            state = getattr(device, "state", "attached")
            rows.append(DeviceRow(role, url, state, last or getattr(device, "last_event", "")))
        return rows

    def _last(self, role: str) -> str:
        with self._lock:
            for at, event in reversed(self.events):
                if event.role == role:
                    when = at.strftime("%H:%M:%S")
                    detail = f": {event.detail}" if event.detail else ""
                    return f"{event.condition}{detail} ({when})"
        return ""

    def __enter__(self) -> AttachedDevices:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
