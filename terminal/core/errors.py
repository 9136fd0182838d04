"""The one error tree of the terminal core.

Every failure the pure core raises is a ``TerminalError``, so callers (CLI, UI, host glue)
can catch one type and print one precise line::

    TerminalError
    ├── CardDataError      PAN, expiry, service code or track data is malformed
    ├── UnknownCardError   a test-card name is not in the catalogue
    ├── NotFoundError      a journal entry (or other record) does not exist
    ├── PrinterError       a receipt copy did not print (``reason``: paper out, offline...)
    └── LinkError          the acquirer link failed (see below)

The link's errors are part of the :class:`~terminal.core.ports.Link` port, so the engine
decides "reverse or not" from *what* failed, whatever adapter moved the bytes::

    LinkError
    ├── InvalidEndpointError    the host URL is not tcp://HOST:PORT or tls://HOST:PORT
    ├── ConnectError            no connection (refused, unreachable, TLS handshake, timeout):
    │                           nothing was sent, so nothing needs reversing
    ├── LinkTimeout             connected and sent, but no complete answer in time
    ├── LinkClosed              the peer closed or reset the connection mid-exchange
    └── LinkProtocolError       the peer sent bytes that are not a frame of the dialect

Each carries ``endpoint`` and ``reason``; none carries payload bytes.

Errors carry structured context (what was wrong and where) as attributes, never card data:
messages name a track and a character offset, not the PAN or discretionary data.
Add new subclasses here, next to these.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CardDataError",
    "ConnectError",
    "InvalidEndpointError",
    "LinkClosed",
    "LinkError",
    "LinkProtocolError",
    "LinkTimeout",
    "NotFoundError",
    "PrinterError",
    "TerminalError",
    "UnknownCardError",
]


class TerminalError(Exception):
    """Base of every error raised by the terminal core."""


class CardDataError(TerminalError, ValueError):
    """Card data is malformed.

    ``offset`` is the 0-based character offset of the fault within the string that was
    being parsed (for a track: within that track as given, sentinel included when present);
    ``track`` is 1 or 2 when the fault is inside a magnetic-stripe track.
    """

    def __init__(self, reason: str, *, offset: int | None = None, track: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        self.track = track
        where = []
        if track is not None:
            where.append(f"track {track}")
        if offset is not None:
            where.append(f"offset {offset}")
        super().__init__(f"{' '.join(where)}: {reason}" if where else reason)


class UnknownCardError(TerminalError, LookupError):
    """A test-card name is not in the catalogue; ``known`` lists the valid names."""

    def __init__(self, name: str, *, known: Iterable[str] = ()) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        listing = ", ".join(self.known) if self.known else "(none)"
        super().__init__(f"unknown test card {name!r}; known cards: {listing}")


class NotFoundError(TerminalError, LookupError):
    """No record with that id or reference: what every store raises for a missing entry."""


class PrinterError(TerminalError):
    """A receipt copy did not print; ``reason`` is what the journal records (paper out...)."""

    def __init__(self, reason: str, *, printer: str = "") -> None:
        self.reason = reason
        self.printer = printer
        super().__init__(f"{printer}: {reason}" if printer else reason)


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
