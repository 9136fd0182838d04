"""An ESC/POS receipt printer on a serial line, with real-time status around every receipt.

Before a receipt: DLE EOT 1-4 (and GS r 1 on Epson TM profiles). A printer that is offline,
out of paper or has its cover open gets nothing; the copy fails with that reason. After
the receipt: the same queries, so paper running out mid-receipt fails the copy too. The
receipt service records the failure in the journal; a status poller notices when the
printer is fixed and says so (RECOVERED), so a reprint can follow.

URL options besides the serial settings: ``profile`` (python-escpos profile, default
TM-T88V), ``columns`` (32, 42, 48), ``status=off`` for printers that never answer status
(printing is then blind), ``settle`` (seconds to wait before the after-receipt check, for
printers that answer status before they finish printing), ``poll`` (status poll interval,
0 to disable).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from terminal.core.devices import DeviceError, EmitEvent, PrinterStatus
from terminal.core.errors import PrinterError
from terminal.core.events import DeviceCondition, DeviceRole
from terminal.core.receipts import DEFAULT_PROFILE, Receipt, render_escpos
from terminal.devices.escpos_status import (
    DLE_EOT,
    GS_R,
    StatusReplyError,
    decode_dle_eot,
    decode_gs_r1,
)
from terminal.devices.serial_link import Backoff, DeviceUrl, SerialLine, parse_device_url

__all__ = ["PRINTER_OPTIONS", "EscPosSerialPrinter"]

PRINTER_OPTIONS = ("profile", "columns", "status", "settle", "poll")
_STATUS_TIMEOUT = 0.5
_CONDITIONS = (
    ("cover_open", DeviceCondition.COVER_OPEN, "cover open"),
    ("paper_out", DeviceCondition.PAPER_OUT, "paper out"),
    ("paper_near_end", DeviceCondition.PAPER_NEAR_END, "paper near end"),
)


def _receipt_bytes(job: Any, profile: str, columns: int | None) -> bytes:
    """ESC/POS bytes of a print job (anything with ``receipt`` and optional ``width``)."""
    receipt: Receipt = job.receipt
    width = columns or getattr(job, "width", None)
    return render_escpos(receipt, profile=profile, columns=width)


def _float(device: str, name: str, value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise DeviceError(device, f"{name}={value!r}: expected {low:g}..{high:g}")
    return number


class EscPosSerialPrinter:
    """Implements the core's ``ReceiptPrinter`` port over pyserial."""

    def __init__(
        self,
        url: str | DeviceUrl,
        *,
        emit: EmitEvent,
        name: str = "printer",
        backoff: Backoff | None = None,
    ) -> None:
        parsed = (
            url
            if isinstance(url, DeviceUrl)
            else parse_device_url(url, device=f"--printer {url}", device_options=PRINTER_OPTIONS)
        )
        device = f"--printer {parsed.url}"
        opts = parsed.options
        self.name = name
        self.url = parsed.url
        self.profile = opts.get("profile", DEFAULT_PROFILE)
        self.columns = int(opts["columns"]) if opts.get("columns", "").isdigit() else None
        if "columns" in opts and self.columns not in (32, 42, 48):
            raise DeviceError(device, f"columns={opts['columns']!r}: expected 32, 42 or 48")
        status = opts.get("status", "on").lower()
        if status not in ("on", "off", "1", "0"):
            raise DeviceError(device, f"status={status!r}: expected on or off")
        self.query = status in ("on", "1")
        self.gs_r = self.profile.startswith("TM-")
        self.settle = _float(device, "settle", opts.get("settle", "0"), 0, 30)
        self.poll = _float(device, "poll", opts.get("poll", "2"), 0, 3600)
        self.line = SerialLine(
            parsed, role=DeviceRole.PRINTER, name=name, emit=emit, backoff=backoff
        )
        self.status: PrinterStatus | None = None
        self.last_event = ""
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Open the port and start the status poller (which also reopens a lost port)."""
        if self.poll and self._poller is None:
            self._stop.clear()
            self._poller = threading.Thread(target=self._poll, name="device-printer", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=2)
            self._poller = None
        self.line.close()

    @property
    def state(self) -> str:
        """For status bars: offline, or the printer's own state."""
        if self.line.state == "offline":
            return "offline"
        if self.status is None:
            return "unknown" if self.query else "no status"
        return self.status.describe()

    # --- the port -------------------------------------------------------------------------

    def print_job(self, job: Any) -> None:
        """Print one copy; raises :class:`PrinterError` with the reason when it did not."""
        try:
            data = _receipt_bytes(job, self.profile, self.columns)
        except Exception as exc:  # a receipt the profile cannot render
            raise PrinterError(f"cannot render: {exc}", printer=self.name) from exc
        self.print_bytes(data)

    def print_bytes(self, data: bytes) -> None:
        with self.line.lock:
            if not self.line.open():
                raise PrinterError(f"printer offline ({self.line.last_error})", printer=self.name)
            before = self._checked("before printing")
            if before is not None and not before.can_print:
                raise PrinterError(before.problem or "not ready", printer=self.name)
            try:
                self._write(data)
            except Exception as exc:
                self.line.lost(exc)
                raise PrinterError(
                    f"printer lost while printing ({exc})", printer=self.name
                ) from exc
            if self.settle:
                time.sleep(self.settle)
            after = self._checked("after printing")
            if after is not None and not after.can_print:
                raise PrinterError(f"{after.problem} while printing", printer=self.name)
            self.last_event = "printed"

    def query_status(self) -> PrinterStatus:
        """Ask the printer now; raises :class:`PrinterError` when it does not answer."""
        with self.line.lock:
            if not self.line.open():
                raise PrinterError(f"printer offline ({self.line.last_error})", printer=self.name)
            status = self._checked("status")
            return status if status is not None else PrinterStatus()

    # --- internals ------------------------------------------------------------------------

    def _checked(self, when: str) -> PrinterStatus | None:
        """Status queries (when enabled), with events for every change; None without."""
        if not self.query:
            return None
        try:
            status = self._ask()
        except PrinterError:
            raise
        except Exception as exc:  # the port died under us
            self.line.lost(exc)
            raise PrinterError(f"printer offline ({exc})", printer=self.name) from exc
        self._update(status)
        return status

    def _ask(self) -> PrinterStatus:
        port = self.line.port
        assert port is not None
        port.reset_input_buffer()  # stale bytes (automatic status, echoes) are not answers
        status = PrinterStatus()
        queries: list[tuple[bytes, Callable[[int, PrinterStatus], PrinterStatus]]] = [
            (DLE_EOT + bytes([n]), lambda b, s, n=n: decode_dle_eot(n, b, s)) for n in (1, 2, 3, 4)
        ]
        if self.gs_r:
            queries.append((GS_R + b"\x01", decode_gs_r1))
        for query, decode in queries:
            port.write(query)
            port.flush()
            reply = self._read_one(port)
            if reply is None:
                if query.startswith(GS_R):  # optional: older firmware ignores GS r
                    self.gs_r = False
                    continue
                self._no_answer()
                raise PrinterError("printer offline (no answer to status query)", printer=self.name)
            try:
                status = decode(reply, status)
            except StatusReplyError as exc:
                raise PrinterError(f"garbled status reply ({exc})", printer=self.name) from exc
        return status

    def _read_one(self, port: Any) -> int | None:
        deadline = time.monotonic() + _STATUS_TIMEOUT
        while time.monotonic() < deadline:
            data = port.read(1)
            if data:
                return data[0]
        return None

    def _no_answer(self) -> None:
        was = self.status
        self.status = PrinterStatus(online=False)
        if was is None or was.online:
            self.last_event = "offline: no answer to status query"
            self.line.event(DeviceCondition.OFFLINE, "no answer to status query")

    def _write(self, data: bytes) -> None:
        port = self.line.port
        assert port is not None
        port.write(data)
        port.flush()

    def _update(self, status: PrinterStatus) -> None:
        """Events for what changed: each new problem once, RECOVERED when all are gone."""
        was = self.status
        self.status = status
        if was is None:
            was = PrinterStatus()
        for attr, condition, text in _CONDITIONS:
            if attr == "paper_near_end" and status.paper_out:
                continue  # implied by paper out; the worse news is the one to keep
            if getattr(status, attr) and not getattr(was, attr):
                self.last_event = text
                self.line.event(condition, text)
        if not status.online and was.online and not (status.paper_out or status.cover_open):
            self.last_event = "offline"
            self.line.event(DeviceCondition.OFFLINE, "printer reports off-line")
        if status.can_print and not was.can_print:
            self.last_event = "recovered"
            self.line.event(DeviceCondition.RECOVERED, status.describe())

    def _poll(self) -> None:
        while not self._stop.wait(self.poll):
            with contextlib.suppress(PrinterError):
                if self.line.lock.acquire(timeout=0.1):
                    try:
                        if self.line.open():
                            self._checked("poll")
                    finally:
                        self.line.lock.release()
