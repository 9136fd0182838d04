"""The one error tree of the terminal core.

Every failure the pure core raises is a ``TerminalError``, so callers (CLI, UI, host glue)
can catch one type and print one precise line::

    TerminalError
    ├── CardDataError      PAN, expiry, service code or track data is malformed
    └── UnknownCardError   a test-card name is not in the catalogue

Errors carry structured context (what was wrong and where) as attributes, never card data:
messages name a track and a character offset, not the PAN or discretionary data.
Add new subclasses here, next to these.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["CardDataError", "TerminalError", "UnknownCardError"]


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
