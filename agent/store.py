"""The agent's SQLite file: the report outbox and the command log, one file per data directory.

One connection serves many *streams* (one per terminal ID) so ``posemu fleet`` keeps a thousand
agents in one file instead of a thousand. Writes use WAL with ``synchronous=FULL``: a report
is on disk before :meth:`Outbox.put` returns, so neither ``kill -9`` nor a power cut loses it.
The calls are short (one row) and run on the caller's thread; the agent's rates are low.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import OutboxError

__all__ = [
    "AgentStore",
    "CommandLog",
    "CommandRecord",
    "OpenFaults",
    "Outbox",
    "OutboxItem",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    report_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_stream ON outbox(stream, seq);
CREATE TABLE IF NOT EXISTS commands (
    stream TEXT NOT NULL,
    command_id TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    result TEXT,
    received REAL NOT NULL,
    PRIMARY KEY (stream, command_id)
);
CREATE TABLE IF NOT EXISTS open_faults (
    stream TEXT NOT NULL,
    code TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (stream, code)
);
"""


class AgentStore:
    """Owns the connection; :class:`Outbox` and :class:`CommandLog` are views on one stream."""

    def __init__(self, path: Path | str, *, durable: bool = True) -> None:
        """``durable=False`` (tests, the fleet emulation) skips the fsync per write: a kill -9
        still loses nothing, a power cut may."""
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"agent store {self.path}: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise OutboxError(f"agent store {self.path}: {exc}") from exc

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise OutboxError(f"agent store {self.path}: {exc}") from exc

    def outbox(self, stream: str) -> Outbox:
        return Outbox(self, stream)

    def commands(self, stream: str) -> CommandLog:
        return CommandLog(self, stream)

    def open_faults(self, stream: str) -> OpenFaults:
        return OpenFaults(self, stream)

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    report_id: str
    topic: str
    payload: bytes


class Outbox:
    """Reports waiting for the broker's PUBACK, oldest first; removed only by :meth:`ack`."""

    def __init__(self, store: AgentStore, stream: str) -> None:
        self._store = store
        self.stream = stream

    def put(self, report_id: str, topic: str, payload: bytes) -> int:
        with self._store._tx() as db:
            cur = db.execute(
                "INSERT INTO outbox(stream, report_id, topic, payload, created) VALUES (?,?,?,?,?)",
                (self.stream, report_id, topic, payload, time.time()),
            )
            return int(cur.lastrowid or 0)

    def pending(self, limit: int = 100, after: int = 0) -> list[OutboxItem]:
        rows = self._store._query(
            "SELECT seq, report_id, topic, payload FROM outbox WHERE stream=? AND seq>?"
            " ORDER BY seq LIMIT ?",
            (self.stream, after, limit),
        )
        return [OutboxItem(int(s), str(r), str(t), bytes(p)) for s, r, t, p in rows]

    def ack(self, seq: int) -> None:
        with self._store._tx() as db:
            db.execute("DELETE FROM outbox WHERE stream=? AND seq=?", (self.stream, seq))

    def ack_many(self, seqs: list[int]) -> None:
        with self._store._tx() as db:
            db.executemany(
                "DELETE FROM outbox WHERE stream=? AND seq=?", [(self.stream, s) for s in seqs]
            )

    def depth(self) -> int:
        rows = self._store._query("SELECT count(*) FROM outbox WHERE stream=?", (self.stream,))
        return int(rows[0][0])


@dataclass(frozen=True, slots=True)
class CommandRecord:
    command_id: str
    name: str
    state: str  # queued | running | done
    body: dict[str, Any]
    result: dict[str, Any] | None


class CommandLog:
    """Every command the agent accepted, so a repeated ID gets the stored result, not a re-run.

    A command is written as ``queued`` before the broker's delivery is acknowledged to the
    agent's loop, ``running`` while it runs and ``done`` with its result; after a crash,
    ``queued`` ones run and ``running`` ones are reported as interrupted, never run twice.
    """

    def __init__(self, store: AgentStore, stream: str) -> None:
        self._store = store
        self.stream = stream

    def add(self, command_id: str, name: str, body: dict[str, Any]) -> bool:
        """Record a new command; False if the ID is already known."""
        with self._store._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO commands(stream, command_id, name, state, body, received)"
                " VALUES (?,?,?,?,?,?)",
                (self.stream, command_id, name, "queued", json.dumps(body), time.time()),
            )
            return cur.rowcount == 1

    def get(self, command_id: str) -> CommandRecord | None:
        rows = self._store._query(
            "SELECT command_id, name, state, body, result FROM commands"
            " WHERE stream=? AND command_id=?",
            (self.stream, command_id),
        )
        return _record(rows[0]) if rows else None

    def set_state(self, command_id: str, state: str) -> None:
        with self._store._tx() as db:
            db.execute(
                "UPDATE commands SET state=? WHERE stream=? AND command_id=?",
                (state, self.stream, command_id),
            )

    def finish(self, command_id: str, result: dict[str, Any]) -> None:
        with self._store._tx() as db:
            db.execute(
                "UPDATE commands SET state='done', result=? WHERE stream=? AND command_id=?",
                (json.dumps(result), self.stream, command_id),
            )

    def unfinished(self) -> list[CommandRecord]:
        rows = self._store._query(
            "SELECT command_id, name, state, body, result FROM commands"
            " WHERE stream=? AND state!='done' ORDER BY received",
            (self.stream,),
        )
        return [_record(r) for r in rows]


def _record(row: tuple[Any, ...]) -> CommandRecord:
    cid, name, state, body, result = row
    return CommandRecord(
        str(cid), str(name), str(state), json.loads(body), json.loads(result) if result else None
    )


class OpenFaults:
    """The faults a terminal has raised and not cleared, kept across restarts so a clear can
    still be sent for a fault raised before the restart."""

    def __init__(self, store: AgentStore, stream: str) -> None:
        self._store = store
        self.stream = stream

    def save(self, code: str, body: dict[str, Any]) -> None:
        with self._store._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO open_faults(stream, code, body) VALUES (?,?,?)",
                (self.stream, code, json.dumps(body)),
            )

    def remove(self, code: str) -> None:
        with self._store._tx() as db:
            db.execute("DELETE FROM open_faults WHERE stream=? AND code=?", (self.stream, code))

    def load(self) -> dict[str, dict[str, Any]]:
        rows = self._store._query(
            "SELECT code, body FROM open_faults WHERE stream=?", (self.stream,)
        )
        return {str(code): json.loads(body) for code, body in rows}
