"""The terminal's persistent state: one data directory, one SQLite file, one data key.

::

    <data dir>/terminal.db      journal, receipt copies, SAF queue, counters, session keys
    <data dir>/store-id         marker: a store exists here (so an emptied db is an error)
    <data dir>/data_key         AES key sealing PANs (0600); deliberately not in the database
    <data dir>/backups/         backups made before updates and before a restore

``backup`` uses SQLite's online backup API, so it is consistent while the terminal keeps
writing; ``restore`` first backs up what it replaces, so a wrong restore can be undone.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Self

import platformdirs

from terminal.store.counters import SqliteCounters
from terminal.store.db import (
    DEFAULT_BUSY_TIMEOUT,
    Database,
    integrity_problem,
    now,
    open_database,
)
from terminal.store.errors import (
    BackupError,
    StoreCorruptError,
    StoreError,
    StoreLostError,
    StoreMissingError,
)
from terminal.store.fscause import write_cause
from terminal.store.journal import SqliteJournal
from terminal.store.keys import SqliteKeyStore
from terminal.store.meta import KEY_ID, STORE_ID, SqliteKeyLedger, get_meta, set_meta
from terminal.store.presence import (
    BACKUP_DIR_NAME,
    DB_FILE_NAME,
    MARKER_NAME,
    evidence,
    lost_error,
    move_aside,
    open_backup,
    recovery_hint,
    write_marker,
)
from terminal.store.retention import SAF_TOKEN_KEYS, purge_tokens
from terminal.store.saf import SqliteSafQueue
from terminal.store.used_codes import UsedCodes
from terminal.store.vault import KEY_FILE_NAME, Vault

__all__ = ["BACKUP_DIR_NAME", "DB_FILE_NAME", "MARKER_NAME", "TerminalStore", "default_data_dir"]


def default_data_dir() -> Path:
    """Per-user data directory (e.g. ``~/.local/share/posemu`` on Linux)."""
    return Path(platformdirs.user_data_dir("posemu", appauthor=False))


def _private_dir(path: Path) -> None:
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
    elif not path.is_dir():
        raise StoreError("is not a directory", path=path)


def _fsync_dir(directory: Path) -> None:
    if os.name == "posix":
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _db_state(path: Path) -> str:
    """'absent', 'empty' (0 bytes and no WAL holding its pages) or 'present'."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "absent"
    except OSError as exc:
        raise StoreCorruptError(
            f"cannot read: {exc.strerror}. To go on, {recovery_hint(path.parent)}", path=path
        ) from exc
    wal = path.with_name(path.name + "-wal")
    if size == 0 and not (wal.exists() and wal.stat().st_size > 0):
        return "empty"
    return "present"


