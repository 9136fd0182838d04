"""The host simulator in-process: its own event loop in a daemon thread.

Tests, the terminal's demos and notebooks want a real TCP host without a subprocess and
without turning their own code async; :class:`EmbeddedHost` runs the same
:class:`~iso8583.host.server.HostServer` as ``posemu host`` on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from iso8583.acquirer.security import TEST_TMK
from iso8583.dialects import get_spec
from iso8583.host.engine import HostEngine
from iso8583.host.ledger import LedgerView
from iso8583.host.rules import HostError, Rules
from iso8583.host.server import HostServer
from iso8583.host.state import HostStateStore, state_file_for
from iso8583.keys import Key
from iso8583.spec import Spec

__all__ = ["EmbeddedHost"]

_START_TIMEOUT = 10.0


class EmbeddedHost:
    """``with EmbeddedHost("iso87ascii") as host: connect to host.address``.

    ``server_options`` go to :class:`HostServer` (``ssl_context``, ``idle_timeout``,
    ``max_connections``).

    ``start`` returns ``(host, port)`` once the socket listens; ``stop`` may be called from any
    thread, more than once, and waits for the server to finish (requests already received
    are answered, late replies not yet due are dropped).
    """

    def __init__(
        self,
        spec: Spec | str,
        rules: Rules | None = None,
        *,
        tmk: Key = TEST_TMK,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: str | os.PathLike[str] | None = None,
        **server_options: Any,
    ) -> None:
        self.spec = get_spec(spec) if isinstance(spec, str) else spec
        self.engine = HostEngine(self.spec, rules, tmk=tmk)
        # With a state directory the ledger and keys survive the process and are shared with
        # other processes using the same directory (concurrent posemu pay runs): every request
        # is decided in a transaction of the state file. HostStateError if it is unusable.
        self._store: HostStateStore | None = None
        if state_dir is not None:
            state_file = state_file_for(Path(state_dir), self.spec.name)
            self._store = HostStateStore(state_file, self.spec.name)
            try:
                self.engine.attach(self._store)
            except BaseException:
                self._store.close()
                raise
        self._bind = (host, port)
        self._server_options = server_options  # HostServer's: ssl_context, idle_timeout, ...
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._address: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        if self._address is None:
            raise HostError("embedded host is not running")
        return self._address

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def rules(self) -> Rules:
        return self.engine.rules

    @property
    def ledger(self) -> LedgerView:
        """Read-only view of the ledger, safe to read while the host runs."""
        return LedgerView(self.engine.ledger)

    def start(self) -> tuple[str, int]:
        with self._lock:
            if self._thread is not None and self._address is not None:
                return self._address
            self._ready.clear()
            self._error = None
            thread = threading.Thread(target=self._run, name="posemu-embedded-host", daemon=True)
            self._thread = thread
            thread.start()
            if not self._ready.wait(_START_TIMEOUT):
                raise HostError("embedded host did not start in time")
            if self._error is not None or self._address is None:
                self._thread = None
                thread.join(_START_TIMEOUT)
                raise HostError(f"embedded host failed to start: {self._error}") from self._error
            return self._address

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to start(); the thread must end cleanly
            self._error = exc
        finally:
            loop.close()
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        server = HostServer(self.engine, **self._server_options)
        self._address = await server.start(*self._bind)
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await server.stop()

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            thread, loop, event = self._thread, self._loop, self._stop_event
            if thread is None:
                return
            if loop is not None and event is not None:
                # A closed loop means the thread is already ending.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(event.set)
            thread.join(timeout)
            self._thread = None
            self._loop = None
            self._stop_event = None
            self._address = None

    def close(self) -> None:
        """Stop, and release the state file."""
        self.stop()
        if self._store is not None:
            self._store.close()
            self._store = None
            self.engine.store = None

    def __enter__(self) -> EmbeddedHost:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
