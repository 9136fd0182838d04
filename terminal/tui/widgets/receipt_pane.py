"""The thermal-paper pane: where the emulated printer "prints" slips.

Fixed width like a 58 mm roll (32 columns), dark text on paper colour in both themes,
scrollable so a long slip can be read at 80x24. ``text`` keeps what is shown (tests,
reprints).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

__all__ = ["ReceiptPane"]


class ReceiptPane(VerticalScroll):
    """Shows one slip at a time; ``show`` replaces it, ``clear`` blanks the paper."""

    DEFAULT_CLASSES = "paper"

    def __init__(
        self,
        text: str = "",
        *,
        placeholder: str = "(no receipt)",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.text = text
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield Static(self.text or self.placeholder, classes="slip", markup=False)

    def show(self, text: str, *, title: str = "") -> None:
        self.text = text
        self.border_title = title
        self.query_one(".slip", Static).update(text or self.placeholder)
        self.scroll_home(animate=False)

    def clear(self, placeholder: str | None = None) -> None:
        if placeholder is not None:
            self.placeholder = placeholder
        self.show("")
