"""The terminal's settings and where each came from (option, environment, file, default).

Read-only: settings are changed with ``posemu config set`` (or the device agent), so a
tester can see at a glance whether a value is the built-in default or their own. The TMK
is listed by its key check value only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Static

from terminal.tui.screens.base import PosScreen

__all__ = ["SettingsScreen"]


class SettingsScreen(PosScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def body(self) -> Iterator[Widget]:
        with Vertical(id="settings", classes="panel") as panel:
            panel.border_title = "Settings"
            yield DataTable(id="settings-table", cursor_type="row", zebra_stripes=True)
            yield Static(
                "Change with: posemu config set NAME VALUE (restart to apply)", id="settings-hint"
            )

    def on_mount(self) -> None:
        table = self.query_one("#settings-table", DataTable)
        table.add_columns("Setting", "Value", "From")
        rows = self.pos.services.settings or _from_config(self)
        for name, value, source in rows:
            table.add_row(name, value, source)
        table.focus()

    def action_back(self) -> None:
        self.dismiss(None)


def _from_config(screen: SettingsScreen) -> list[tuple[str, str, str]]:
    """Without sources (a runtime built in code, not by ``posemu``): the config's values,
    marked as given in code; the TMK by its check value only."""
    config = screen.pos.services.config
    rows = []
    for f in fields(config):
        if f.name == "tmk_hex":
            rows.append(("tmk", f"KCV {config.tmk.kcv}", "code"))
        elif f.repr:
            rows.append((f.name, str(getattr(config, f.name)), "code"))
    return rows
