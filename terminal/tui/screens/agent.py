"""The agent panel: this terminal as its TMS sees it, and the after-sales actions.

Left: the agent's connection, outbox depth and open faults; right: every report of this
terminal as the TMS side received it (faults raised and cleared, command results, repair
requests). Keys send a remote reprint or diagnostics *through the broker*, as support staff
would, file a repair request, accept an offer to reprint lost receipts, and switch the
emulated battery gauge and tamper switch. Refreshed once
a second from snapshots; nothing here blocks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Log, Static

from terminal.tui.agent_port import AgentPanelPort
from terminal.tui.screens.base import PosScreen

__all__ = ["AgentScreen", "RepairForm", "describe_report"]


def describe_report(body: dict[str, Any]) -> str:
    """One log line for a report, in support staff's words."""
    at = str(body.get("at", ""))[11:19]
    kind = body.get("type")
    if kind == "fault":
        return f"{at} FAULT {body.get('state', '')} {body.get('code')}: {body.get('message', '')}"
    if kind == "result":
        reason = f" ({body['reason']})" if body.get("reason") else ""
        repeat = " [repeat]" if body.get("repeat") else ""
        data = body.get("data") or {}
        extra = f" printed {data['printed']}" if "printed" in data else ""
        return f"{at} RESULT {body.get('name')}: {body.get('status')}{reason}{extra}{repeat}"
    if kind == "repair":
        return f"{at} REPAIR REQUEST {body.get('part')}: {body.get('description')}"
    if kind == "status":
        return f"{at} STATUS {body.get('state')}"
    if kind == "heartbeat":
        return f"{at} heartbeat #{body.get('seq')}, outbox {body.get('outbox_depth')}"
    return f"{at} {json.dumps(body)[:120]}"


class RepairForm(ModalScreen[tuple[str, str, str] | None]):
    """Faulty part, what happened, who to call: the rest is attached by the agent."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> Iterator[Widget]:
        with Vertical(id="repair-form"):
            yield Label("REPAIR REQUEST (sent with model, serial, firmware and recent faults)")
            yield Label("Faulty part (printer, reader, screen, keypad, battery...):")
            yield Input(id="repair-part", placeholder="printer")
            yield Label("What happened, what was tried:")
            yield Input(id="repair-description", placeholder="paper jams on every slip")
            yield Label("Contact (name, phone):")
            yield Input(id="repair-contact", placeholder="Ms Li, 138 0000 0000")
            yield Label("", id="repair-error")
            yield Button("Send", id="repair-send", variant="primary")

    @on(Button.Pressed, "#repair-send")
    @on(Input.Submitted)
    def submit(self) -> None:
        values = [
            self.query_one(f"#repair-{n}", Input).value.strip()
            for n in ("part", "description", "contact")
        ]
        if not all(values):
            self.query_one("#repair-error", Label).update("Fill in all three fields.")
            return
        self.dismiss((values[0], values[1], values[2]))

    def action_cancel(self) -> None:
        self.dismiss(None)


class AgentScreen(PosScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("s", "remote('reprint')", "TMS: reprint last"),
        Binding("g", "remote('diagnostics')", "TMS: diagnostics"),
        Binding("r", "repair", "Repair request"),
        Binding("l", "reprint_lost", "Reprint lost"),
        Binding("b", "sensor('battery.low')", "Battery low"),
        Binding("t", "sensor('tamper')", "Tamper"),
    ]

    @property
    def agent(self) -> AgentPanelPort | None:
        return getattr(self.pos.services, "agent", None)

    def body(self) -> Iterator[Widget]:
        with Grid(id="agent-panel"):
            with Vertical(classes="panel", id="agent-link") as panel:
                panel.border_title = "Device agent"
                yield Static("", id="agent-summary")
                yield DataTable(id="agent-faults", cursor_type="none", show_cursor=False)
            with Vertical(classes="panel", id="agent-tms") as panel:
                panel.border_title = "TMS console (this terminal)"
                yield Log(id="agent-events")

    def on_mount(self) -> None:
        self.query_one("#agent-faults", DataTable).add_columns("Open fault", "Severity", "Since")
        self._shown = 0
        self.refresh_panel()
        self.set_interval(1.0, self.refresh_panel)

    def refresh_panel(self) -> None:
        agent = self.agent
        if agent is None:
            self.set_text(
                "#agent-summary",
                "Agent off (--no-tms).\nStart posemu without --no-tms for the embedded TMS, "
                "or with --tms mqtt://HOST:PORT.",
            )
            return
        status = agent.status()
        offered = status.get("offered_reprints", 0)
        lines = [
            f"Broker: {agent.broker_url}",
            f"Connection: {status.get('state')}"
            + (f" ({status['last_error']})" if status.get("last_error") else ""),
            f"Outbox: {status.get('outbox_depth', '?')} report(s) waiting",
            f"TMS side: {status.get('tms_side', '-')}",
            f"Lost receipts offered: {offered}" + ("  (l: reprint)" if offered else ""),
            f"From a shell: posemu tms send --broker {agent.broker_url} "
            f"--terminal {self.pos.services.config.terminal_id} diagnostics",
        ]
        self.set_text("#agent-summary", "\n".join(lines))
        table = self.query_one("#agent-faults", DataTable)
        table.clear()
        for fault in status.get("open_faults", []):
            table.add_row(fault["code"], fault["severity"], str(fault["raised_at"])[11:19])
        events = agent.tms_events()
        log = self.query_one("#agent-events", Log)
        if len(events) < self._shown:
            log.clear()
            self._shown = 0
        log.write_lines(describe_report(e) for e in events[self._shown :])
        self._shown = len(events)

    def action_remote(self, name: str) -> None:
        agent = self.agent
        if agent is None:
            self.notify("Agent off", severity="warning")
            return
        args = {"select": "last", "copy": "customer"} if name == "reprint" else {}
        try:
            command_id = agent.remote_command(name, args)
        except Exception as exc:
            self.notify(f"Cannot send: {exc}", severity="error")
            return
        self.notify(f"TMS sent {name} ({command_id[:8]}); the result appears on the right")

    def action_repair(self) -> None:
        agent = self.agent
        if agent is None:
            self.notify("Agent off", severity="warning")
            return

        def done(values: tuple[str, str, str] | None) -> None:
            if values is None:
                return
            try:
                report_id = agent.repair_request(*values)
            except Exception as exc:
                self.notify(f"Repair request not stored: {exc}", severity="error")
                return
            self.notify(f"Repair request {report_id[:8]} stored; it goes to the TMS")

        self.app.push_screen(RepairForm(), done)

    def action_sensor(self, code: str) -> None:
        agent = self.agent
        if agent is None:
            self.notify("Agent off", severity="warning")
            return
        agent.toggle_sensor(code)
        self.notify(f"Emulated sensor: {code} switched")

    def action_reprint_lost(self) -> None:
        agent = self.agent
        if agent is None or not agent.status().get("offered_reprints"):
            self.notify("No lost receipts on offer", severity="information")
            return
        agent.reprint_offered()
        self.notify("Reprinting lost receipts as DUPLICATE")
