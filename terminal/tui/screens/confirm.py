"""A yes/no question before something that cannot be taken back (void, settlement).

Enter or ``y`` confirms, Escape or ``n`` backs out; nothing is sent before the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label, Static

from terminal.tui.screens.base import PosScreen

__all__ = ["ConfirmScreen"]


class ConfirmScreen(PosScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "confirm", "Yes, go ahead"),
        Binding("escape,n", "back", "No"),
    ]

    def __init__(self, title: str, details: str) -> None:
        super().__init__()
        self.title_text = title
        self.details = details

    def body(self) -> Iterator[Widget]:
        with Vertical(id="confirm", classes="panel") as panel:
            panel.border_title = "Confirm"
            yield Label(self.title_text, id="confirm-title")
            yield Static(self.details, id="confirm-details")
            yield Static("Enter: yes, go ahead    Esc: no, go back", id="confirm-keys")

    def action_confirm(self) -> None:
        self.answer(True)

    def action_back(self) -> None:
        self.answer(False)
