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

from terminal.core.devices import DeviceEvent, EmitEvent

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
    reader: Any = None  # SerialCardReader (terminal.core.devices.CardReader)
    printer: Any = None  # EscPosSerialPrinter / EscPosFilePrinter (ReceiptPrinter)
    scanner: Any = None  # SerialCodeScanner (terminal.core.devices.CodeScanner)
    events: list[tuple[datetime, DeviceEvent]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listeners: list[EmitEvent] = field(default_factory=list)

    @classmethod
    def from_urls(
        cls,
        *,
        reader: str | None = None,
        printer: str | None = None,
        scanner: str | None = None,
        emit: EmitEvent | None = None,
    ) -> AttachedDevices:
        """Parse every URL first (a bad one is an error before anything is opened)."""
        devices = cls()
        if emit is not None:
            devices._listeners.append(emit)
        if reader:
            from terminal.devices.serial_reader import SerialCardReader

            devices.reader = SerialCardReader(reader, emit=devices.emit)
        if printer:
            from terminal.devices.serial_printer import open_printer

            devices.printer = open_printer(printer, emit=devices.emit)
        if scanner:
            from terminal.devices.serial_scanner import SerialCodeScanner

            devices.scanner = SerialCodeScanner(scanner, emit=devices.emit)
        return devices

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
            device.start()

    def stop(self) -> None:
        for device in self.all:
            with contextlib.suppress(Exception):
                device.stop()

    def rows(self) -> list[DeviceRow]:
        rows = []
        for role, device in (("reader", self.reader), ("printer", self.printer),
                             ("scanner", self.scanner)):  # fmt: skip
            if device is None:
                continue
            last = self._last(role)
            rows.append(DeviceRow(role, device.url, device.state, last or device.last_event))
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
