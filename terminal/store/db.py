"""Open the terminal's one SQLite file safely, and keep its schema current.

Why these settings: WAL lets the device agent read the journal while the terminal writes;
``synchronous=FULL`` makes every commit durable before the call returns, because an
acknowledged reversal or approval that vanishes after a power cut is lost money;
``busy_timeout`` lets two processes queue for the write lock instead of failing; foreign keys
stop a SAF message or receipt copy from pointing at nothing; ``secure_delete`` overwrites
rows the queue has finished with. The file and its WAL are created 0600.

Schema changes are forward-only migrations recorded in ``schema_version``; a database written
by a newer posemu is refused rather than half-understood.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from terminal.store.errors import (
    InvalidRecordError,
    SchemaVersionError,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreMissingError,
)

__all__ = [
    "APPLICATION_ID",
    "DEFAULT_BUSY_TIMEOUT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Database",
    "check_sqlite_file",
    "integrity_problem",
    "local_time_from",
    "local_time_key",
    "local_time_offset",
    "migrate",
    "now",
    "open_database",
    "store_version",
    "time_from_text",
    "time_to_text",
    "translate_error",
]

#: "POSE" in the SQLite header, so a foreign database is recognised as such.
APPLICATION_ID: Final = 0x504F5345
SQLITE_HEADER: Final = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT: Final = 10.0  # seconds another process may hold the write lock

_V1: Final = (
    # Column order is deliberate: SQLite stores a row's values back to back, so digit-only
    # identifiers are grouped or split by text columns to keep adjacent values from forming
    # a false 13-19 digit "PAN" that a raw-file PAN scanner (or an auditor's) would flag.
    """CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        merchant_id TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        stan TEXT NOT NULL,
        batch TEXT NOT NULL,
        state TEXT NOT NULL,
        invoice TEXT NOT NULL,
        currency TEXT NOT NULL,
        entry_mode TEXT NOT NULL DEFAULT '',
        response_text TEXT NOT NULL DEFAULT '',
        rrn TEXT NOT NULL DEFAULT '',
        brand TEXT NOT NULL DEFAULT '',
        masked_pan TEXT NOT NULL DEFAULT '' CHECK (masked_pan = '' OR masked_pan GLOB '*[*Xx#]*'),
        auth_code TEXT NOT NULL DEFAULT '',
        response_code TEXT NOT NULL DEFAULT '',
        receipt TEXT CHECK (receipt IS NULL OR json_valid(receipt)),
        amount INTEGER CHECK (amount IS NULL OR amount >= 0),
        original_id INTEGER REFERENCES journal(id),
        qr_ref TEXT NOT NULL DEFAULT '',
        pin_verified INTEGER NOT NULL DEFAULT 0 CHECK (pin_verified IN (0, 1)),
        local_time TEXT NOT NULL,
        local_utc_offset_us INTEGER,
        pan_token TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX journal_local_time ON journal(local_time)",
    "CREATE INDEX journal_stan ON journal(stan)",
    "CREATE INDEX journal_rrn ON journal(rrn)",
    "CREATE INDEX journal_amount ON journal(amount)",
    "CREATE INDEX journal_batch ON journal(batch)",
    "CREATE INDEX journal_state ON journal(state)",
    """CREATE TABLE receipt_copies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        journal_id INTEGER NOT NULL REFERENCES journal(id),
        copy TEXT NOT NULL CHECK (copy IN ('merchant', 'customer')),
        duplicate INTEGER NOT NULL CHECK (duplicate IN (0, 1)),
        status TEXT NOT NULL CHECK (status IN ('pending', 'printed', 'failed')),
        printed_at TEXT,
        error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX receipt_copies_journal ON receipt_copies(journal_id)",
    "CREATE INDEX receipt_copies_status ON receipt_copies(status)",
    """CREATE TABLE saf (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        journal_id INTEGER NOT NULL REFERENCES journal(id),
        request TEXT NOT NULL CHECK (json_valid(request)),
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        created_at TEXT NOT NULL,
        last_attempt_at TEXT,
        done_at TEXT
    )""",
    "CREATE INDEX saf_pending ON saf(done_at, id)",
    """CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL CHECK (value BETWEEN 0 AND 999999)
    )""",
    "INSERT INTO counters (name, value) VALUES ('stan', 0), ('invoice', 0), ('batch', 1)",
    """CREATE TABLE session_keys (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pin_key BLOB NOT NULL,
        pin_kcv BLOB NOT NULL,
        mac_key BLOB NOT NULL,
        mac_kcv BLOB NOT NULL,
        signed_on_at TEXT NOT NULL
    )""",
    f"PRAGMA application_id = {APPLICATION_ID}",
)

#: The journal feed: ``change_seq`` grows by one with every change to an entry or to one
#: of its receipt copies, so a follower asks "what changed after N" (``changes_since``).
#: Triggers keep it, whatever code writes the rows; existing rows start at their id.
_NEXT_SEQ: Final = "(SELECT MAX(change_seq) FROM journal) + 1"
_V2: Final = (
    "ALTER TABLE journal ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0",
    "UPDATE journal SET change_seq = id",
    "CREATE INDEX journal_change_seq ON journal(change_seq)",
    f"""CREATE TRIGGER journal_feed_insert AFTER INSERT ON journal BEGIN
        UPDATE journal SET change_seq = {_NEXT_SEQ} WHERE id = NEW.id;
    END""",
    f"""CREATE TRIGGER journal_feed_update AFTER UPDATE ON journal
    WHEN NEW.change_seq = OLD.change_seq BEGIN
        UPDATE journal SET change_seq = {_NEXT_SEQ} WHERE id = NEW.id;
    END""",
    f"""CREATE TRIGGER journal_feed_copy_insert AFTER INSERT ON receipt_copies BEGIN
        UPDATE journal SET change_seq = {_NEXT_SEQ} WHERE id = NEW.journal_id;
    END""",
    f"""CREATE TRIGGER journal_feed_copy_update AFTER UPDATE ON receipt_copies BEGIN
        UPDATE journal SET change_seq = {_NEXT_SEQ} WHERE id = NEW.journal_id;
    END""",
)

#: version -> statements that bring the schema from version - 1 to version.
MIGRATIONS: Final[Mapping[int, tuple[str, ...]]] = {1: _V1, 2: _V2}
SCHEMA_VERSION: Final = max(MIGRATIONS)


def translate_error(exc: sqlite3.Error, path: Path, what: str) -> StoreError:
    """One typed error per SQLite failure, naming the file and the operation."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlite3.IntegrityError):
        return InvalidRecordError(f"{what}: rejected by the schema ({text})", path=path)
    if "locked" in lowered or "busy" in lowered:
        return StoreLockedError(f"{what}: database is locked by another process", path=path)
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return StoreCorruptError(f"{what}: database is corrupt ({text})", path=path)
    return StoreError(f"{what}: {text}", path=path)


