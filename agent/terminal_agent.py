"""The agent of a full terminal: an :class:`~agent.service.Agent` plugged into a
:class:`~terminal.runtime.TerminalRuntime` as a start/stop hook.

It runs on the runtime's loop (the I/O thread), listens to the event bus for faults, scans
the journal for lost receipts, reprints them (or offers them) when the printer works again,
reports crashes, and answers remote commands through :class:`~agent.handlers.TerminalCommands`.
It stays up across restarts that its own commands cause (``reboot``, ``params``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.handlers import TerminalCommands
from agent.logbuffer import LogBuffer
from agent.mqtt import BrokerSettings
from agent.reports import DeviceIdentity
from agent.service import Agent, AgentOptions
from agent.sources import CrashHook, EventFaults
from agent.store import AgentStore
from terminal.core.events import DeviceEvent
from terminal.core.journal import JournalEntry, PrintStatus

if TYPE_CHECKING:
    from terminal.runtime import TerminalRuntime

__all__ = ["LOST_RECEIPT_POLICIES", "TerminalAgent", "TerminalInfo"]

log = logging.getLogger("agent.terminal")

LOST_RECEIPT_POLICIES = ("reprint", "offer")
AGENT_DB = "agent.sqlite"


@dataclass(frozen=True, slots=True)
class TerminalInfo:
    """What the runtime's config does not know: the box itself (after-sales data)."""

    model: str = "POSEMU-S1"
    serial: str = ""
    purchase_date: str = ""
    firmware: str = ""


@dataclass(slots=True)
class LostReceipt:
    journal_id: int
    copy: str
    stan: str
    reason: str


def failed_copies(entry: JournalEntry) -> list[str]:
    """Copies of an entry that never printed and whose last attempt failed."""
    latest: dict[str, PrintStatus] = {}
    printed: set[str] = set()
    for record in entry.copies:
        latest[record.copy] = record.status
        if record.status is PrintStatus.PRINTED:
            printed.add(record.copy)
    return [c for c, s in latest.items() if s is PrintStatus.FAILED and c not in printed]


