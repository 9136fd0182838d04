"""Devices and agent: what is attached, which faults are raised, the firmware version.

Lists the emulated built-in printer (``p`` runs its paper out, to make a lost receipt on
purpose) or the real one, and every device attached with ``--reader/--printer/--scanner``:
its URL, its state (online, offline, paper out...) and its last event; "agent not
connected" and the version of the installed package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Label, Log, ProgressBar, Static

from terminal.tui.screens.base import PosScreen

__all__ = ["DevicesScreen"]


class DevicesScreen(PosScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("p", "toggle_paper", "Paper out/in"),
        Binding("s", "settings", "Settings"),
    ]

    def body(self) -> Iterator[Widget]:
        services = self.pos.services
        with Grid(id="devices"):
            with Vertical(classes="panel", id="devices-attached") as panel:
                panel.border_title = "Devices"
                yield DataTable(id="devices-table", cursor_type="none", show_cursor=False)
                if services.devices is None:
                    yield Static(
                        "No external devices attached: start with --reader, --printer, "
                        "--scanner URL (see posemu devsim for simulated ones)."
                    )
            with Vertical(classes="panel", id="devices-faults") as panel:
                panel.border_title = "Faults"
                yield Log(id="faults-log")
            with Vertical(classes="panel", id="devices-agent") as panel:
                panel.border_title = "Device agent / TMS"
                yield Static(
                    "Agent not connected.\nNo remote diagnosis, no pushed updates yet.\n"
                    f"Host: {services.host_label or services.config.host}",
                    id="agent-state",
                )
            with Vertical(classes="panel", id="devices-firmware") as panel:
                panel.border_title = "Firmware"
                yield Label(f"Current version: posemu {services.version}", id="fw-version")
                yield Label("Update: none in progress", id="fw-state")
                yield ProgressBar(total=100, show_eta=False, id="fw-progress")

    def on_mount(self) -> None:
        table = self.query_one("#devices-table", DataTable)
        table.add_columns("Device", "Link", "State", "Last event")
        self._refresh()
        if self.pos.services.devices is not None or self.pos.services.agent is not None:
            self.set_interval(1.0, self._refresh)  # device threads change state any time

    def _agent_line(self) -> str | None:
        """The agent in one line (the agent panel, ``a``, has the rest); None: agent off."""
        agent = self.pos.services.agent
        if agent is None:
            return None
        status = agent.status()
        faults = len(status.get("open_faults", []))
        return (
            f"Agent {status.get('state')}: TMS {agent.broker_url}\n"
            f"Outbox {status.get('outbox_depth', '?')}, open faults {faults}\n"
            "a: the agent panel (faults, remote commands, repair request)"
        )

    def _refresh(self) -> None:
        line = self._agent_line()
        if line is not None:
            self.set_text("#agent-state", line)
        controller = self.pos.controller
        table = self.query_one("#devices-table", DataTable)
        table.clear()
        paper = "paper OK" if controller.paper_ok else "PAPER OUT"
        devices = self.pos.services.devices
        rows = devices.rows() if devices is not None else []
        if not any(row.role == "printer" for row in rows):
            table.add_row("Printer (emulated)", "built-in", paper, "")
        for row in rows:
            table.add_row(row.role.capitalize(), row.url, row.state, row.last_event)
        log = self.query_one("#faults-log", Log)
        log.clear()
        log.write_lines(controller.faults or ["No faults raised."])

    def action_settings(self) -> None:
        from terminal.tui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen())

    def action_toggle_paper(self) -> None:
        self.pos.controller.set_paper(not self.pos.controller.paper_ok)
        self._refresh()
        self.pos.refresh_status()
