"""Emulated receipt printers: the TUI's receipt pane, a stream (stdout), a file.

They implement :class:`~terminal.core.ports.ReceiptPrinter` like a real one would: render
the receipt model (text for the pane and stdout, ESC/POS bytes for a file, which is what a
raw printer device file receives) and raise :class:`~terminal.core.errors.PrinterError`
with a reason when the copy does not come out. The pane printer can run out of paper on
request, which is how a tester makes a lost receipt on purpose.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from terminal.core.errors import PrinterError
from terminal.core.events import DeviceCondition, DeviceEvent, DeviceRole, Event
from terminal.core.ports import PrintJob
from terminal.core.receipts import render_escpos, render_text

__all__ = ["FilePrinter", "NoPrinter", "PanePrinter", "StreamPrinter"]


def job_text(job: PrintJob) -> str:
    """The plain-text slip of a job (what a text printer prints)."""
    return render_text(job.receipt, job.width)


class PanePrinter:
    """The printer built into the emulated terminal: slips go to ``sink`` (the TUI pane).

    ``sink(job, text)`` is called from the printing thread; it must be thread-safe (the
    TUI posts a message). Paper out is a device condition published on ``publish``.
    """

    def __init__(
        self,
        sink: Callable[[PrintJob, str], None] | None = None,
        *,
        name: str = "pane",
        publish: Callable[[Event], None] = lambda _e: None,
    ) -> None:
        self.name = name
        self.url = "emulated:pane"
        self.sink = sink
        self.publish = publish
        self._paper_ok = True
        self._lock = threading.Lock()

    @property
    def paper_ok(self) -> bool:
        return self._paper_ok

    def set_paper(self, ok: bool) -> None:
        """Run the paper out (a fault) or refill it (recovered); publishes a DeviceEvent."""
        with self._lock:
            if ok == self._paper_ok:
                return
            self._paper_ok = ok
        condition = DeviceCondition.RECOVERED if ok else DeviceCondition.PAPER_OUT
        detail = "paper refilled" if ok else "paper out"
        self.publish(DeviceEvent(DeviceRole.PRINTER, self.name, self.url, condition, detail))

    def print_job(self, job: PrintJob) -> None:
        if not self._paper_ok:
            raise PrinterError("paper out", printer=self.name)
        text = job_text(job)
        if self.sink is not None:
            self.sink(job, text)


class StreamPrinter:
    """Prints the text slip on a stream (``stdout`` for ``posemu pay``)."""

    def __init__(self, stream: TextIO | None = None, *, name: str = "stdout") -> None:
        self.name = name
        self._stream = stream

    def print_job(self, job: PrintJob) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(job_text(job))
            stream.flush()
        except (OSError, ValueError) as exc:  # closed pipe, closed file
            raise PrinterError(f"cannot write: {exc}", printer=self.name) from exc


class FilePrinter:
    """Appends each slip to a file as ESC/POS bytes (``text=True``: as plain text), the way
    a raw printer device file or a capture for a later ``lp`` receives them."""

    def __init__(self, path: Path | str, *, text: bool = False, name: str = "") -> None:
        self.path = Path(path)
        self.text = text
        self.name = name or f"file:{self.path}"

    def print_job(self, job: PrintJob) -> None:
        if self.text:
            data = job_text(job).encode("utf-8")
        else:
            data = render_escpos(job.receipt, columns=job.width)
        try:
            with self.path.open("ab") as out:
                out.write(data)
                out.flush()
        except OSError as exc:
            raise PrinterError(
                f"cannot write {self.path}: {exc.strerror or exc}", printer=self.name
            ) from exc


class NoPrinter:
    """No printer attached: every copy fails (and stays findable as unprinted)."""

    name = "none"

    def print_job(self, job: PrintJob) -> None:
        raise PrinterError("no printer attached", printer=self.name)
