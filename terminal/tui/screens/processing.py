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


class ProcessingScreen(PosScreen[None]):
    """Shown while an operation runs; the App replaces it with the result."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Cancel")]

    def __init__(self, op: Operation, amount: int | None = None, masked_pan: str = "") -> None:
        super().__init__()
        self.op = op
        self.amount = amount
        self.masked_pan = masked_pan
        self.lines: list[str] = []
        self.cancelling = False

    def body(self) -> Iterator[Widget]:
        currency = self.pos.services.config.currency
        parts = [self.op.label.upper()]
        if self.amount:
            parts.append(format_money(self.amount, currency))
        if self.masked_pan:
            parts.append(self.masked_pan)
        with Vertical(id="processing"):
            yield Label("  ·  ".join(parts), id="processing-title")
            yield LoadingIndicator(id="spinner")
            yield Label("Processing... (Escape cancels)", id="processing-state")
            yield Log(id="progress", auto_scroll=True)

    def add_progress(self, line: str) -> None:
        self.lines.append(line)
        for log in self.query("#progress").results(Log):
            log.write_line(line)

    def action_back(self) -> None:
        if self.cancelling:
            return
        if self.pos.controller.cancel():
            self.cancelling = True
            self.set_text(
                "#processing-state", "Cancelling: reversing anything the host may have approved..."
            )
