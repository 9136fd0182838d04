"""The smart POS terminal's text UI (Textual).

It receives its services (:class:`PosServices`) and never builds an adapter: ``posemu tui``
(``terminal.cli.tui_cmd``) wires the store, the engine and the host link.
"""

from __future__ import annotations

from terminal.tui.app import THEMES, PosApp
from terminal.tui.services import EventRelay, JournalReader, PosBackend, PosServices

__all__ = ["THEMES", "EventRelay", "JournalReader", "PosApp", "PosBackend", "PosServices"]
