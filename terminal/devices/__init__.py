"""Device adapters of the terminal: printers (and, beside them, readers and scanners).

:func:`open_printer` turns a printer URL into a :class:`~terminal.core.ports.ReceiptPrinter`:
``stdout``, ``file:PATH`` (ESC/POS bytes appended), ``text:PATH`` (plain text appended),
``none``. The TUI builds its own :class:`PanePrinter`.
"""

from __future__ import annotations

from collections.abc import Callable

from terminal.core.errors import TerminalError
from terminal.core.events import Event
from terminal.core.ports import ReceiptPrinter
from terminal.devices.emulated import FilePrinter, NoPrinter, PanePrinter, StreamPrinter

__all__ = [
    "PRINTER_URLS",
    "FilePrinter",
    "NoPrinter",
    "PanePrinter",
    "PrinterUrlError",
    "StreamPrinter",
    "open_printer",
]

#: What ``--printer`` accepts, for help texts.
PRINTER_URLS = (
    "an ESC/POS printer's pyserial URL (/dev/ttyUSB0?baudrate=19200, /dev/pts/N, "
    "socket://HOST:PORT, rfc2217://HOST:PORT), stdout, file:PATH (ESC/POS bytes), "
    "text:PATH (plain text) or none"
)


class PrinterUrlError(TerminalError, ValueError):
    """A printer URL that names no printer we know."""


def open_printer(url: str, *, publish: Callable[[Event], None] | None = None) -> ReceiptPrinter:
    """The printer a URL names (see :data:`PRINTER_URLS`); a serial printer reports its
    device events (paper out, offline, recovered) to ``publish``."""
    scheme, sep, rest = url.partition(":")
    if url == "stdout":
        return StreamPrinter()
    if url == "none":
        return NoPrinter()
    if sep and scheme == "file" and rest:
        return FilePrinter(rest)
    if sep and scheme == "text" and rest:
        return FilePrinter(rest, text=True, name=url)
    if _is_serial(url):
        from terminal.devices.serial_printer import EscPosSerialPrinter  # pyserial: on demand

        return EscPosSerialPrinter(url, emit=publish or (lambda _e: None))
    raise PrinterUrlError(f"printer {url!r}: expected {PRINTER_URLS}")


def _is_serial(url: str) -> bool:
    """A path to a device (``/dev/...``, ``COM3``) or a pyserial URL scheme."""
    return url.startswith(("/", "./", "COM", "loop://", "socket://", "rfc2217://", "spy://"))
