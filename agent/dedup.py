"""Receiver-side de-duplication: QoS 1 is "at least once", so a report whose PUBACK was lost
is sent again after a reconnect. Every report carries a unique ``id``; a receiver keeps the
IDs it has seen (bounded, oldest forgotten first) and drops repeats.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["Deduper"]


class Deduper:
    """Remembers the last ``capacity`` report IDs."""

    def __init__(self, capacity: int = 200_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.duplicates = 0

    def first_time(self, report_id: str) -> bool:
        """True the first time an ID is offered, False for a repeat (counted in ``duplicates``)."""
        if report_id in self._seen:
            self._seen.move_to_end(report_id)
            self.duplicates += 1
            return False
        self._seen[report_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._seen)
