"""Many emulated terminals' agents in one process, for load-testing a TMS or a broker.

Each fleet terminal is an agent with its own identity, session, outbox stream, command log,
heartbeats and faults; it has no card engine or printer (``posemu agent`` runs one full
terminal), so it answers ``diagnostics``, ``logs`` and ``reboot`` and refuses the rest with
that reason. All outbox streams share one SQLite file, written without an fsync per report
(WAL: a killed process loses nothing, a power cut may). Connections are spread over a ramp so
a thousand terminals do not hit the broker in the same millisecond.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from pathlib import Path
from typing import Any

from agent.dispatch import Handler
from agent.mqtt import BrokerSettings
from agent.reports import DeviceIdentity
from agent.service import Agent, AgentOptions
from agent.store import AgentStore
from agent.topics import check_terminal_id

__all__ = ["Fleet"]

log = logging.getLogger("agent.fleet")


class Fleet:
    def __init__(
        self,
        settings: BrokerSettings,
        count: int,
        data_dir: Path,
        *,
        id_prefix: str = "FLT",
        options: AgentOptions | None = None,
        ramp: float = 5.0,
        firmware: str = "0.1.0",
    ) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        check_terminal_id(f"{id_prefix}{count:05d}")
        self.settings = settings
        self.count = count
        self.data_dir = data_dir
        self.id_prefix = id_prefix
        self.options = options or AgentOptions()
        self.ramp = ramp
        self.firmware = firmware
        self.store: AgentStore | None = None
        self.agents: list[Agent] = []
        self._starters: list[asyncio.Task[None]] = []

    def _handlers(self, agent_ref: list[Agent]) -> dict[str, Handler]:
        lines: deque[str] = deque(maxlen=200)

        async def diagnostics(args: dict[str, str]) -> dict[str, Any]:
            agent = agent_ref[0]
            return {
                "terminal": "fleet emulation (agent only: no printer, reader or host link)",
                "link": agent.link.state,
                "connects": agent.link.connects,
                **agent.health(),
            }

        async def logs(args: dict[str, str]) -> dict[str, Any]:
            count = int(args.get("lines", "100"))
            return {"lines": list(lines)[-count:]}

        async def reboot(args: dict[str, str]) -> dict[str, Any]:
            lines.append("reboot requested; fleet terminals only reconnect")
            return {"rebooted": False, "note": "fleet terminals have no terminal core to restart"}

        return {"diagnostics": diagnostics, "logs": logs, "reboot": reboot}

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # One file for the whole fleet; no fsync per report (a load generator's thousand
        # terminals would otherwise queue on one disk; a killed process still loses nothing).
        self.store = AgentStore(self.data_dir / "fleet-agent.sqlite", durable=False)
        for i in range(1, self.count + 1):
            tid = f"{self.id_prefix}{i:05d}"
            identity = DeviceIdentity(tid, serial=f"SN-{tid}", firmware=self.firmware)
            ref: list[Agent] = []
            agent = Agent(
                self.settings,
                identity,
                self.store,
                data_dir=self.data_dir,
                options=self.options,
                handlers=self._handlers(ref),
            )
            ref.append(agent)
            self.agents.append(agent)
        step = self.ramp / self.count
        for i, agent in enumerate(self.agents):
            self._starters.append(asyncio.create_task(self._start_one(agent, i * step)))

    @staticmethod
    async def _start_one(agent: Agent, delay: float) -> None:
        await asyncio.sleep(delay)
        await agent.start()

    def online(self) -> int:
        return sum(1 for a in self.agents if a.link.connected.is_set())

    def outbox_depth(self) -> int:
        return sum(a.outbox.depth() for a in self.agents)

    async def stop(self, flush_timeout: float = 5.0) -> int:
        """Stop every agent (each flushes its outbox for up to ``flush_timeout`` seconds);
        returns how many reports were left for the next start."""
        for task in self._starters:
            task.cancel()
        await asyncio.gather(
            *(a.stop(flush_timeout=flush_timeout) for a in self.agents), return_exceptions=True
        )
        left = self.outbox_depth() if self.store is not None else 0
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.close()
        return left
