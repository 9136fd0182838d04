"""Processing: what the terminal is doing with the host, line by line; Escape cancels.

Cancelling is safe at any moment: the engine reverses whatever may have reached the host,
and the result screen that follows says whether the reversal was delivered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label, LoadingIndicator, Log

from terminal.tui.outcome import Operation, format_money
from terminal.tui.screens.base import PosScreen

__all__ = ["ProcessingScreen"]

_WORKING = "Processing... (Escape cancels)"
_SPIN = 1 / 16  # seconds between frames of the spinner (LoadingIndicator's own rate)


class ProcessingScreen(PosScreen[None]):
    """Shown while an operation runs; the App replaces it with the result.

    The App keeps one and reuses it (:meth:`begin`), as building a screen costs more than
    the rest of a sale with the embedded host.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Cancel")]

    def __init__(self, op: Operation, amount: int | None = None, masked_pan: str = "") -> None:
        super().__init__()
        self.begin(op, amount, masked_pan)

    def begin(self, op: Operation, amount: int | None = None, masked_pan: str = "") -> None:
        """Show a new operation from its start: no progress yet, not cancelling."""
        self.op = op
        self.amount = amount
        self.masked_pan = masked_pan
        self.lines: list[str] = []
        self._unwritten: list[str] = []
        self.cancelling = False
        if self.is_mounted:
            self.set_text("#processing-title", self._title())
            self.set_text("#processing-state", _WORKING)
            for log in self.query("#progress").results(Log):
                log.clear()

    def _title(self) -> str:
        parts = [self.op.label.upper()]
        if self.amount:
            parts.append(format_money(self.amount, self.pos.services.config.currency))
        if self.masked_pan:
            parts.append(self.masked_pan)
        return "  ·  ".join(parts)

    def body(self) -> Iterator[Widget]:
        with Vertical(id="processing"):
            yield Label(self._title(), id="processing-title")
            yield LoadingIndicator(id="spinner")
            yield Label(_WORKING, id="processing-state")
            yield Log(id="progress", auto_scroll=True)

    def on_screen_suspend(self) -> None:
        # Kept for the next operation: no spinner ticking while it is not shown.
        for spinner in self.query(LoadingIndicator):
            spinner.auto_refresh = None

    def on_screen_resume(self) -> None:
        for spinner in self.query(LoadingIndicator):
            spinner.auto_refresh = _SPIN

    def add_progress(self, line: str) -> None:
        """Show one more line; lines that come together are written to the log together
        (the engine reports several steps at once), not one relayout each."""
        self.lines.append(line)
        self._unwritten.append(line)
        if len(self._unwritten) == 1:
            self.call_later(self._write_progress)

    def _write_progress(self) -> None:
        lines, self._unwritten = self._unwritten, []
        if lines:
            for log in self.query("#progress").results(Log):
                log.write_lines(lines)

    def action_back(self) -> None:
        if self.cancelling:
            return
        if self.pos.controller.cancel():
            self.cancelling = True
            self.set_text(
                "#processing-state", "Cancelling: reversing anything the host may have approved..."
            )
