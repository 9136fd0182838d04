"""The TMS console side inside the terminal's own process, for the TUI's agent panel.

Runs in a thread of its own with its own event loop, so neither the TUI nor the terminal's
I/O loop carries it: with no ``--tms`` it starts the embedded broker (127.0.0.1, free port);
in every case it follows this terminal's reports exactly as ``posemu tms watch --terminal``
would, and can send commands as the TMS does (the panel's "remote reprint" key), so the
one-command run shows a fault and a remote command end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any

from agent.broker import EmbeddedBroker
from agent.console import Console
from agent.mqtt import BrokerSettings

__all__ = ["TmsSide"]

log = logging.getLogger("agent.tms_side")


class TmsSide:
    def __init__(
        self, url: str | None, terminal_id: str, *, settings: BrokerSettings | None = None
    ) -> None:
        self._url = url
        self._settings = settings
        self.terminal_id = terminal_id
        self.events: deque[dict[str, Any]] = deque(maxlen=200)
        self.listeners: list[Any] = []
        self.broker: EmbeddedBroker | None = None
        self.console: Console | None = None
        self.connected = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._task: asyncio.Future[None] | None = None

    @property
    def url(self) -> str:
        return self._url or ""

    def start(self) -> str:
        """Start the thread (and the embedded broker); returns the broker URL."""
        ready: Future[str] = Future()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._boot(ready))
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="posemu-tms", daemon=True)
        self._thread.start()
        return ready.result(timeout=15)

    async def _boot(self, ready: Future[str]) -> None:
        try:
            if self._url is None:
                self.broker = EmbeddedBroker()
                self._url = await self.broker.start()
            settings = self._settings or BrokerSettings.from_url(self._url)
            if self._settings is None:
                self._settings = settings
            self.console = Console(settings, terminal_id=self.terminal_id)
            self._task = asyncio.ensure_future(self._follow())
            ready.set_result(self._url)
        except Exception as exc:
            ready.set_exception(exc)

    async def _follow(self) -> None:
        assert self.console is not None
        async for body in self.console.follow(on_state=self._on_state):
            self.events.append(body)
            for listener in list(self.listeners):
                with contextlib.suppress(Exception):
                    listener(body)

    def _on_state(self, up: bool, reason: str) -> None:
        self.connected = up
        if not up:
            log.info("TMS side: %s", reason)

    def send(self, name: str, args: dict[str, str]) -> str:
        """Send a command as the TMS would; returns its ID (the result arrives as an event)."""
        if self._loop is None or self.console is None or not self.connected:
            raise RuntimeError("the TMS side is not connected")
        console = self.console

        async def send() -> str:
            command = await console.send(self.terminal_id, name, args, ttl=300)
            return str(command["id"])

        return asyncio.run_coroutine_threadsafe(send(), self._loop).result(timeout=10)

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return

        async def shutdown() -> None:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
            if self.broker is not None:
                await self.broker.stop()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        loop.close()
