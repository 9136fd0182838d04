"""Errors of the acquirer link, the boundary where sockets, TLS and timeouts end.

Why a separate tree: the engine must decide "reverse or not" from *what* failed, never from
an ``OSError`` errno, so every foreign exception is translated here (``raise ... from exc``)::

    LinkError                   (a TerminalError)
    ├── InvalidEndpointError    the host URL is not tcp://HOST:PORT or tls://HOST:PORT
    ├── ConnectError            no connection (refused, unreachable, TLS handshake, timeout):
    │                           nothing was sent, so nothing needs reversing
    ├── LinkTimeout             connected and sent, but no complete answer in time
    ├── LinkClosed              the peer closed or reset the connection mid-exchange
    └── LinkProtocolError       the peer sent bytes that are not a frame of the dialect

Each carries ``endpoint`` (``tcp://127.0.0.1:8583``) and ``reason``; none carries payload
bytes, which may hold card data.
"""

from __future__ import annotations

from terminal.core.errors import TerminalError

__all__ = [
    "ConnectError",
    "InvalidEndpointError",
    "LinkClosed",
    "LinkError",
    "LinkProtocolError",
    "LinkTimeout",
]


class LinkError(TerminalError):
    """Base of every link failure; ``sent`` tells whether a request may have left."""

    sent: bool = True

    def __init__(self, reason: str, *, endpoint: str = "") -> None:
        self.reason = reason
        self.endpoint = endpoint
        super().__init__(f"{endpoint}: {reason}" if endpoint else reason)


class InvalidEndpointError(LinkError, ValueError):
    """The host URL cannot be used."""

    sent = False


class ConnectError(LinkError):
    """Could not connect; the request never left the terminal."""

    sent = False


class LinkTimeout(LinkError):
    """No complete answer within the allowed time."""


class LinkClosed(LinkError):
    """The connection was closed or reset while a request was in flight."""


class LinkProtocolError(LinkError):
    """The peer's bytes do not form a frame; ``offset`` counts from the connection start."""

    def __init__(self, reason: str, *, endpoint: str = "", offset: int | None = None) -> None:
        self.offset = offset
        super().__init__(reason, endpoint=endpoint)
