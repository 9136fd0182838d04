"""The device simulator's end of the wire: its own pty, a given pyserial URL, or a TCP port.

``PtyEnd`` opens a pseudo-terminal pair and keeps both ends, so the path it prints stays
valid while the terminal opens and closes it; ``UrlEnd`` opens what it is given (a socat
pty end, ``socket://``); ``TcpEnd`` listens and serves one terminal connection at a time (a
new connection replaces the old one, as a cable swap would).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import tty
from typing import Protocol

__all__ = ["PtyEnd", "SimEnd", "TcpEnd", "UrlEnd"]


class SimEnd(Protocol):
    label: str  # what to give posemu: a path or a URL

    def read(self, timeout: float) -> bytes: ...
    def write(self, data: bytes) -> bool: ...
    def close(self) -> None: ...


class PtyEnd:
    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation until the terminal opens it
        self.label = os.ttyname(self._slave)

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self._master, 4096)
        except OSError:
            return b""

    def write(self, data: bytes) -> bool:
        try:
            os.write(self._master, data)
        except OSError:
            return False
        return True

    def close(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class UrlEnd:
    def __init__(self, url: str) -> None:
        import serial

        self.label = url
        self._port = serial.serial_for_url(url, timeout=0.05)

    def read(self, timeout: float) -> bytes:
        self._port.timeout = timeout
        try:
            return bytes(self._port.read(max(1, self._port.in_waiting)))
        except Exception:
            return b""

    def write(self, data: bytes) -> bool:
        try:
            self._port.write(data)
            self._port.flush()
        except Exception:
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._port.close()


class TcpEnd:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = socket.create_server((host, port))
        self._server.setblocking(False)
        address, bound = self._server.getsockname()[:2]
        self.label = f"socket://{address}:{bound}"
        self._client: socket.socket | None = None
        self._lock = threading.Lock()

    def _accept(self) -> None:
        try:
            client, _ = self._server.accept()
        except (BlockingIOError, OSError):
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = client

    def read(self, timeout: float) -> bytes:
        client = self._client
        watched = [self._server] if client is None else [self._server, client]
        ready, _, _ = select.select(watched, [], [], timeout)
        if self._server in ready:
            self._accept()
        client = self._client
        if client is None or client not in ready:
            return b""
        try:
            data = client.recv(4096)
        except OSError:
            data = b""
        if not data:  # the terminal hung up
            with self._lock:
                if self._client is client:
                    client.close()
                    self._client = None
        return data

    def write(self, data: bytes) -> bool:
        self._accept()
        client = self._client
        if client is None:
            return False
        try:
            client.sendall(data)
        except OSError:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
        self._server.close()
