"""Command intake and execution: refuse with a reason, record, run once, report the result.

Intake (on the connection's reader) only checks and records; one worker runs commands in
arrival order, each inside ``idle()`` so a command that arrives mid-transaction waits until
the terminal is idle. The command log makes a repeated ID answer with the stored result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.clock import utc_now
from agent.commands import Command, Envelope, check_command, open_envelope
from agent.errors import AgentError, CommandRefused
from agent.store import CommandLog

__all__ = ["CommandFailed", "Dispatcher", "Handler"]

log = logging.getLogger("agent.commands")

Handler = Callable[[dict[str, str]], Awaitable[dict[str, Any]]]
#: ``report(command_id, name, status, reason, data, repeat)`` publishes one result report.
ResultSink = Callable[[dict[str, Any]], None]


class CommandFailed(AgentError):
    """A command ran but could not do its job; ``data`` goes into the result."""

    def __init__(self, reason: str, data: dict[str, Any] | None = None) -> None:
        self.reason = reason
        self.data = data or {}
        super().__init__(reason)


@contextlib.asynccontextmanager
async def _always_idle() -> AsyncIterator[None]:
    yield


class Dispatcher:
    def __init__(
        self,
        log_: CommandLog,
        handlers: Mapping[str, Handler],
        sink: ResultSink,
        *,
        key: Ed25519PublicKey | None = None,
        idle: Callable[[], contextlib.AbstractAsyncContextManager[Any]] = _always_idle,
    ) -> None:
        self.log = log_
        self.handlers = dict(handlers)
        self._sink = sink
        self.key = key
        self.idle = idle
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self.running: str | None = None
        self.history: list[dict[str, Any]] = []  # recent results, for the TUI panel

    def _result(
        self,
        command_id: str | None,
        name: str | None,
        status: str,
        *,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"command_id": command_id, "name": name, "status": status}
        if reason:
            result["reason"] = reason
        if data:
            result["data"] = data
        return result

    def _emit(self, result: dict[str, Any]) -> None:
        self.history.append(result)
        del self.history[:-50]
        self._sink(result)

    def receive(self, payload: bytes) -> None:
        """Check and record one command message; never raises."""
        try:
            envelope = open_envelope(payload, key=self.key)
        except CommandRefused as exc:
            log.warning("command refused: %s", exc.reason)
            self._emit(self._result(exc.command_id, exc.name, "refused", reason=exc.reason))
            return
        known = self.log.get(envelope.id)
        if known is not None:
            self._repeat(envelope, known.result)
            return
        try:
            command = check_command(envelope, now=utc_now())
        except CommandRefused as exc:
            result = self._result(exc.command_id, exc.name, "refused", reason=exc.reason)
            if self.log.add(envelope.id, envelope.name or "?", envelope.body):
                self.log.finish(envelope.id, result)
            self._emit(result)
            return
        if self.log.add(command.id, command.name, command.body):
            self._queue.put_nowait(command.id)

    def _repeat(self, envelope: Envelope, stored: dict[str, Any] | None) -> None:
        if stored is None:  # still queued or running: its result will follow
            result = self._result(envelope.id, envelope.name, "pending")
        else:
            result = dict(stored)
        result["repeat"] = True
        self._emit(result)

    def recover(self) -> None:
        """After a restart: queued commands run; ones that were running are not run again."""
        for record in self.log.unfinished():
            if record.state == "running":
                reason = "interrupted: the terminal stopped while it ran; not run again"
                result = self._result(record.command_id, record.name, "failed", reason=reason)
                self.log.finish(record.command_id, result)
                self._emit(result)
            else:
                self._queue.put_nowait(record.command_id)

    async def run(self) -> None:
        """The worker: one command at a time, in arrival order."""
        while True:
            command_id = await self._queue.get()
            record = self.log.get(command_id)
            if record is None or record.state == "done":
                continue
            try:
                command = check_command(
                    Envelope(command_id, record.name, record.body), now=utc_now()
                )
            except CommandRefused as exc:
                result = self._result(command_id, record.name, "refused", reason=exc.reason)
                self.log.finish(command_id, result)
                self._emit(result)
                continue
            result = await self._execute(command)
            self.log.finish(command_id, result)
            self._emit(result)

    async def _execute(self, command: Command) -> dict[str, Any]:
        handler = self.handlers.get(command.name)
        if handler is None:
            return self._result(
                command.id, command.name, "refused", reason="not available on this terminal"
            )
        # A command arriving mid-transaction waits for its end; handlers that must keep
        # transactions off while they work (reprint) hold idle() themselves.
        async with self.idle():
            pass
        self.log.set_state(command.id, "running")
        self.running = command.id
        try:
            data = await handler(command.args)
        except CommandRefused as exc:
            return self._result(command.id, command.name, "refused", reason=exc.reason)
        except CommandFailed as exc:
            return self._result(
                command.id, command.name, "failed", reason=exc.reason, data=exc.data
            )
        except Exception as exc:  # a handler bug must not take the agent down
            log.exception("command %s (%s) crashed", command.id, command.name)
            reason = f"internal error: {type(exc).__name__}: {exc}"
            return self._result(command.id, command.name, "failed", reason=reason)
        finally:
            self.running = None
        return self._result(command.id, command.name, "ok", data=data)
