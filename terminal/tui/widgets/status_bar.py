"""The terminal's status line: who we are, the time, and the state of every link and part.

The bar pulls a :class:`StatusInfo` from a provider once a second (and on demand), so the
App decides what is true and the bar only draws it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from rich.text import Text
from textual.widget import Widget

__all__ = ["StatusBar", "StatusInfo"]

_HOST_STYLE = {
    "online": ("●", "green"),
    "connecting": ("◐", "yellow"),
    "offline": ("●", "red"),
    "unknown": ("○", "dim"),
}


def _shown(info: StatusInfo) -> StatusInfo:
    """``info`` as drawn: the clock shows whole seconds."""
    return replace(info, now=info.now.replace(microsecond=0))


@dataclass(frozen=True, slots=True)
class StatusInfo:
    merchant: str
    terminal_id: str
    now: datetime
    host: str  # a LinkState value
    tms: str = "not connected"  # the agent's broker link: online, connecting, offline
    paper_ok: bool = True
    battery: str = "AC 100%"
    printer: str = ""  # a real printer's state ("ready", "paper out", "offline"); "" = pane


class StatusBar(Widget):
    """One line: merchant │ TID │ host │ TMS │ paper │ battery │ clock."""

    def __init__(self, provider: Callable[[], StatusInfo], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._provider = provider
        self.info: StatusInfo = provider()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_info)

    def refresh_info(self) -> None:
        info = self._provider()
        if _shown(info) != _shown(self.info):  # redrawn only when what it shows changed
            self.info = info
            self.refresh()

    def render(self) -> Text:
        """Three widths: everything (130+ columns), words (96+), short labels (80)."""
        info, width = self.info, self.size.width
        glyph, colour = _HOST_STYLE.get(info.host, ("○", "dim"))
        full, words = width >= 130, width >= 96
        sep = ("  │  ", "dim") if full else (" │ ", "dim")
        paper = ("paper OK", "") if info.paper_ok else ("PAPER OUT", "bold red")
        if info.printer:
            ready = info.printer in ("ready", "paper low", "unknown", "no status")
            paper = (f"printer {info.printer}", "" if ready else "bold red")
        clock = info.now.strftime("%Y-%m-%d %H:%M:%S" if full else "%H:%M:%S")
        tms = info.tms if full else ("off" if info.tms == "not connected" else info.tms)
        return Text.assemble(
            (info.merchant, "bold"),
            sep,
            f"TID {info.terminal_id}" if words else info.terminal_id,
            sep,
            (glyph, colour),
            f" host {info.host}" if words else " host",
            sep,
            _HOST_STYLE.get(info.tms, ("○", "dim")),
            f" TMS {tms}" if words else " TMS",
            sep,
            paper,
            sep,
            f"⚡ {info.battery}" if full else "⚡ AC",
            sep,
            (clock, "bold"),
            no_wrap=True,
            overflow="ellipsis",
        )
