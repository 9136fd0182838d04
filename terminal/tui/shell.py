"""What a POS screen may ask of the App: the one seam between screens and ``PosApp``.

Screens are given this protocol instead of the App class, so ``terminal.tui.app`` (which
imports every screen) and the screens do not import each other.
"""

from __future__ import annotations

from typing import Any, Protocol

from textual.screen import Screen

from terminal.engine.cardinput import CardInput
from terminal.tui.controller import PosController
from terminal.tui.services import PosServices
from terminal.tui.widgets import StatusInfo

__all__ = ["PosShell"]


class PosShell(Protocol):
    """The App as the screens see it (``PosApp`` implements it)."""

    services: PosServices
    controller: PosController

    def status_info(self) -> StatusInfo: ...
    def refresh_status(self) -> None: ...
    def answered(self, screen: Screen[Any], value: Any) -> None: ...
    def start(self, name: str) -> None: ...
    def check_card(self, card: CardInput) -> str: ...
