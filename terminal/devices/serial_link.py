"""A device URL and the serial line behind it, reopened with back-off when it comes back.

URLs are pyserial's (``/dev/ttyUSB0``, ``/dev/pts/3``, ``loop://``, ``socket://HOST:PORT``,
``rfc2217://HOST:PORT``) plus serial settings as query parameters that work on every kind
of URL: ``baudrate`` (or ``baud``), ``bytesize``, ``parity`` (N, E, O, M, S), ``stopbits``
(1, 1.5, 2), ``xonxoff``, ``rtscts``, ``dsrdtr``. Device-specific parameters (a reader's
``preamble``) are handed to the device; anything left goes to pyserial's URL handler, which
rejects what it does not know, so a misspelt option is an error, never silently ignored.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from terminal.core.devices import DeviceError, EmitEvent
from terminal.core.events import DeviceCondition, DeviceEvent, DeviceRole

if TYPE_CHECKING:
    import serial

__all__ = ["Backoff", "DeviceUrl", "SerialLine", "parse_device_url"]

_PARITY = {"N": "N", "E": "E", "O": "O", "M": "M", "S": "S", "NONE": "N", "EVEN": "E", "ODD": "O"}
_BYTESIZES = {"5": 5, "6": 6, "7": 7, "8": 8}
_STOPBITS = {"1": 1, "1.5": 1.5, "2": 2}
_BAUDS = range(50, 4_000_001)
_FLAGS = ("xonxoff", "rtscts", "dsrdtr")
_TRUE, _FALSE = ("1", "on", "yes", "true"), ("0", "off", "no", "false")
#: pyserial URL handlers that take query parameters of their own.
_PYSERIAL_SCHEMES = ("socket://", "rfc2217://", "loop://", "spy://", "hwgrep://", "alt://")


@dataclass(frozen=True)
class DeviceUrl:
    """A parsed device URL: what to open, how, and the device's own options."""

    url: str  # as given, for display
    target: str  # what pyserial opens (our parameters removed)
    settings: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_file(self) -> bool:
        return self.target.startswith("file:")

    @property
    def path(self) -> str:
        """The file of a ``file:PATH`` URL."""
        return self.target[len("file:") :]


