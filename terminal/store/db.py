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
    StoreFullError,
    StoreLockedError,
    StoreMissingError,
    StoreReadOnlyError,
)
from terminal.store.fscause import write_cause

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

_V3: Final = (
    # Facts about the store itself: its identity (also in the ``store-id`` marker beside the
    # file, so an emptied file is told from a new one) and the data key's check value.
    """CREATE TABLE store_meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    "INSERT INTO store_meta (name, value) VALUES ('store_id', lower(hex(randomblob(16))))",
    # Why a message left the queue without being delivered ('' when it was delivered).
    "ALTER TABLE saf ADD COLUMN note TEXT NOT NULL DEFAULT ''",
)

#: version -> statements that bring the schema from version - 1 to version.
MIGRATIONS: Final[Mapping[int, tuple[str, ...]]] = {1: _V1, 2: _V2, 3: _V3}
#: The oldest schema a read-only open can still read (writes would need a migration first).
READABLE_FROM: Final = 1
SCHEMA_VERSION: Final = max(MIGRATIONS)


_SQLITE_PERM: Final = 3
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6
_SQLITE_READONLY: Final = 8
_SQLITE_IOERR: Final = 10
_SQLITE_CORRUPT: Final = 11
_SQLITE_FULL: Final = 13
_SQLITE_CANTOPEN: Final = 14
_SQLITE_NOTADB: Final = 26
#: Failures whose real cause is usually the filesystem: ask it (read-only? full?).
_FILESYSTEM_CODES: Final = frozenset(
    {_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN}
)


def translate_error(exc: sqlite3.Error, path: Path, what: str) -> StoreError:
    """One typed error per SQLite failure, naming the file, the operation and the cause."""
    text = str(exc)
    lowered = text.lower()
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    if isinstance(exc, sqlite3.IntegrityError):
        return InvalidRecordError(f"{what}: rejected by the schema ({text})", path=path)
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in lowered or "busy" in lowered:
        return StoreLockedError(f"{what}: database is locked by another process", path=path)
    if primary in _FILESYSTEM_CODES:
        cause = write_cause(path, what, text)
        if cause is not None:
            return cause
        if primary == _SQLITE_FULL:
            return StoreFullError(
                f"{what}: disk or quota full ({text}); free some space and retry", path=path
            )
        if primary == _SQLITE_READONLY:
            return StoreReadOnlyError(f"{what}: the database is read-only ({text})", path=path)
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or (
        "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered
    ):
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

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool = False) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self._open: str | None = None  # the BEGIN of the transaction this thread is in

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
        """One ``BEGIN IMMEDIATE`` transaction: all of the body is durable, or none of it.

        Writes nested inside a write join it, so several steps (a state change and the
        reversal it makes necessary) commit together.
        """
        if self.read_only:
            raise StoreReadOnlyError(
                f"{what}: the store was opened read-only (a read command)", path=self.path
            )
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
            if self._open is not None:  # nested: join the enclosing transaction
                if begin != "BEGIN" and self._open == "BEGIN":
                    raise StoreError(f"{what}: a write cannot join a read", path=self.path)
                try:
                    yield conn
                except sqlite3.Error as exc:
                    raise translate_error(exc, self.path, what) from exc
                return
            try:
                conn.execute(begin)
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path, what) from exc
            self._open = begin
            try:
                yield conn
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise translate_error(exc, self.path, what) from exc
            except BaseException:
                self._rollback(conn)
                raise
            finally:
                self._open = None
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
    except OSError as exc:  # unreadable is as unusable as damaged: same ways out
        raise StoreCorruptError(
            f"cannot read ({exc.strerror}); if its permissions are wrong, fix them", path=path
        ) from exc
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


def _connect(target: str, path: Path, what: str, busy_timeout: float) -> sqlite3.Connection:
    """One connection (a path, or a ``file:`` URI) shared by the store's worker threads."""
    try:
        conn = sqlite3.connect(
            target,
            uri=target.startswith("file:"),
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise translate_error(exc, path, what) from exc
    conn.row_factory = sqlite3.Row
    return conn


@contextlib.contextmanager
def _closed_on_error(conn: sqlite3.Connection, path: Path, what: str) -> Iterator[None]:
    """An open that fails half-way closes its connection and says why, in our terms."""
    try:
        yield
    except sqlite3.Error as exc:
        conn.close()
        raise translate_error(exc, path, what) from exc
    except BaseException:
        conn.close()
        raise


def _checked(conn: sqlite3.Connection, path: Path, *, verify: bool, busy_timeout: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    if verify and (problem := integrity_problem(conn)) is not None:
        raise StoreCorruptError(f"integrity check failed: {problem}", path=path)


def open_database(
    path: Path | str,
    *,
    create: bool = True,
    verify: bool = True,
    read_only: bool = False,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    migrations: Mapping[int, tuple[str, ...]] = MIGRATIONS,
) -> Database:
    """Open (creating when allowed) and migrate the database at ``path``.

    ``verify`` runs SQLite's ``quick_check`` so a damaged file is reported on open, by name,
    instead of failing later in the middle of a sale. ``read_only`` never writes (no
    migration, no WAL switch) and works in a read-only directory.
    """
    path = Path(path)
    if read_only:
        return _open_read_only(path, verify=verify, busy_timeout=busy_timeout)
    if path.exists():
        check_sqlite_file(path)
    elif create:
        try:
            _create_private(path)
        except OSError as exc:
            raise write_cause(path, "creating the database", exc.strerror or "") or StoreError(
                f"cannot create the database: {exc.strerror}", path=path
            ) from exc
    else:
        raise StoreMissingError("no terminal database here", path=path)
    _restrict(path)
    conn = _connect(str(path), path, "opening the database", busy_timeout)
    with _closed_on_error(conn, path, "opening the database"):
        _checked(conn, path, verify=verify, busy_timeout=busy_timeout)
        _check_ownership(conn, path)  # before anything is written to a file that isn't ours
        _configure(conn, path)
        migrate(conn, path, migrations)
    for suffix in ("-wal", "-shm"):
        _restrict(path.with_name(path.name + suffix))
    return Database(conn, path)


def _open_read_only(path: Path, *, verify: bool, busy_timeout: float) -> Database:
    """Read without writing anything, even where nothing may be written.

    A WAL database needs its ``-shm`` file; when the directory is read-only and the last
    writer closed cleanly (no ``-wal`` left), the file cannot change under us, so it is
    opened ``immutable``. A ``-wal`` left by a crash holds committed transactions: reading
    the main file alone would hide them, so that case is refused.
    """
    if not path.exists():
        raise StoreMissingError("no terminal database here", path=path)
    check_sqlite_file(path)
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    writable = os.access(path.parent, os.W_OK) and write_cause(path.parent, "") is None
    if not writable and not shm.exists():
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreReadOnlyError(
                "a crash left recent transactions in terminal.db-wal and the directory is"
                " read-only, so they cannot be read; copy the directory somewhere writable",
                path=path,
            )
        uri += "&immutable=1"
    conn = _connect(uri, path, "opening the database read-only", busy_timeout)
    with _closed_on_error(conn, path, "opening the database read-only"):
        _checked(conn, path, verify=verify, busy_timeout=busy_timeout)
        if store_version(conn, path) < READABLE_FROM:
            raise StoreMissingError("the database holds no terminal data yet", path=path)
        conn.execute("PRAGMA query_only = ON")
    return Database(conn, path, read_only=True)
