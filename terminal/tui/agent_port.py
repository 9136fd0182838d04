"""What the TUI's agent panel needs from the device-management agent (dependency injection:
the wiring in ``terminal.cli.tui_cmd`` passes an ``agent.panel.AgentPanel``; the TUI never
builds or imports the agent). Every method returns at once and is safe from the UI thread.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["AgentPanelPort"]


class AgentPanelPort(Protocol):
    @property
    def broker_url(self) -> str: ...

    def status(self) -> dict[str, Any]:
        """State, outbox depth, open faults, recent command results, offered reprints."""
        ...

    def tms_events(self) -> list[dict[str, Any]]:
        """This terminal's reports as the TMS side received them, oldest first."""
        ...

    def repair_request(self, part: str, description: str, contact: str) -> str: ...

    def remote_command(self, name: str, args: dict[str, str]) -> str:
        """Send a command as the TMS would (through the broker); returns its ID."""
        ...

    def toggle_sensor(self, code: str) -> None:
        """Flip an emulated sensor (``battery.low``, ``tamper``): its fault raised or cleared."""
        ...

    def reprint_offered(self) -> None:
        """The merchant accepted the offer: reprint the lost receipts as DUPLICATE."""
        ...
