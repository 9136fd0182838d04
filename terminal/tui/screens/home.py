"""Home: the idle screen where the cashier types the amount, like a countertop POS.

Digits fill from the right in minor units (1 2 3 4 shows 12.34); Enter starts a card sale
and the letter keys open the other ways to take money.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Digits, Label, Static

from terminal.tui.entry import AmountBuffer
from terminal.tui.outcome import currency_of
from terminal.tui.screens.base import PosScreen
from terminal.tui.widgets import Keypad

__all__ = ["HomeScreen"]

_DIGIT_BINDINGS = [Binding(str(d), f"key('{d}')", "Amount", show=False) for d in range(10)]


class HomeScreen(PosScreen[None]):
    """Amount entry and the doorway to every other screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("0", "key('0')", "Amount", key_display="0-9"),
        *_DIGIT_BINDINGS[1:],
        Binding("backspace", "key('back')", "Del", show=False),
        Binding("delete,c", "key('clear')", "Clear", show=False),
        Binding("escape", "key('clear')", "Clear", show=False),
        Binding("enter", "start('sale')", "Sale"),
        Binding("q", "start('qr-mpm')", "QR"),
        Binding("w", "start('qr-cpm')", "Scan"),
        Binding("m", "app.open_screen('menu')", "Menu"),
        Binding("j", "app.open_screen('journal')", "Journal"),
        Binding("d", "app.open_screen('devices')", "Devices"),
        Binding("a", "app.open_screen('agent')", "Agent", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._buffer = AmountBuffer()

    def body(self) -> Iterator[Widget]:
        currency = currency_of(self.pos.services.config.currency)
        self._buffer.exponent = currency.exponent
        with Horizontal(id="home"):
            with Vertical(id="amount-panel"):
                yield Label("SALE  ·  type the amount", id="amount-caption")
                yield Label(currency.alpha, id="currency")
                yield Digits(self._buffer.text, id="amount")
                yield Static(
                    "Enter  card sale\n"
                    "q      QR code the customer scans\n"
                    "w      scan the customer's wallet code\n"
                    "m      menu: void, refund, pre-auth,\n"
                    "       completion, balance, settlement...\n"
                    "j      journal, reprint a lost receipt\n"
                    "d      devices and agent\n"
                    "Backspace / c  correct the amount\n"
                    "ctrl+p command palette   ctrl+t theme",
                    id="home-help",
                )
            yield Keypad(id="keypad")

    @property
    def amount(self) -> int:
        """The amount typed so far, in minor units."""
        return self._buffer.minor

    def clear_amount(self) -> None:
        self._buffer.clear()
        self._show()

    def set_amount(self, minor: int) -> None:
        self._buffer.set(minor)
        self._show()

    def _show(self) -> None:
        # Covered (the amount is cleared when a sale's result shows): drawn when back on top.
        if self.is_mounted and self.app.screen is self:
            self.query_one("#amount", Digits).update(self._buffer.text)

    def on_screen_resume(self) -> None:
        self._show()

    def action_key(self, key: str) -> None:
        if key == "back":
            self._buffer.backspace()
        elif key == "clear":
            self._buffer.clear()
        elif key == "enter":
            self.pos.start("sale")
            return
        else:
            self._buffer.press(key)
        self._show()

    def action_start(self, name: str) -> None:
        self.pos.start(name)

    def action_back(self) -> None:
        self.action_key("clear")

    @on(Keypad.Pressed)
    def _keypad(self, event: Keypad.Pressed) -> None:
        self.action_key(event.key)
