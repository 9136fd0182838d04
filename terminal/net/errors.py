"""Errors of the acquirer link: defined with the port in :mod:`terminal.core.errors`.

The adapter (:mod:`terminal.net.link`) translates every socket, TLS, framing and timeout
exception into one of these; they are re-exported here for callers of the adapter.
"""

from __future__ import annotations

from terminal.core.errors import (
    ConnectError,
    InvalidEndpointError,
    LinkClosed,
    LinkError,
    LinkProtocolError,
    LinkTimeout,
)

__all__ = [
    "ConnectError",
    "InvalidEndpointError",
    "LinkClosed",
    "LinkError",
    "LinkProtocolError",
    "LinkTimeout",
]
