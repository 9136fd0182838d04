"""The agent of one terminal: outbox, link, faults, commands and repair requests together.

It knows nothing of the terminal's insides: the terminal side plugs in command handlers, an
``idle()`` context and extra health figures (see :mod:`agent.bridge`). Reports are stored in
the outbox first (``send_report`` returns once the row is on disk) and sent by the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.dispatch import Dispatcher, Handler
from agent.faults import FAULT_CODES, FaultTracker
from agent.link import AgentLink
from agent.mqtt import BrokerSettings
from agent.reports import DeviceIdentity, encode, report
from agent.store import AgentStore
from agent.topics import Topics

__all__ = ["Agent", "AgentOptions"]

log = logging.getLogger("agent")


@dataclass(frozen=True, slots=True)
class AgentOptions:
    heartbeat_interval: float = 30.0  # seconds between heartbeats
    hold_down: float = 2.0  # seconds a fault must stay away before it is cleared
    storage_low_mb: float = 50.0  # free space under which storage.low is raised
    flush_timeout: float = 5.0  # seconds stop() waits for the outbox to empty


class Agent:
    """Created with its collaborators; ``await start()`` / ``await stop()``."""

    def __init__(
        self,
        settings: BrokerSettings,
        identity: DeviceIdentity,
        store: AgentStore,
        *,
        data_dir: Path | None = None,
        options: AgentOptions | None = None,
        handlers: Mapping[str, Handler] | None = None,
        idle: Callable[[], contextlib.AbstractAsyncContextManager[Any]] | None = None,
        key: Ed25519PublicKey | None = None,
        health: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.options = options or AgentOptions()
        self.data_dir = data_dir
        self.topics = Topics(settings.prefix, identity.terminal_id)
        self.store = store
        self.outbox = store.outbox(identity.terminal_id)
        self.faults = FaultTracker(
            self._emit_fault,
            hold_down=self.options.hold_down,
            persist=store.open_faults(identity.terminal_id),
        )
        kwargs: dict[str, Any] = {"key": key}
        if idle is not None:
            kwargs["idle"] = idle
        self.commands = Dispatcher(
            store.commands(identity.terminal_id), handlers or {}, self._emit_result, **kwargs
        )
        self._extra_health = health
        self.link = AgentLink(
            settings,
            identity,
            self.outbox,
            on_command=self._on_command,
            health=self.health,
            heartbeat_interval=self.options.heartbeat_interval,
        )
        self.started_at = time.monotonic()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.listeners: list[Callable[[dict[str, Any]], None]] = []  # the TUI's agent panel

    # --- reports ------------------------------------------------------------------------
    def send_report(self, kind: str, **fields: Any) -> str:
        """Store one report in the outbox and wake the link; returns its ID. Callable from
        any thread (the crash hook runs on whichever thread crashed)."""
        body = report(kind, self.identity, **fields)
        self.outbox.put(body["id"], self.topics.of(kind), encode(body))
        self._kick()
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):
                listener(body)
        return str(body["id"])

    def _kick(self) -> None:
        loop = self._loop
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if loop is None or here is loop:
            self.link.kick()
        else:
            with contextlib.suppress(RuntimeError):  # that loop is closed: next start sends
                loop.call_soon_threadsafe(self.link.kick)

    def _emit_fault(self, state: str, code: str, message: str, details: dict[str, Any]) -> str:
        spec = FAULT_CODES[code]
        return self.send_report(
            "fault",
            state=state,
            code=code,
            component=spec.component,
            severity=spec.severity,
            message=message,
            details=details,
            device=self.identity.as_dict(),
        )

    def _emit_result(self, result: dict[str, Any]) -> None:
        self.send_report("result", **result)

    async def _on_command(self, payload: bytes) -> None:
        self.commands.receive(payload)

    def repair_request(self, part: str, description: str, contact: str, tried: str = "") -> str:
        """The after-sales report: the part, what happened, who to call, and the evidence."""
        return self.send_report(
            "repair",
            part=part,
            description=description,
            contact=contact,
            tried=tried,
            device=self.identity.as_dict(),
            open_faults=self.faults.snapshot(),
            recent_faults=list(self.faults.recent[-20:]),
        )

    # --- health -------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "outbox_depth": self.outbox.depth(),
            "open_faults": sorted(self.faults.open),
            "commands_running": self.commands.running,
        }
        if self.data_dir is not None:
            with contextlib.suppress(OSError):
                free_mb = shutil.disk_usage(self.data_dir).free / 1e6
                figures["storage_free_mb"] = round(free_mb, 1)
                if free_mb < self.options.storage_low_mb:
                    self.faults.raise_("storage.low", details={"free_mb": round(free_mb, 1)})
                else:
                    self.faults.clear("storage.low")
        with contextlib.suppress(OSError, ValueError, IndexError):
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            figures["rss_kb"] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
        if self._extra_health is not None:
            with contextlib.suppress(Exception):
                figures.update(self._extra_health())
        return figures

    # --- life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.commands.recover()
        self._tasks = [
            asyncio.create_task(self.link.run(), name=f"agent-link-{self.identity.terminal_id}"),
            asyncio.create_task(self.commands.run(), name="agent-commands"),
        ]

    async def stop(self, flush_timeout: float | None = None) -> None:
        """Apply pending fault clears, give the outbox ``flush_timeout`` seconds to empty (what
        is left goes out on the next start), say "offline", disconnect."""
        self.faults.flush()
        wait = self.options.flush_timeout if flush_timeout is None else flush_timeout
        if wait > 0 and self.outbox.depth():
            await self.link.flush(wait)
        await self.link.stop()
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # bounded: a broker that never answers the DISCONNECT cannot hang us
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks = []
