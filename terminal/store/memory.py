"""The storage ports in memory: for contract tests, the demo, and a terminal that must not
touch the disk.

It keeps the same rules as the SQLite store where a caller could notice (ids only grow,
unknown ids raise :class:`~terminal.core.errors.NotFoundError`, a printed copy is history,
``changes_since`` follows every change, the journal holds no full PAN), and nothing
survives the process. The card number a void may need is kept in memory only.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from iso8583.acquirer.model import Request, SessionKeys
from terminal.core.errors import NotFoundError
from terminal.core.journal import (
    JournalEntry,
    JournalQuery,
    PendingMessage,
    PrintStatus,
    ReceiptCopyRecord,
)
from terminal.store.errors import InvalidRecordError
from terminal.store.journal import check_copy, check_entry
from terminal.store.retention import keeps_token
from terminal.store.saf import check_record, request_from_record, request_to_record

__all__ = ["MemoryCounters", "MemoryJournal", "MemoryKeyStore", "MemorySafQueue", "MemoryStore"]

_CHANGEABLE = frozenset(f.name for f in fields(JournalEntry)) - {"id", "updated_at", "copies"}
_COUNTER_MAX = 999_999


def _wall(value: datetime) -> datetime:
    """Wall-clock time as printed: what the journal's time filters compare."""
    return value.replace(tzinfo=None)


class MemoryJournal:
    """:class:`~terminal.core.ports.JournalStore` and ``JournalFeed`` in a dict."""

    def __init__(self, clock: Callable[[], datetime] = datetime.now) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._entries: dict[int, JournalEntry] = {}
        self._pans: dict[int, str] = {}
        self._seq: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._changes = itertools.count(1)

    def _touch(self, journal_id: int) -> None:
        self._seq[journal_id] = next(self._changes)

    def _require(self, journal_id: int) -> JournalEntry:
        try:
            return self._entries[journal_id]
        except KeyError:
            raise NotFoundError(f"journal entry {journal_id} not found") from None

    # --- writes ---------------------------------------------------------------------------
    def add(self, entry: JournalEntry, *, pan: str | None = None) -> int:
        if entry.id is not None:
            raise InvalidRecordError("is assigned by the store; pass id=None", field="id")
        entry = check_entry(entry)
        with self._lock:
            journal_id = next(self._ids)
            stamp = self._clock()
            self._entries[journal_id] = replace(entry, id=journal_id, updated_at=stamp)
            if pan is not None and keeps_token(entry.kind, entry.state):
                self._pans[journal_id] = pan
            self._touch(journal_id)
        return journal_id

    def update(self, journal_id: int, **changes: Any) -> JournalEntry:
        unknown = sorted(set(changes) - _CHANGEABLE)
        if unknown:
            raise InvalidRecordError(
                f"cannot change {', '.join(unknown)}", field=f"journal entry {journal_id}"
            )
        with self._lock:
            current = self._require(journal_id)
            entry = check_entry(replace(current, **changes, updated_at=self._clock()))
            self._entries[journal_id] = entry
            if not keeps_token(entry.kind, entry.state):  # same retention as the SQLite store
                self._pans.pop(journal_id, None)
            self._touch(journal_id)
            return entry

    def set_copy_status(self, journal_id: int, copy: ReceiptCopyRecord) -> None:
        copy = check_copy(copy)
        with self._lock:
            entry = self._require(journal_id)
            copies = list(entry.copies)
            same = [
                i
                for i, c in enumerate(copies)
                if c.copy == copy.copy and c.duplicate == copy.duplicate
            ]
            if same and copies[same[-1]].status is not PrintStatus.PRINTED:
                copies[same[-1]] = copy
            else:
                copies.append(copy)
            self._entries[journal_id] = replace(entry, copies=tuple(copies))
            self._touch(journal_id)

    def add_copy(self, journal_id: int, copy: ReceiptCopyRecord) -> None:
        copy = check_copy(copy)
        with self._lock:
            entry = self._require(journal_id)
            self._entries[journal_id] = replace(entry, copies=(*entry.copies, copy))
            self._touch(journal_id)

    # --- reads ----------------------------------------------------------------------------
    def get(self, journal_id: int) -> JournalEntry:
        with self._lock:
            return self._require(journal_id)

    def find(self, query: JournalQuery) -> list[JournalEntry]:
        if isinstance(query.limit, bool) or not isinstance(query.limit, int) or query.limit < 1:
            raise InvalidRecordError(f"{query.limit!r} is not a positive int", field="query.limit")
        with self._lock:
            found = [e for e in self._entries.values() if _matches(e, query)]
        found.sort(key=lambda e: (_wall(e.local_time), e.id or 0), reverse=True)
        return found[: query.limit]

    def batch_entries(self, batch: str) -> list[JournalEntry]:
        with self._lock:
            return [e for e in self._entries.values() if e.batch == batch]

    def card_pan(self, journal_id: int) -> str | None:
        with self._lock:
            self._require(journal_id)
            return self._pans.get(journal_id)

    def changes_since(self, cursor: int, limit: int = 100) -> tuple[list[JournalEntry], int]:
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise InvalidRecordError(f"{cursor!r} is not a cursor (an int >= 0)", field="cursor")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidRecordError(f"{limit!r} is not a positive int", field="limit")
        with self._lock:
            changed = sorted((seq, jid) for jid, seq in self._seq.items() if seq > cursor)
            changed = changed[:limit]
            if not changed:
                return [], cursor
            return [self._entries[jid] for _, jid in changed], changed[-1][0]


def _matches(entry: JournalEntry, query: JournalQuery) -> bool:
    wall = _wall(entry.local_time)
    checks = (
        query.since is None or wall >= _wall(query.since),
        query.until is None or wall <= _wall(query.until),
        query.amount is None or entry.amount == query.amount,
        query.stan is None or entry.stan == query.stan,
        query.rrn is None or entry.rrn == query.rrn,
        not query.states or entry.state in query.states,
        not query.kinds or entry.kind in query.kinds,
        not query.unprinted_only or entry.never_printed,
    )
    return all(checks)


class _MemoryVault:
    """Seals values by keeping them in this process: tokens mean nothing outside it."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._ids = itertools.count(1)

    def seal(self, value: str) -> str:
        token = f"mem:{next(self._ids)}"
        self._values[token] = value
        return token

    def open(self, token: str) -> str:
        try:
            return self._values[token]
        except KeyError:
            raise InvalidRecordError("not a token of this store", field="token") from None


class MemorySafQueue:
    """:class:`~terminal.core.ports.SafQueue` in a list; card data stays in this process."""

    def __init__(
        self, journal: MemoryJournal, clock: Callable[[], datetime] = datetime.now
    ) -> None:
        self._journal = journal
        self._clock = clock
        self._lock = threading.Lock()
        self._messages: dict[int, PendingMessage] = {}
        self._done: set[int] = set()
        self._ids = itertools.count(1)
        self._vault = _MemoryVault()

    def push(self, journal_id: int, request: dict[str, Any]) -> int:
        check_record(request)
        self._journal.get(journal_id)  # NotFoundError for an unknown entry
        with self._lock:
            message_id = next(self._ids)
            self._messages[message_id] = PendingMessage(
                message_id, journal_id, dict(request), 0, self._clock()
            )
            return message_id

    def push_request(self, journal_id: int, request: Request) -> int:
        return self.push(journal_id, request_to_record(request, vault=self._vault))  # type: ignore[arg-type]

    def pending(self) -> list[PendingMessage]:
        with self._lock:
            return [m for i, m in sorted(self._messages.items()) if i not in self._done]

    def request(self, message: PendingMessage) -> Request:
        return request_from_record(message.request, vault=self._vault)  # type: ignore[arg-type]

    def attempt(self, message_id: int) -> None:
        with self._lock:
            message = self._get(message_id)
            if message_id in self._done:
                raise InvalidRecordError(f"SAF message {message_id} was already delivered")
            self._messages[message_id] = replace(message, attempts=message.attempts + 1)

    def done(self, message_id: int) -> None:
        with self._lock:
            self._get(message_id)
            self._done.add(message_id)

    def cancel(self, message_id: int, reason: str) -> None:
        """Out of the queue, never sent (``reason`` is kept by the SQLite store only)."""
        self.done(message_id)

    def _get(self, message_id: int) -> PendingMessage:
        try:
            return self._messages[message_id]
        except KeyError:
            raise NotFoundError(f"SAF message {message_id} not found") from None


class MemoryCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = {"stan": 0, "invoice": 0, "batch": 1}

    def _advance(self, name: str) -> str:
        with self._lock:
            value = self._values[name] % _COUNTER_MAX + 1
            self._values[name] = value
        return f"{value:06d}"

    def next_stan(self) -> str:
        return self._advance("stan")

    def next_invoice(self) -> str:
        return self._advance("invoice")

    def batch(self) -> str:
        return f"{self._values['batch']:06d}"

    def close_batch(self) -> str:
        return self._advance("batch")


class MemoryKeyStore:
    def __init__(self) -> None:
        self._keys: SessionKeys | None = None

    def save(self, keys: SessionKeys) -> None:
        self._keys = keys

    def load(self) -> SessionKeys | None:
        return self._keys


class MemoryStore:
    """:class:`~terminal.core.ports.TerminalStorage` in memory (``data_dir`` is None)."""

    data_dir: Path | None = None

    def __init__(self, clock: Callable[[], datetime] = datetime.now) -> None:
        self.journal = MemoryJournal(clock)
        self.saf = MemorySafQueue(self.journal, clock)
        self.counters = MemoryCounters()
        self.keys = MemoryKeyStore()

    def close(self) -> None:
        """Nothing to release (the data goes with the object)."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
