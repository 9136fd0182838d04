"""What every POS screen shares: the status bar on top, the footer of keys below.

Escape backs out of every screen (each subclass says what backing out means), so a
cashier can never get stuck; the status bar pulls its facts from the App.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from terminal.tui.widgets import StatusBar

if TYPE_CHECKING:
    from terminal.tui.app import PosApp

__all__ = ["PosScreen"]

_R = TypeVar("_R")


class PosScreen(Screen[_R]):
    """A full screen with the status bar and footer around ``body()``."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    @property
    def pos(self) -> PosApp:
        from terminal.tui.app import PosApp

        app = self.app
        assert isinstance(app, PosApp)
        return app

    def compose(self) -> Iterator[Widget]:
        yield StatusBar(self.pos.status_info)
        yield from self.body()
        yield Footer()

    def body(self) -> Iterator[Widget]:
        return iter(())

    def set_text(self, selector: str, text: str) -> bool:
        """Update a Label/Static if it is there: messages may arrive before compose or
        after the screen was replaced, and a late line is not worth a crash."""
        try:
            self.query_one(selector, Static).update(text)
        except NoMatches:
            return False
        return True

    def on_resize(self, event: Resize) -> None:
        """At 80 columns the footer drops its padding so every key still fits."""
        for footer in self.query(Footer):
            footer.compact = event.size.width < 100

    def action_back(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]
