"""The TUI's message trace: the last messages that went over the wire, kept for the screen.

Why apart from the controller: the trace is a tester's window on the wire, not part of a
transaction's flow. It has its own bus subscription (so a busy trace never delays the
payment screens) and keeps the newest :data:`KEEP` records, already masked by the engine.
"""

from __future__ import annotations

from collections import deque

from terminal.core.events import EventBus
from terminal.core.trace import MessageTraced

__all__ = ["KEEP", "TraceLog"]

KEEP = 200


class TraceLog:
    """Collects :class:`MessageTraced` events from the bus; read with :meth:`new`."""

    def __init__(self, bus: EventBus, keep: int = KEEP) -> None:
        self._sub = bus.subscribe("tui-trace", maxsize=keep * 4)
        self._records: deque[MessageTraced] = deque(maxlen=keep)
        self._read = 0  # records handed out by new(), counted since the start
        self._total = 0

    def _collect(self) -> None:
        for delivery in self._sub.drain():
            if isinstance(delivery.event, MessageTraced):
                self._records.append(delivery.event)
                self._total += 1

    def all(self) -> list[MessageTraced]:
        """Every record kept, oldest first (marks them read)."""
        self._collect()
        self._read = self._total
        return list(self._records)

    def new(self) -> list[MessageTraced]:
        """Records that arrived since the last call of ``new`` or ``all``."""
        self._collect()
        fresh = min(self._total - self._read, len(self._records))
        self._read = self._total
        return list(self._records)[len(self._records) - fresh :] if fresh else []

    def close(self) -> None:
        self._sub.close()
