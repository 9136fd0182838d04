"""Ports for the input devices a terminal talks to, and a printer's real-time status.

(The printer port, ``ReceiptPrinter``, is in :mod:`terminal.core.ports`; device events are
``DeviceEvent`` in :mod:`terminal.core.events`.)

The core only states what a card reader, a code scanner and a printer's status are; the
adapters (serial lines, the emulated ones) live in :mod:`terminal.devices`. Readers and
scanners push what they read to listeners, and a caller that needs one swipe or one scan
waits for it: nothing read while nobody listens is kept, so a swipe on an idle terminal
can never pay a later sale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from terminal.core.errors import PrinterError, TerminalError
from terminal.core.events import DeviceEvent
from terminal.core.reader_text import SwipeFailed, SwipeRead

__all__ = [
    "CardReader",
    "CodeScanner",
    "DeviceError",
    "DeviceTimeout",
    "EmitEvent",
    "Expecting",
    "PrinterError",
    "PrinterStatus",
    "ReaderOutcome",
]

ReaderOutcome = SwipeRead | SwipeFailed
_T_co = TypeVar("_T_co", covariant=True)


EmitEvent = Callable[[DeviceEvent], None]


class DeviceError(TerminalError):
    """A device cannot be used (bad URL or setting, port gone); ``device`` names it."""

    def __init__(self, device: str, reason: str) -> None:
        self.device = device
        self.reason = reason
        super().__init__(f"{device}: {reason}")


class DeviceTimeout(DeviceError):
    """Nothing was read from the device in the time allowed."""


@dataclass(frozen=True)
class PrinterStatus:
    """A printer's real-time status, as ESC/POS DLE EOT (and GS r) report it."""

    online: bool = True
    paper_out: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    error: bool = False

    @property
    def can_print(self) -> bool:
        return self.online and not (self.paper_out or self.cover_open or self.error)

    @property
    def problem(self) -> str | None:
        """Why a receipt cannot print now, in a cashier's words (None when it can)."""
        if self.cover_open:
            return "cover open"
        if self.paper_out:
            return "paper out"
        if self.error:
            return "printer error"
        if not self.online:
            return "printer offline"
        return None

    def describe(self) -> str:
        """One short state for status bars: the problem, else paper low, else ready."""
        return self.problem or ("paper low" if self.paper_near_end else "ready")


class Expecting(Protocol[_T_co]):
    """A wait that listens from its creation (so nothing read meanwhile is missed)."""

    def wait(self, timeout: float | None) -> _T_co: ...
    def close(self) -> None: ...
    def __enter__(self) -> Expecting[_T_co]: ...
    def __exit__(self, *exc: object) -> None: ...


class _InputDevice(Protocol):
    name: str
    url: str

    @property
    def state(self) -> str:
        """closed, online or offline."""
        ...

    @property
    def last_error(self) -> str:
        """Why the device is offline ("" when it is not)."""
        ...

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def wait_online(self, timeout: float) -> bool:
        """True once the port is open and read (bytes sent before that were flushed)."""
        ...


class CardReader(_InputDevice, Protocol):
    """A magnetic-stripe reader: pushes each swipe (or read error) to its listeners."""

    def subscribe(self, listener: Callable[[ReaderOutcome], None]) -> Callable[[], None]: ...
    def expect_swipe(self) -> Expecting[ReaderOutcome]:
        """Listen for the next good swipe from now on; read errors go to listeners only."""
        ...

    def wait_swipe(self, timeout: float | None) -> SwipeRead: ...


class CodeScanner(_InputDevice, Protocol):
    """A QR / barcode scanner: one line of text per scan."""

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]: ...
    def expect_code(self) -> Expecting[str]: ...
    def wait_code(self, timeout: float | None) -> str: ...
