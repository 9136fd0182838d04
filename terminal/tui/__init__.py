"""The smart POS terminal's text UI (Textual).

It receives its services (:class:`PosServices`) and never builds an adapter: ``posemu tui``
(``terminal.cli.tui_cmd``) wires a :class:`~terminal.runtime.TerminalRuntime` for it.
"""

from __future__ import annotations

from terminal.tui.app import THEMES, PosApp
from terminal.tui.services import PosBackend, PosServices

__all__ = ["THEMES", "PosApp", "PosBackend", "PosServices"]