class TerminalAgent:
    def __init__(
        self,
        runtime: TerminalRuntime,
        settings: BrokerSettings,
        data_dir: Path,
        *,
        info: TerminalInfo | None = None,
        options: AgentOptions | None = None,
        key: Ed25519PublicKey | None = None,
        lost_receipts: str = "reprint",
        firmware_url: str | None = None,
    ) -> None:
        if lost_receipts not in LOST_RECEIPT_POLICIES:
            raise ValueError(f"lost_receipts: {lost_receipts!r} (use reprint or offer)")
        self.runtime = runtime
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.info = info or TerminalInfo()
        self.options = options or AgentOptions()
        self.key = key
        self.lost_receipts = lost_receipts
        self.logs = LogBuffer()
        self.commands = TerminalCommands(
            runtime,
            logs=self.logs,
            data_dir=self.data_dir,
            status=self.status,
            firmware_url=firmware_url,
        )
        self.agent: Agent | None = None
        self.sources: EventFaults | None = None
        self.offered: list[LostReceipt] = []
        self.device_state: dict[str, str] = {}
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self._store: AgentStore | None = None
        self._crash = CrashHook(self._report_crash)
        self._tasks: list[asyncio.Task[None]] = []
        self._recovering: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.started = asyncio.Event()

    def attach(self) -> TerminalAgent:
        """Plug into the runtime: started after the engine starts, stopped before it stops."""
        self.runtime.add_hook("agent", start=self._hook_start, stop=self._hook_stop)
        return self

    # --- life cycle (on the runtime's loop) -----------------------------------------------
    async def _hook_start(self) -> None:
        if self.agent is None:
            await self.start()

    async def _hook_stop(self) -> None:
        if not self.commands.own_restart:
            await self.stop()

    def identity(self) -> DeviceIdentity:
        from importlib.metadata import PackageNotFoundError, version

        firmware = self.info.firmware
        if not firmware:
            try:
                firmware = version("posemu")
            except PackageNotFoundError:
                firmware = "0.0.0"
        tid = self.runtime.config.terminal_id
        return DeviceIdentity(
            tid,
            model=self.info.model,
            serial=self.info.serial or f"PSM-{tid}",
            firmware=firmware,
            purchase_date=self.info.purchase_date,
        )

    def call_soon(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``make()`` on the agent's loop (from any thread, e.g. the UI's)."""
        loop = self._loop
        if loop is None or self.agent is None:
            raise RuntimeError("the agent is not running")
        asyncio.run_coroutine_threadsafe(make(), loop)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._store = AgentStore(self.data_dir / AGENT_DB)
        agent = Agent(
            self.settings,
            self.identity(),
            self._store,
            data_dir=self.data_dir,
            options=self.options,
            handlers=self.commands.handlers(),
            idle=self.runtime.idle,
            key=self.key,
            health=self._health,
        )
        agent.listeners.append(self._notify)
        self.agent = agent
        self.sources = EventFaults(agent.faults, on_printer_ok=self._printer_ok)
        self.logs.attach()
        self._crash.install()
        asyncio.get_running_loop().set_exception_handler(self._crash.loop_handler)
        subscription = self.runtime.bus.subscribe("agent", maxsize=1000)
        self._tasks = [
            asyncio.create_task(self._follow(subscription), name="agent-bus"),
            asyncio.create_task(self._tick(), name="agent-tick"),
        ]
        self._subscription = subscription
        self._scan_journal()
        await agent.start()
        self.started.set()

    async def stop(self) -> None:
        agent, self.agent = self.agent, None
        if agent is None:
            return
        self._subscription.close()
        for delivery in self._subscription.drain():  # what happened just before the stop
            with contextlib.suppress(Exception):
                if self.sources is not None:
                    self.sources.handle(delivery.event)
        for task in [*self._tasks, *([self._recovering] if self._recovering else [])]:
            task.cancel()
        await asyncio.wait([*self._tasks], timeout=2)
        self._tasks = []
        await agent.stop()
        self._crash.uninstall()
        self.logs.detach()
        if self._store is not None:
            self._store.close()
        self.started.clear()

    # --- sources --------------------------------------------------------------------------
    async def _follow(self, subscription: Any) -> None:
        async for delivery in subscription:
            event = delivery.event
            if isinstance(event, DeviceEvent):
                self.device_state[event.role.value] = (
                    f"{event.condition.value}{': ' + event.detail if event.detail else ''}"
                )
            try:
                if self.sources is not None:
                    self.sources.handle(event)
            except Exception:  # one odd event must not stop fault reporting
                log.exception("agent: could not handle %r", event)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(5)
            if self.sources is not None:
                self.sources.tick()

    def _scan_journal(self) -> None:
        """Lost receipts left from before this start (a failed copy, then a restart)."""
        lost = self._lost()
        if not lost and self.agent is not None:
            self.agent.faults.clear("printer.failed")  # reprinted while we were down
        if lost and self.agent is not None:
            first = lost[0]
            self.agent.faults.raise_(
                "printer.failed",
                f"{len(lost)} receipt {'copy' if len(lost) == 1 else 'copies'} never printed",
                {"failed_copies": len(lost), "journal_id": first.journal_id, "copy": first.copy},
            )

    def _lost(self) -> list[LostReceipt]:
        entries = {e.id: e for e in self.runtime.receipts.unprinted(limit=200)}
        if self.sources is not None:
            for jid, _copy in self.sources.failed_copies:
                if jid not in entries:
                    with contextlib.suppress(Exception):
                        entries[jid] = self.runtime.journal.get(jid)
        lost = []
        for entry in entries.values():
            for copy in failed_copies(entry):
                reason = next(
                    (r.error for r in reversed(entry.copies) if r.copy == copy and r.error), ""
                )
                lost.append(LostReceipt(entry.id or 0, copy, entry.stan, reason))
        return lost

    def _report_crash(self, details: dict[str, Any]) -> None:
        agent = self.agent
        if agent is not None:
            agent.send_report(
                "fault",
                state="raised",
                code="app.crash",
                component="app",
                severity="critical",
                message=f"{details['exception']}: {details['message']}",
                details=details,
                device=agent.identity.as_dict(),
            )

    # --- lost receipts --------------------------------------------------------------------
    def _printer_ok(self) -> None:
        lost = self._lost()
        if not lost:
            if self.agent is not None:
                self.agent.faults.clear("printer.failed")
            return
        if self.lost_receipts == "offer":
            self.offered = lost
            self._notify({"type": "lost_receipts", "count": len(lost)})
            return
        if self._recovering is None or self._recovering.done():
            self._recovering = asyncio.get_running_loop().create_task(self.reprint_lost())

    async def reprint_lost(self) -> list[dict[str, Any]]:
        """Reprint every lost copy as a DUPLICATE (the offer's "yes", or automatically)."""
        done = []
        async with self.runtime.idle():
            for item in self._lost():
                outcome = await asyncio.to_thread(
                    self.runtime.receipts.reprint, item.journal_id, item.copy
                )
                done.append(
                    {
                        "journal_id": item.journal_id,
                        "copy": item.copy,
                        "stan": item.stan,
                        "printed": outcome.printed,
                        "reason": outcome.reason,
                    }
                )
                if not outcome.printed:
                    break  # the printer failed again; its event re-raises the fault
        self.offered = []
        if done and all(d["printed"] for d in done) and self.agent is not None:
            self.agent.faults.clear(
                "printer.failed", f"{len(done)} lost receipt copies reprinted as DUPLICATE"
            )
        self._notify({"type": "lost_receipts_reprinted", "reprints": done})
        return done

    # --- for the TUI and the CLI ----------------------------------------------------------
    def _notify(self, body: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):
                listener(body)

    #: The emulated terminal's own sensors, switched from the agent panel (a real terminal's
    #: battery gauge and tamper switch would call ``faults.raise_``/``clear`` the same way).
    SENSORS: ClassVar[dict[str, str]] = {
        "battery.low": "battery below 10% (emulated)",
        "tamper": "case opened: tamper switch (emulated)",
    }

    def toggle_sensor(self, code: str) -> None:
        if code not in self.SENSORS:
            raise ValueError(f"no emulated sensor for {code!r}")

        async def toggle() -> None:
            agent = self.agent
            if agent is None:
                return
            if code in agent.faults.open:
                agent.faults.clear(code)
            else:
                agent.faults.raise_(code, self.SENSORS[code])

        self.call_soon(toggle)

    def repair_request(self, part: str, description: str, contact: str, tried: str = "") -> str:
        if self.agent is None:
            raise RuntimeError("the agent is not running")
        return self.agent.repair_request(part, description, contact, tried)

    def _health(self) -> dict[str, Any]:
        rt = self.runtime
        return {
            "host_link": rt.link_state.value,
            "pending_reversals": rt.engine.pending_reversals(),
            "unprinted_receipts": len(self._lost()),
            "printer": rt.devices.printer.name,
        }

    def status(self) -> dict[str, Any]:
        """A snapshot for the TUI panel and the diagnostics command."""
        agent = self.agent
        if agent is None:
            return {"state": "stopped"}
        return {
            "state": agent.link.state,
            "broker": self.settings.url,
            "last_error": agent.link.last_error,
            "outbox_depth": agent.outbox.depth(),
            "open_faults": agent.faults.snapshot(),
            "recent_results": list(agent.commands.history[-10:]),
            "devices": dict(self.device_state),
            "offered_reprints": len(self.offered),
        }
