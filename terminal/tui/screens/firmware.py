"""Firmware: check for an update, watch it download, install and health-check, see the result.

The screen knows nothing of TUF or slots: it is given ``start(progress)``, a coroutine
function that runs one update and returns ``(ok, message)`` (the wiring builds it from
``terminal.firmware.runtime_updater``). Progress arrives from a download thread as messages
(``post_message`` is thread-safe), so the bar moves without blocking the UI loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Label, ProgressBar

__all__ = ["FirmwareProgress", "FirmwareScreen", "Progress", "StartUpdate"]

#: progress(state, done, total): state is the update state's name ("downloading", ...)
Progress = Callable[[str, int, int], None]
StartUpdate = Callable[[Progress], Awaitable[tuple[bool, str]]]

_STATES = {
    "downloading": "Downloading",
    "verifying": "Verifying signatures and hashes",
    "installing": "Installing into the other slot",
    "rebooting": "Restarting the terminal core",
    "health_check": "Health check",
}


@dataclass
class FirmwareProgress(Message):
    state: str
    done: int
    total: int


class FirmwareScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_name("firmware.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "update", "Update now"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, start: StartUpdate, running: str = "") -> None:
        super().__init__()
        self._start = start
        self._installed = running
        self.busy = False

    def compose(self) -> Iterator[Widget]:
        with Vertical(id="firmware"):
            yield Label("FIRMWARE", id="fw-title")
            yield Label(f"Running {self._installed}" if self._installed else "", id="fw-running")
            yield Label("Press u to check for an update.", id="fw-state")
            yield ProgressBar(total=100, show_eta=False, id="fw-progress")
            yield Label("", id="fw-result")
        yield Footer()

    def action_back(self) -> None:
        if not self.busy:  # an update in progress finishes (it cannot be left half-done)
            self.dismiss(None)

    def action_update(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.query_one("#fw-result", Label).update("")
        self.query_one("#fw-state", Label).update("Checking for an update...")
        self.query_one("#fw-progress", ProgressBar).update(total=100, progress=0)
        self._run()

    @work(exclusive=True)
    async def _run(self) -> None:
        def progress(state: str, done: int, total: int) -> None:
            self.post_message(FirmwareProgress(state, done, total))

        try:
            ok, message = await self._start(progress)
        except Exception as exc:  # the wiring failed (no data dir...): say so, stay usable
            ok, message = False, f"error: {exc}"
        self.busy = False
        self.query_one("#fw-state", Label).update("Done." if ok else "Not updated.")
        result = self.query_one("#fw-result", Label)
        result.set_class(not ok, "-failed")
        result.update(message)
        if ok:
            bar = self.query_one("#fw-progress", ProgressBar)
            bar.update(total=bar.total or 100, progress=bar.total or 100)

    @on(FirmwareProgress)
    def _progress(self, event: FirmwareProgress) -> None:
        label = _STATES.get(event.state, event.state)
        self.query_one("#fw-state", Label).update(f"{label}...")
        if event.total:
            bar = self.query_one("#fw-progress", ProgressBar)
            bar.update(total=event.total, progress=event.done)
