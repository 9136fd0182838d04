"""PIN entry: stars only, the keypad or the keyboard, handed over once and forgotten.

The digits live in a :class:`~terminal.tui.entry.PinBuffer` that is emptied when the PIN is
handed over and when the screen is backed out of; nothing else ever holds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label

from terminal.tui.entry import PIN_MAX, PIN_MIN, PinBuffer
from terminal.tui.outcome import TxnDraft, format_money
from terminal.tui.screens.base import PosScreen
from terminal.tui.widgets import Keypad

__all__ = ["PinScreen"]


class PinScreen(PosScreen[str | None]):
    """Dismisses with the PIN (4-12 digits), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("0", "key('0')", "PIN", key_display="0-9"),
        *(Binding(str(d), f"key('{d}')", "PIN", show=False) for d in range(1, 10)),
        Binding("backspace", "key('back')", "Del"),
        Binding("enter", "key('enter')", "OK"),
        Binding("escape", "back", "Cancel"),
    ]

    def __init__(self, draft: TxnDraft) -> None:
        super().__init__()
        self.draft = draft
        self._pin = PinBuffer()

    def body(self) -> Iterator[Widget]:
        heading = self.draft.op.label.upper()
        if self.draft.amount:
            heading += "  ·  " + format_money(self.draft.amount, self.pos.services.config.currency)
        with Horizontal(id="pin"):
            with Vertical(id="pin-info"):
                yield Label(heading, id="pin-title")
                yield Label(f"Card {self.draft.masked_pan}", id="pin-card")
                yield Label("Customer: enter your PIN, then OK", id="pin-prompt")
                yield Label(" ", id="pin-stars")
                yield Label("4 to 12 digits; only stars are shown.", id="pin-help")
            yield Keypad(id="pin-keypad")

    @property
    def masked(self) -> str:
        return self._pin.masked

    def _show(self) -> None:
        self.query_one("#pin-stars", Label).update(" ".join(self._pin.masked) or " ")

    def action_key(self, key: str) -> None:
        if key == "back":
            self._pin.backspace()
        elif key == "clear":
            self._pin.clear()
        elif key == "enter":
            if not self._pin.complete:
                self.notify(f"A PIN has {PIN_MIN} to {PIN_MAX} digits", severity="warning")
                return
            self.answer(self._pin.take())
            return
        else:
            self._pin.press(key)
        self._show()

    @on(Keypad.Pressed)
    def _keypad(self, event: Keypad.Pressed) -> None:
        self.action_key(event.key)

    def action_back(self) -> None:
        self._pin.clear()
        self.answer(None)
