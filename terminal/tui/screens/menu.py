"""The transaction menu: every operation besides the plain sale, one key each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from terminal.tui.screens.base import PosScreen

__all__ = ["MENU", "MenuScreen"]

#: key, operation name, footer label, what it does
MENU: tuple[tuple[str, str, str, str], ...] = (
    ("v", "void", "Void", "Void: cancel an approved sale of the open batch"),
    ("r", "refund", "Refund", "Refund: by reference, or to a card"),
    ("a", "preauth", "Pre-auth", "Pre-authorisation: reserve an amount"),
    ("c", "completion", "Complete", "Completion: charge a pre-authorisation"),
    ("b", "balance", "Balance", "Balance enquiry"),
    ("s", "settlement", "Settle", "Settlement: close the batch"),
    ("o", "signon", "Sign-on", "Sign-on: fetch fresh working keys"),
    ("e", "echo", "Echo", "Echo test: is the host there?"),
)


class MenuScreen(PosScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        *(Binding(key, f"start('{name}')", label) for key, name, label, _ in MENU),
    ]

    def body(self) -> Iterator[Widget]:
        with Vertical(id="menu"):
            yield Label("MENU  ·  pick an operation (its key or Enter)", id="menu-title")
            yield OptionList(
                *(Option(f"[b]{key}[/b]  {text}", id=name) for key, name, _, text in MENU),
                id="menu-options",
            )

    def on_mount(self) -> None:
        self.query_one("#menu-options", OptionList).focus()

    def action_start(self, name: str) -> None:
        self.pos.start(name)

    @on(OptionList.OptionSelected, "#menu-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.pos.start(event.option.id)
