"""The message trace screen: each request and response, field by field, masked, timed.

Toggled with ``t`` from any screen (``t`` again, or Escape, closes it). It shows what the
engine published on the bus; nothing here touches the wire or card data in clear.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Log

from terminal.tui.screens.base import PosScreen

__all__ = ["TraceScreen"]


class TraceScreen(PosScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,t", "back", "Close trace"),
        Binding("x", "clear", "Clear"),
    ]

    def body(self) -> Iterator[Widget]:
        with Vertical(id="trace", classes="panel") as panel:
            panel.border_title = "Message trace (masked)"
            yield Log(id="trace-log", highlight=False)

    def on_mount(self) -> None:
        log = self.query_one("#trace-log", Log)
        records = self.pos.trace_log.all()
        if not records:
            log.write_line("No messages yet: run a transaction, then come back (t).")
        for record in records:
            log.write_lines([*record.text().splitlines(), ""])
        self.set_interval(0.3, self._more)

    def _more(self) -> None:
        fresh = self.pos.trace_log.new()
        if fresh:
            log = self.query_one("#trace-log", Log)
            for record in fresh:
                log.write_lines([*record.text().splitlines(), ""])

    def action_clear(self) -> None:
        self.query_one("#trace-log", Log).clear()

    def action_back(self) -> None:
        self.dismiss(None)