def now() -> datetime:
    """Timezone-aware local time: audit columns must be unambiguous across DST changes."""
    return datetime.now().astimezone()


def time_to_text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def time_from_text(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def local_time_key(value: datetime) -> str:
    """Fixed-width wall-clock text: sorts like time, and is what the slip shows.

    The merchant searches by the time printed on the receipt, so filters compare wall clock;
    the UTC offset, if any, is kept apart (:func:`local_time_offset`) for the round trip.
    """
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def local_time_offset(value: datetime) -> int | None:
    offset = value.utcoffset()
    return None if offset is None else offset // timedelta(microseconds=1)


def local_time_from(key: str, offset_us: int | None) -> datetime:
    value = datetime.fromisoformat(key)
    if offset_us is None:
        return value
    return value.replace(tzinfo=timezone(timedelta(microseconds=offset_us)))


class Database:
    """One connection, serialised by a lock so UI worker threads can share it safely."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self._lock = threading.RLock()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("database is closed", path=self.path)
        return self._conn

    @property
    def closed(self) -> bool:
        return self._conn is None

    @contextlib.contextmanager
    def write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: all of the body is durable, or none of it."""
        with self._transaction("BEGIN IMMEDIATE", what) as conn:
            yield conn

    @contextlib.contextmanager
    def read(self, what: str) -> Iterator[sqlite3.Connection]:
        """A read snapshot: an entry and its receipt copies are seen at one instant."""
        with self._transaction("BEGIN", what) as conn:
            yield conn

    @contextlib.contextmanager
    def _transaction(self, begin: str, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self.conn
            try:
                conn.execute(begin)
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path, what) from exc
            try:
                yield conn
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise translate_error(exc, self.path, what) from exc
            except BaseException:
                self._rollback(conn)
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise translate_error(exc, self.path, what) from exc

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    def schema_version(self) -> int:
        with self.read("reading the schema version") as conn:
            return _current_version(conn)

    def copy_to(self, target: sqlite3.Connection) -> None:
        """Online backup of a consistent snapshot into ``target``, writers not blocked."""
        with self._lock:
            try:
                self.conn.backup(target)
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path, "backing up") from exc

    def replace_from(
        self, source: sqlite3.Connection, migrations: Mapping[int, tuple[str, ...]] = MIGRATIONS
    ) -> None:
        """Overwrite this database with ``source`` (a checked backup), then migrate it."""
        with self._lock:
            try:
                source.backup(self.conn)
                migrate(self.conn, self.path, migrations)
                problem = integrity_problem(self.conn)
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path, "restoring") from exc
            if problem is not None:
                raise StoreCorruptError(f"integrity check failed: {problem}", path=self.path)

    def close(self) -> None:
        """Close; the last connection out checkpoints the WAL back into the main file."""
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA optimize")
                conn.close()


