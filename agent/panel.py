"""The agent as the TUI's agent panel sees it (``terminal.tui.agent_port.AgentPanelPort``):
snapshots and fire-and-forget actions, safe to call from the UI thread."""

from __future__ import annotations

import contextlib
from typing import Any

from agent.terminal_agent import TerminalAgent
from agent.tms_side import TmsSide

__all__ = ["AgentPanel"]


class AgentPanel:
    def __init__(self, terminal_agent: TerminalAgent, tms: TmsSide | None) -> None:
        self.agent = terminal_agent
        self.tms = tms

    @property
    def broker_url(self) -> str:
        return self.agent.settings.url

    def status(self) -> dict[str, Any]:
        for _ in range(3):  # the agent's loop may change a dict while we copy it
            with contextlib.suppress(RuntimeError):
                snapshot = self.agent.status()
                snapshot["tms_side"] = (
                    "not running"
                    if self.tms is None
                    else "connected"
                    if self.tms.connected
                    else "connecting"
                )
                return snapshot
        return {"state": "busy"}

    def tms_events(self) -> list[dict[str, Any]]:
        return list(self.tms.events) if self.tms is not None else []

    def repair_request(self, part: str, description: str, contact: str) -> str:
        return self.agent.repair_request(part, description, contact)

    def remote_command(self, name: str, args: dict[str, str]) -> str:
        if self.tms is None:
            raise RuntimeError("no TMS side in this process")
        return self.tms.send(name, args)

    def toggle_sensor(self, code: str) -> None:
        self.agent.toggle_sensor(code)

    def reprint_offered(self) -> None:
        self.agent.call_soon(self.agent.reprint_lost)