class TerminalStore:
    """Opens the data directory and exposes ``journal``, ``saf``, ``counters``, ``keys``
    and ``vault``; use it as a context manager so the database is closed cleanly.

    ``create`` allows making a new store where there is no trace of one; a store that
    existed (its ``store-id`` marker, data key or backups are there) but whose database is
    missing or empty raises :class:`StoreLostError` naming the ways out. ``read_only``
    never writes, so it works in a read-only data directory (read commands).
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        create: bool = True,
        read_only: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        db_path = self.data_dir / DB_FILE_NAME
        state = _db_state(db_path)
        if state != "present":
            if evidence(self.data_dir):
                what = "is missing" if state == "absent" else "is empty (0 bytes)"
                raise lost_error(self.data_dir, what)
            if read_only or not create:
                raise StoreMissingError(
                    "no terminal data (no transactions yet?)", path=self.data_dir
                )
            _private_dir(self.data_dir)
        try:
            self.db: Database = open_database(
                db_path, create=create, read_only=read_only, busy_timeout=busy_timeout
            )
        except StoreCorruptError as exc:
            if isinstance(exc, StoreLostError):
                raise
            raise StoreCorruptError(
                f"{exc.reason}. To go on, {recovery_hint(self.data_dir)}", path=exc.path
            ) from exc
        self.vault = Vault(self.data_dir / KEY_FILE_NAME, SqliteKeyLedger(self.db))
        self.journal = SqliteJournal(self.db, self.vault)
        self.saf = SqliteSafQueue(self.db, self.vault)
        self.counters = SqliteCounters(self.db)
        self.keys = SqliteKeyStore(self.db)
        self.used_codes = UsedCodes(self.data_dir)  # a wallet payment code pays once
        if not read_only:
            try:
                self._mark_present()
                self.purge_tokens()
            except BaseException:
                self.db.close()
                raise

    def _mark_present(self) -> None:
        """Leave the marker that tells a lost store from a new one (once per directory)."""
        marker = self.data_dir / MARKER_NAME
        if marker.exists():
            return
        store_id = get_meta(self.db, STORE_ID) or ""
        try:
            write_marker(self.data_dir, store_id)
        except OSError as exc:
            raise write_cause(marker, "writing the store marker", exc.strerror or "") or StoreError(
                f"cannot write the store marker: {exc.strerror}", path=marker
            ) from exc

    def purge_tokens(self) -> int:
        """Delete sealed PANs no void or refund can need any more; return how many."""
        batch = self.counters.batch()
        with self.db.write("purging card tokens no longer needed") as conn:
            return purge_tokens(conn, batch, now())

    def new_key(self) -> Path | None:
        """Start a new data key on purpose: the old key file (if any) is moved to
        ``backups/``, tokens sealed under it are deleted (a queued reversal then goes without
        the PAN, which the host matches by STAN and terminal); return where the old key went."""
        key_path = self.data_dir / KEY_FILE_NAME
        moved = None
        if key_path.exists():
            stamp = now().strftime("%Y%m%dT%H%M%S%f")
            moved = self.data_dir / BACKUP_DIR_NAME / f"data_key-{stamp}"
            _private_dir(moved.parent)
            os.replace(key_path, moved)
        clear = ", ".join(f"'$.{k}', NULL" for k in SAF_TOKEN_KEYS)
        with self.db.write("forgetting the old data key") as conn:
            conn.execute("UPDATE journal SET pan_token = NULL WHERE pan_token IS NOT NULL")
            conn.execute(f"UPDATE saf SET request = json_set(request, {clear})")
            set_meta(self.db, KEY_ID, None)
        self.vault.forget()
        return moved

    @classmethod
    def reset(cls, data_dir: Path | str) -> Path | None:
        """Start a new, empty store explicitly: the old database, marker and data key are
        moved into ``backups/damaged-<time>/`` (never deleted); return that folder."""
        data_dir = Path(data_dir)
        moved = move_aside(data_dir, key=True)
        _private_dir(data_dir)
        db = open_database(data_dir / DB_FILE_NAME)
        try:
            write_marker(data_dir, get_meta(db, STORE_ID) or "")
        finally:
            db.close()
        return moved

    @classmethod
    def restore_lost(cls, data_dir: Path | str, src: Path | str) -> Path | None:
        """Put backup ``src`` in place of a missing, empty or damaged database (whatever is
        there is moved aside first; the data key stays); return where the old files went."""
        data_dir, source = Path(data_dir), Path(src)
        src_conn = open_backup(source)
        tmp = data_dir / f".{DB_FILE_NAME}.{os.getpid()}.partial"
        try:
            moved = move_aside(data_dir, key=False)
            _private_dir(data_dir)
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            dst_conn = sqlite3.connect(tmp)
            try:
                src_conn.backup(dst_conn)
            finally:
                dst_conn.close()
            with tmp.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, data_dir / DB_FILE_NAME)
            _fsync_dir(data_dir)
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(f"cannot restore into {data_dir}: {exc}", path=source) from exc
        finally:
            src_conn.close()
            with contextlib.suppress(OSError):
                tmp.unlink()
        cls(data_dir).close()  # migrates it forward and writes the marker
        return moved

    def __repr__(self) -> str:
        return f"TerminalStore({str(self.data_dir)!r})"

    @property
    def path(self) -> Path:
        """The database file."""
        return self.db.path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- backup and recovery --------------------------------------------------------------
    def _backup_path(self, prefix: str) -> Path:
        stamp = now().strftime("%Y%m%dT%H%M%S%f")
        return self.data_dir / BACKUP_DIR_NAME / f"{prefix}-{stamp}.db"

    def backup(self, dest: Path | str | None = None) -> Path:
        """Write a consistent copy of the database to ``dest`` (default: ``backups/``).

        The copy is written beside ``dest`` and renamed into place, so ``dest`` is either the
        old file or a complete, checked backup. The data key is not included: keep it apart.
        """
        target = Path(dest) if dest is not None else self._backup_path("terminal")
        if target.is_dir():  # a folder: a dated file inside it
            target = target / self._backup_path("terminal").name
        if target.exists() and target.resolve() == self.path.resolve():
            raise BackupError("is the live database; choose another destination", path=target)
        try:
            _private_dir(target.parent)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise BackupError(f"cannot write a backup here: {exc.strerror}", path=target) from exc
        try:
            self._write_copy(tmp, target)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise BackupError(f"cannot write the backup: {exc.strerror}", path=target) from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return target

    def _write_copy(self, tmp: Path, target: Path) -> None:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            self.db.copy_to(conn)
            conn.execute("PRAGMA journal_mode = DELETE")  # a backup is one self-contained file
            problem = integrity_problem(conn)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot write the backup: {exc}", path=target) from exc
        finally:
            conn.close()
        if problem is not None:
            raise BackupError(f"the copy failed its integrity check: {problem}", path=target)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())

    def restore(self, src: Path | str) -> Path:
        """Replace the database with the backup ``src``; return the safety copy of the old one.

        ``src`` is checked first (a SQLite file, healthy, a posemu store no newer than this
        version); an older backup is migrated forward after the restore.
        """
        source_path = Path(src)
        if source_path.is_file() and source_path.resolve() == self.path.resolve():
            raise BackupError("is the live database, not a backup", path=source_path)
        source = open_backup(source_path)
        try:
            safety = self.backup(self._backup_path("pre-restore"))
            self.db.replace_from(source)
        finally:
            source.close()
        self.vault.forget()  # the restored tokens may name another key: check again
        return safety
