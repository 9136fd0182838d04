"""Accepting connections when clients misbehave: caps, eviction, EMFILE, quiet logs.

asyncio's own accept loop logs a traceback for every failed ``accept()`` and, once the process
is out of file descriptors, leaves the pending connections in the backlog where good terminals
time out behind idle ones. This listener accepts itself:

- a cap on connections: when it is reached, the connection idle longest without sending a
  complete frame is closed to make room (the new one is served);
- the spare-descriptor technique: one descriptor (``/dev/null``) is held in reserve; when
  ``accept()`` fails with EMFILE/ENFILE, it is released, the waiting connection accepted (and
  served if an idle one could be evicted, else closed at once so that the client is not left
  hanging), and the spare taken again;
- accept errors are logged at most once per interval, with the count of those left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import time
from collections.abc import Callable

__all__ = ["Listener", "RateLimitedLog"]

_OUT_OF_FDS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_PEER_GONE = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.ECONNRESET})
_ACCEPTS_PER_TURN = 64


class RateLimitedLog:
    """One line per ``interval`` seconds at most; the next one says how many were dropped."""

    def __init__(self, logger: logging.Logger, interval: float = 5.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last = -float("inf")
        self.suppressed = 0

    def warning(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            self.suppressed += 1
            return
        if self.suppressed:
            text += f" ({self.suppressed} more like it in the last {self.interval:g} s)"
        self._last, self.suppressed = now, 0
        self.logger.warning("%s", text)


class Listener:
    """Listening sockets whose accepted sockets go to ``admit``; ``evict`` makes room."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sockets: list[socket.socket],
        admit: Callable[[socket.socket], None],
        evict: Callable[[], bool],
        log: RateLimitedLog,
    ) -> None:
        self.loop = loop
        self.sockets = sockets
        self._admit = admit
        self._evict = evict
        self._log = log
        self._spare: int | None = None
        self._retry: asyncio.TimerHandle | None = None
        self.refused = 0  # connections closed at once for want of a descriptor
        self._take_spare()
        for sock in sockets:
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._on_readable, sock)

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(Exception):
                self.loop.remove_reader(sock.fileno())
            sock.close()
        if self._retry is not None:
            self._retry.cancel()
        if self._spare is not None:
            os.close(self._spare)
            self._spare = None

    def _take_spare(self) -> None:
        if self._spare is None:
            with contextlib.suppress(OSError):
                self._spare = os.open(os.devnull, os.O_RDONLY)

    def _on_readable(self, lsock: socket.socket) -> None:
        for _ in range(_ACCEPTS_PER_TURN):
            try:
                sock, _addr = lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _PEER_GONE:
                    continue
                if exc.errno in _OUT_OF_FDS:
                    self._out_of_descriptors(lsock, exc)
                else:
                    self._log.warning(f"accept() failed: {exc.strerror or exc}")
                    self._pause(lsock, 0.1)
                return
            self._admit(sock)
            self._take_spare()

    def _out_of_descriptors(self, lsock: socket.socket, exc: OSError) -> None:
        self._log.warning(f"accept() failed: {exc.strerror or exc}; using the spare descriptor")
        evicted = self._evict()
        if self._spare is None:
            # No spare to use (another part of the process took the last descriptors): wait
            # for the evicted connection's descriptor to be released, then try again.
            self._pause(lsock, 0.05)
            return
        os.close(self._spare)
        self._spare = None
        try:
            sock, _addr = lsock.accept()
        except OSError:
            self._take_spare()
            self._pause(lsock, 0.05)
            return
        if evicted:
            self._admit(sock)
        else:  # nothing could make room: tell the client at once instead of leaving it hanging
            self.refused += 1
            sock.close()
        self.loop.call_soon(self._take_spare)  # once the evicted descriptor is closed

    def _pause(self, lsock: socket.socket, delay: float) -> None:
        """Stop watching ``lsock`` for ``delay`` s: no busy loop while nothing can be done."""
        with contextlib.suppress(Exception):
            self.loop.remove_reader(lsock.fileno())

        def resume() -> None:
            self._retry = None
            self._take_spare()
            if lsock.fileno() >= 0:
                self.loop.add_reader(lsock.fileno(), self._on_readable, lsock)

        self._retry = self.loop.call_later(delay, resume)