def _flag(device: str, name: str, value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise DeviceError(device, f"{name}={value!r}: expected 0/1, on/off, yes/no")


def parse_device_url(url: str, *, device: str, device_options: tuple[str, ...] = ()) -> DeviceUrl:
    """Split ``url`` into the pyserial target, serial settings and device options."""
    text = url.strip()
    if not text:
        raise DeviceError(device, "empty device URL")
    base, _, query = text.partition("?")
    settings: dict[str, Any] = {}
    options: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    # latin-1: each %XX is one byte, so a reader's preamble can be any bytes.
    for key, value in parse_qsl(query, keep_blank_values=True, encoding="latin-1"):
        name = key.lower()
        if name in ("baudrate", "baud"):
            if not value.isdigit() or int(value) not in _BAUDS:
                raise DeviceError(device, f"{key}={value!r}: expected a baud rate like 9600")
            settings["baudrate"] = int(value)
        elif name == "bytesize":
            if value not in _BYTESIZES:
                raise DeviceError(device, f"bytesize={value!r}: expected 5, 6, 7 or 8")
            settings["bytesize"] = _BYTESIZES[value]
        elif name == "parity":
            if value.upper() not in _PARITY:
                raise DeviceError(device, f"parity={value!r}: expected N, E, O, M or S")
            settings["parity"] = _PARITY[value.upper()]
        elif name == "stopbits":
            if value not in _STOPBITS:
                raise DeviceError(device, f"stopbits={value!r}: expected 1, 1.5 or 2")
            settings["stopbits"] = _STOPBITS[value]
        elif name in _FLAGS:
            settings[name] = _flag(device, name, value)
        elif name in device_options:
            options[name] = value
        else:
            rest.append((key, value))
    if base.startswith("file:"):
        if rest or settings:
            raise DeviceError(device, "a file: URL takes no serial settings")
        if not base[5:]:
            raise DeviceError(device, "file: needs a path, e.g. file:/tmp/receipts.bin")
        return DeviceUrl(text, base, {}, options)
    if rest and not base.startswith(_PYSERIAL_SCHEMES):
        names = ", ".join(k for k, _ in rest)
        raise DeviceError(device, f"unknown URL parameter(s): {names}")
    target = base + ("?" + urlencode(rest, quote_via=quote) if rest else "")
    return DeviceUrl(text, target, settings, options)


@dataclass
class Backoff:
    """Reopen delays: ``first`` seconds, doubling up to ``limit``."""

    first: float = 0.1
    limit: float = 5.0
    _next: float = 0.0

    def reset(self) -> None:
        self._next = self.first

    def next(self) -> float:
        delay = self._next or self.first
        self._next = min(delay * 2, self.limit)
        return delay


class SerialLine:
    """One port with its device's online/offline life: opened lazily, reopened after loss.

    All I/O happens under ``lock`` so a status poller and a print job never interleave.
    Events go to ``emit``: OFFLINE once per outage (with the reason), then ONLINE the first
    time the port opens, RECOVERED when it comes back after an outage.
    """

    def __init__(
        self,
        url: DeviceUrl,
        *,
        role: DeviceRole,
        name: str,
        emit: EmitEvent,
        read_timeout: float = 0.02,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url
        self.role = role
        self.name = name
        self._emit = emit
        self._read_timeout = read_timeout
        self.backoff = backoff or Backoff()
        self.lock = threading.RLock()
        self.port: serial.SerialBase | None = None
        self.state = "closed"  # closed -> online <-> offline
        self.last_error = ""
        self._retry_at = 0.0

    def event(self, condition: DeviceCondition, detail: str = "") -> None:
        """Raise a device event; a failing listener never breaks the device."""
        with contextlib.suppress(Exception):
            self._emit(DeviceEvent(self.role, self.name, self.url.url, condition, detail))

    def open(self) -> bool:
        """Open now if closed and the back-off allows; True when the port is usable."""
        with self.lock:
            if self.port is not None:
                return True
            if time.monotonic() < self._retry_at:
                return False
            try:
                self.port = _open(self.url, self._read_timeout)
            except Exception as exc:  # SerialException, OSError, ValueError from a handler
                self._lost(_reason(exc))
                return False
            was = self.state
            self.state = "online"
            self.last_error = ""
            self.backoff.reset()
            self.event(DeviceCondition.RECOVERED if was == "offline" else DeviceCondition.ONLINE)
            return True

    def lost(self, exc: BaseException) -> None:
        """The port failed mid-use: close it, go offline, retry later."""
        with self.lock:
            self._close_port()
            self._lost(_reason(exc))

    def _lost(self, reason: str) -> None:
        self._retry_at = time.monotonic() + self.backoff.next()
        if self.state != "offline":
            self.state = "offline"
            self.last_error = reason
            self.event(DeviceCondition.OFFLINE, reason)

    def wait_retry(self, stop: threading.Event) -> None:
        """Sleep until the next reopen attempt (or ``stop``)."""
        stop.wait(max(0.0, self._retry_at - time.monotonic()))

    def read(self) -> bytes:
        """What is waiting (at most ``read_timeout`` of blocking); raises on a lost port."""
        port = self.port
        if port is None:
            return b""
        return bytes(port.read(max(1, port.in_waiting)))

    def close(self) -> None:
        with self.lock:
            self._close_port()
            self.state = "closed"

    def _close_port(self) -> None:
        if self.port is not None:
            with contextlib.suppress(Exception):
                self.port.close()
            self.port = None


def _open(url: DeviceUrl, timeout: float) -> serial.SerialBase:
    import serial  # pyserial: imported by the adapters only

    port = serial.serial_for_url(url.target, do_not_open=True, timeout=timeout, write_timeout=2)
    for key, value in url.settings.items():
        setattr(port, key, value)
    port.open()
    return port


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
