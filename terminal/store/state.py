"""The terminal's persistent state: one data directory, one SQLite file, one data key.

::

    <data dir>/terminal.db      journal, receipt copies, SAF queue, counters, session keys
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
from typing import Final, Self

import platformdirs

from terminal.store.counters import SqliteCounters
from terminal.store.db import (
    DEFAULT_BUSY_TIMEOUT,
    Database,
    check_sqlite_file,
    integrity_problem,
    now,
    open_database,
    store_version,
)
from terminal.store.errors import BackupError, StoreError, StoreMissingError
from terminal.store.journal import SqliteJournal
from terminal.store.keys import SqliteKeyStore
from terminal.store.saf import SqliteSafQueue
from terminal.store.used_codes import UsedCodes
from terminal.store.vault import KEY_FILE_NAME, Vault

__all__ = ["BACKUP_DIR_NAME", "DB_FILE_NAME", "TerminalStore", "default_data_dir"]

DB_FILE_NAME: Final = "terminal.db"
BACKUP_DIR_NAME: Final = "backups"


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


class TerminalStore:
    """Opens the data directory and exposes ``journal``, ``saf``, ``counters``, ``keys``
    and ``vault``; use it as a context manager so the database is closed cleanly."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        create: bool = True,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        if create:
            _private_dir(self.data_dir)
        elif not (self.data_dir / DB_FILE_NAME).exists():
            raise StoreMissingError("no terminal data (no transactions yet?)", path=self.data_dir)
        self.db: Database = open_database(
            self.data_dir / DB_FILE_NAME, create=create, busy_timeout=busy_timeout
        )
        self.vault = Vault(self.data_dir / KEY_FILE_NAME)
        self.journal = SqliteJournal(self.db, self.vault)
        self.saf = SqliteSafQueue(self.db, self.vault)
        self.counters = SqliteCounters(self.db)
        self.keys = SqliteKeyStore(self.db)
        self.used_codes = UsedCodes(self.data_dir)  # a wallet payment code pays once

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
        if not source_path.is_file():
            raise BackupError("no backup file here", path=source_path)
        if source_path.resolve() == self.path.resolve():
            raise BackupError("is the live database, not a backup", path=source_path)
        check_sqlite_file(source_path)
        try:
            source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot open the backup: {exc}", path=source_path) from exc
        try:
            try:
                problem = integrity_problem(source)
                version = store_version(source, source_path)
            except sqlite3.Error as exc:
                raise BackupError(f"unreadable backup: {exc}", path=source_path) from exc
            if problem is not None:
                raise BackupError(f"backup is damaged: {problem}", path=source_path)
            if version == 0:
                raise BackupError("not a posemu backup (empty database)", path=source_path)
            safety = self.backup(self._backup_path("pre-restore"))
            self.db.replace_from(source)
        finally:
            source.close()
        return safety