def check_sqlite_file(path: Path) -> None:
    """Refuse, before SQLite sees it, a file that is not a SQLite database (or not a file)."""
    if not path.is_file():
        raise StoreCorruptError("exists but is not a regular file", path=path)
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read: {exc.strerror}", path=path) from exc
    if header and header != SQLITE_HEADER:
        raise StoreCorruptError("not a SQLite database (bad file header)", path=path)


def _create_private(path: Path) -> None:
    """Create the file 0600 before SQLite does, so it never exists with wider permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process won the race; it is theirs to initialise
    os.close(fd)


def _restrict(path: Path) -> None:
    with contextlib.suppress(OSError):  # not our file, or a filesystem without modes
        if os.name == "posix" and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def _current_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])


def integrity_problem(conn: sqlite3.Connection) -> str | None:
    """The first problem ``quick_check`` reports, or None when the file is healthy."""
    rows = conn.execute("PRAGMA quick_check").fetchall()
    first = str(rows[0][0]) if rows else "no answer"
    return None if first == "ok" else first


def store_version(conn: sqlite3.Connection, path: Path, supported: int = SCHEMA_VERSION) -> int:
    """Schema version of a posemu database; refuse a foreign or newer one."""
    _check_ownership(conn, path)
    current = _current_version(conn)
    if current > supported:
        raise SchemaVersionError(
            f"schema version {current} is newer than this posemu supports ({supported}); "
            "upgrade posemu or restore an older backup",
            path=path,
        )
    return current


def _check_ownership(conn: sqlite3.Connection, path: Path) -> None:
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise SchemaVersionError(f"not a posemu store (application_id {app_id:#x})", path=path)
    has_version = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    other = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()[0]
    if has_version is None and other:
        raise SchemaVersionError("not a posemu store (no schema_version table)", path=path)


def migrate(conn: sqlite3.Connection, path: Path, migrations: Mapping[int, tuple[str, ...]]) -> int:
    """Apply the missing migrations in one transaction; refuse a newer schema."""
    supported = max(migrations)
    conn.execute("BEGIN IMMEDIATE")  # another process may be migrating: wait for it
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        current = store_version(conn, path, supported)
        for version in range(current + 1, supported + 1):
            for statement in migrations[version]:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, now().isoformat()),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return supported


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")
    mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
    if mode != "wal":
        raise StoreError(f"cannot switch to WAL journal mode (got {mode!r})", path=path)
    conn.execute("PRAGMA synchronous = FULL")


def open_database(
    path: Path | str,
    *,
    create: bool = True,
    verify: bool = True,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    migrations: Mapping[int, tuple[str, ...]] = MIGRATIONS,
) -> Database:
    """Open (creating when allowed) and migrate the database at ``path``.

    ``verify`` runs SQLite's ``quick_check`` so a damaged file is reported on open, by name,
    instead of failing later in the middle of a sale.
    """
    path = Path(path)
    if path.exists():
        check_sqlite_file(path)
    elif create:
        _create_private(path)
    else:
        raise StoreMissingError("no terminal database here", path=path)
    _restrict(path)
    try:
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise translate_error(exc, path, "opening the database") from exc
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if verify and (problem := integrity_problem(conn)) is not None:
            raise StoreCorruptError(f"integrity check failed: {problem}", path=path)
        _check_ownership(conn, path)  # before anything is written to a file that isn't ours
        _configure(conn, path)
        migrate(conn, path, migrations)
    except sqlite3.Error as exc:
        conn.close()
        raise translate_error(exc, path, "opening the database") from exc
    except BaseException:
        conn.close()
        raise
    for suffix in ("-wal", "-shm"):
        _restrict(path.with_name(path.name + suffix))
    return Database(conn, path)
