"""A one-line amount field typed like a POS: digits fill from the right (1234 -> 12.34).

Used in forms (refund, completion, pre-auth) so every amount in the app is typed the same
way; the value is an int of minor units, never a float.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget

from terminal.tui.entry import AmountBuffer

__all__ = ["AmountField"]


class AmountField(Widget, can_focus=True):
    """Focus it and type digits; backspace deletes, delete clears."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("backspace", "back", "Del digit", show=False),
        Binding("delete", "clear", "Clear", show=False),
    ]

    minor: reactive[int] = reactive(0)

    def __init__(
        self,
        minor: int = 0,
        *,
        currency: str = "",
        exponent: int = 2,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._buffer = AmountBuffer(exponent)
        self._buffer.set(minor)
        self.currency = currency
        self.set_reactive(AmountField.minor, self._buffer.minor)

    def render(self) -> str:
        prefix = f"{self.currency} " if self.currency else ""
        return f"{prefix}{self._buffer.text}"

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if character is not None and character.isdigit() and self._buffer.press(character):
            self.minor = self._buffer.minor
            event.stop()

    def action_back(self) -> None:
        self._buffer.backspace()
        self.minor = self._buffer.minor

    def action_clear(self) -> None:
        self._buffer.clear()
        self.minor = self._buffer.minor
