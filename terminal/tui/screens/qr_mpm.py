"""Merchant-presented QR: a large scannable code, a countdown, and the customer's choices.

On the emulator the customer is simulated: ``p`` pays, ``x`` declines, ``n`` (or Escape)
walks away, which cancels the order at the host. The countdown is the terminal's
``qr_timeout``; when it runs out the engine gives up and reverses the order by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Label, Static

from terminal.tui.outcome import BY_CASHIER, WALKED_AWAY, format_money
from terminal.tui.screens.base import PosScreen
from terminal.tui.widgets import QrView

__all__ = ["QrMpmScreen"]

#: Rows taken by the status bar and the footer.
_CHROME_ROWS = 2
#: Columns the side panel (amount, countdown, keys) needs beside the code.
_SIDE_MIN = 24


class QrMpmScreen(PosScreen[None]):
    """Replaced by the result screen when the order is paid, declined or given up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "customer(True)", "Customer pays"),
        Binding("x", "customer(False)", "Customer declines"),
        Binding("n", "walk_away", "Not paying"),
        Binding("escape", "back", "Cancel"),
    ]

    def __init__(self, payload: str, amount: int, timeout: float, order_ref: str = "") -> None:
        super().__init__()
        self.payload = payload
        self.amount = amount
        self.timeout = timeout
        self.order_ref = order_ref
        self.lines: list[str] = []
        self._started: datetime | None = None
        self.cancelling = False

    def body(self) -> Iterator[Widget]:
        currency = self.pos.services.config.currency
        with Horizontal(id="qr"):
            yield QrView(self.payload, id="qr-code")
            with Vertical(id="qr-side"):
                yield Label("SCAN TO PAY", id="qr-title")
                yield Label(format_money(self.amount, currency), id="qr-amount")
                yield Label(f"Order {self.order_ref}" if self.order_ref else "", id="qr-order")
                yield Label("", id="qr-countdown")
                yield Label("Waiting for the customer...", id="qr-state")
                yield Static(
                    "p: customer pays\nx: customer declines\nn: customer walks away",
                    id="qr-help",
                )

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)
        self._started = self.pos.services.clock()
        self._tick()
        self.set_interval(1.0, self._tick)

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """The code with its quiet zone, beside a side panel of at least its minimum width,
        between the status bar and the footer; or, when that is more than the window has,
        a notice with the size it needs (never a code cut off or with a thin margin)."""
        view = self.query_one(QrView)
        side = _SIDE_MIN if width >= view.needed[0] + _SIDE_MIN else 0
        view.fit(width - side, height - _CHROME_ROWS)
        self.query_one("#qr-side").display = side > 0 or view.too_small

    @property
    def remaining(self) -> int:
        if self._started is None:
            return int(self.timeout)
        elapsed = (self.pos.services.clock() - self._started).total_seconds()
        return max(0, int(self.timeout - elapsed + 0.5))

    def _tick(self) -> None:
        self.set_text("#qr-countdown", f"Expires in {self.remaining} s")

    def add_progress(self, line: str) -> None:
        self.lines.append(line)
        self.set_text("#qr-state", line)

    def action_customer(self, pay: bool) -> None:
        if self.pos.controller.simulate_customer(pay=pay):
            verb = "pays" if pay else "declines"
            self.add_progress(f"Customer {verb}: asking the host...")

    def action_walk_away(self) -> None:
        self._cancel(WALKED_AWAY, "The customer walked away: cancelling the order...")

    def action_back(self) -> None:
        self._cancel(BY_CASHIER, "Cancelling the order at the host...")

    def _cancel(self, reason: str, progress: str) -> None:
        if self.cancelling:
            return
        if self.pos.controller.cancel(reason):
            self.cancelling = True
            self.add_progress(progress)
