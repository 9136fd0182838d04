"""A clickable POS keypad: digits, clear, backspace, OK.

The buttons never take focus, so the keyboard keeps driving the screen; a click posts the
same key name the keyboard binding would (``"0"``..``"9"``, ``"clear"``, ``"back"``,
``"enter"``), and the screen handles both in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Button

__all__ = ["Keypad"]

_LAYOUT = (
    ("1", "1"), ("2", "2"), ("3", "3"),
    ("4", "4"), ("5", "5"), ("6", "6"),
    ("7", "7"), ("8", "8"), ("9", "9"),
    ("C", "clear"), ("0", "0"), ("⌫", "back"),
)  # fmt: skip


class Keypad(Grid):
    """Twelve keys in a 3x4 grid plus a wide OK key."""

    @dataclass
    class Pressed(Message):
        """A keypad key was clicked; ``key`` is the keyboard-equivalent name."""

        key: str

    def compose(self) -> ComposeResult:
        for label, key in _LAYOUT:
            button = Button(label, id=f"key-{key}", classes="key", compact=True)
            button.can_focus = False
            yield button
        ok = Button("OK", id="key-enter", classes="key ok", variant="success", compact=True)
        ok.can_focus = False
        yield ok

    @on(Button.Pressed, ".key")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        key = (event.button.id or "").removeprefix("key-")
        self.post_message(self.Pressed(key))
