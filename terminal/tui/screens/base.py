"""What every POS screen shares: the status bar on top, the footer of keys below.

Escape backs out of every screen (each subclass says what backing out means), so a
cashier can never get stuck; the status bar pulls its facts from the App.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar, cast

from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.events import Resize, ScreenResume
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from terminal.tui.shell import PosShell
from terminal.tui.widgets import PosFooter, StatusBar

__all__ = ["PosScreen"]

_R = TypeVar("_R")


class PosScreen(Screen[_R]):
    """A full screen with the status bar and footer around ``body()``."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    _answered = False
    #: Set by the App on a screen it keeps and shows again (processing, result): its styles
    #: are still current (the App drops kept screens when the theme changes), so coming back
    #: on top it skips Textual's restyle of every widget, which would also throw away every
    #: line they have drawn and have them all drawn again.
    reused = False

    @property
    def pos(self) -> PosShell:
        """The App, through the protocol screens may use (see :mod:`terminal.tui.shell`)."""
        return cast(PosShell, self.app)

    def compose(self) -> Iterator[Widget]:
        yield StatusBar(self.pos.status_info)
        yield from self.body()
        yield PosFooter(compact=self.app.size.width < 100)

    def body(self) -> Iterator[Widget]:
        return iter(())

    def on_screen_resume(self, event: ScreenResume) -> None:
        if self.reused:
            event.refresh_styles = False
        for bar in self.query(StatusBar):
            bar.refresh_info()  # a screen kept or covered for a while shows the state of now

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

    def answer(self, value: _R) -> None:
        """Close this screen with ``value`` (None: backed out of), once.

        Unlike ``dismiss``, the App may put the screen that the answer leads to (the PIN,
        the processing screen) in this one's place, instead of first going back to the
        screen underneath only to cover it again a moment later.
        """
        if self._answered:
            return
        self._answered = True
        self.pos.answered(self, value)

    def from_device(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """A listener for a device thread that runs ``handler`` on the UI's loop; once the
        App is closing, what arrives late is dropped instead of raising in that thread."""

        def listener(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # no running App/loop any more
                self.app.call_from_thread(handler, item)

        return listener

    def action_back(self) -> None:
        self.answer(None)  # type: ignore[arg-type]
