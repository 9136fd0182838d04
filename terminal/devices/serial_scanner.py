"""A QR / barcode scanner on a serial line: each CR, LF or CR/LF terminated line is one scan.

Scanners in serial mode send the decoded text and a terminator (CR by default on most);
NULs, STX/ETX framing and blank lines are dropped. A line longer than ``max_line`` bytes
without a terminator is noise and discarded, so a jammed scanner cannot fill memory.
"""

from __future__ import annotations

from terminal.core.devices import DeviceError, EmitEvent
from terminal.core.events import DeviceRole
from terminal.devices.serial_input import Expectation, InputDevice
from terminal.devices.serial_link import Backoff, parse_device_url

__all__ = ["ScanLines", "SerialCodeScanner"]

_DROP = bytes(range(0x00, 0x20)).replace(b"\r", b"").replace(b"\n", b"")


class ScanLines:
    """Byte stream -> scanned lines (ASCII/UTF-8 text without control characters)."""

    def __init__(self, max_line: int = 4096) -> None:
        self._buf = bytearray()
        self._max = max_line
        self.dropped = 0

    def feed(self, data: bytes) -> list[str]:
        self._buf += data.translate(None, _DROP)
        out: list[str] = []
        while True:
            ends = [i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0]
            if not ends:
                if len(self._buf) > self._max:
                    self.dropped += len(self._buf)
                    self._buf.clear()
                return out
            end = min(ends)
            raw, self._buf = bytes(self._buf[:end]), self._buf[end + 1 :]
            text = raw.decode("utf-8", errors="replace").strip()
            if text:
                out.append(text)

    def reset(self) -> None:
        self._buf.clear()


class SerialCodeScanner(InputDevice[str]):
    """Implements :class:`terminal.core.devices.CodeScanner`."""

    def __init__(
        self,
        url: str,
        *,
        emit: EmitEvent,
        name: str = "scanner",
        backoff: Backoff | None = None,
    ) -> None:
        parsed = parse_device_url(url, device=f"--scanner {url}")
        if parsed.is_file:
            raise DeviceError(f"--scanner {url}", "a scanner cannot be a file:")
        super().__init__(parsed, role=DeviceRole.SCANNER, name=name, emit=emit, backoff=backoff)
        self._lines = ScanLines()

    def wait_code(self, timeout: float | None) -> str:
        return self._wait(lambda _code: True, timeout, "scan")

    def expect_code(self) -> Expectation[str]:
        """Listen for the next scan from now on; ``.wait(timeout)`` for it."""
        return self._expect(lambda _code: True, "scan")

    def _feed(self, data: bytes) -> list[str]:
        return self._lines.feed(data)

    def _reset(self) -> None:
        self._lines.reset()

    def _note(self, item: str) -> None:
        self.last_event = f"scan of {len(item)} characters"
