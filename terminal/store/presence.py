"""Tell a new data directory from one whose store was lost, and recover it explicitly.

A missing or zero-length ``terminal.db`` looks exactly like "no transactions yet". Treating
it so restarts the trace counter (the host then refuses repeated STANs) and hides every
receipt, so the store leaves evidence of itself: a ``store-id`` marker written beside the
database once it has been created, and (later) the data key and backups. A directory with
any of these but no usable database is an error naming the file and the two ways out:
restore the newest backup, or start a new store explicitly (the old files are moved
aside, never deleted).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from terminal.store.db import check_sqlite_file, integrity_problem, now, store_version
from terminal.store.errors import BackupError, StoreError, StoreLostError

__all__ = [
    "BACKUP_DIR_NAME",
    "DB_FILE_NAME",
    "MARKER_NAME",
    "Evidence",
    "backups",
    "evidence",
    "lost_error",
    "move_aside",
    "open_backup",
    "recovery_hint",
    "write_marker",
]

DB_FILE_NAME: Final = "terminal.db"
BACKUP_DIR_NAME: Final = "backups"
MARKER_NAME: Final = "store-id"
KEY_FILE_NAME: Final = "data_key"  # mirrors terminal.store.vault; kept here to avoid a cycle


@dataclass(frozen=True, slots=True)
class Evidence:
    """What in a data directory shows that a store existed there."""

    marker: bool
    data_key: bool
    backups: tuple[Path, ...]

    def __bool__(self) -> bool:
        return self.marker or self.data_key or bool(self.backups)

    def describe(self) -> str:
        found = []
        if self.marker:
            found.append(f"its {MARKER_NAME} marker")
        if self.data_key:
            found.append(f"its {KEY_FILE_NAME}")
        if self.backups:
            found.append(f"{len(self.backups)} backup(s)")
        return ", ".join(found)


def backups(data_dir: Path) -> tuple[Path, ...]:
    """Backups in ``backups/``, newest first (their names carry the time they were made)."""
    folder = data_dir / BACKUP_DIR_NAME
    try:
        found = [p for p in folder.glob("*.db") if p.is_file() and p.stat().st_size > 0]
    except OSError:
        return ()
    return tuple(sorted(found, key=lambda p: p.stat().st_mtime, reverse=True))


def evidence(data_dir: Path) -> Evidence:
    return Evidence(
        marker=(data_dir / MARKER_NAME).exists(),
        data_key=(data_dir / KEY_FILE_NAME).exists(),
        backups=backups(data_dir),
    )


def recovery_hint(data_dir: Path) -> str:
    """The two ways out, as commands that work as written."""
    where = f" --data-dir {data_dir}"
    found = backups(data_dir)
    if found:
        restore = f"restore the newest backup: posemu store restore {found[0]}{where}"
    else:
        restore = "restore a backup you keep elsewhere: posemu store restore FILE" + where
    return f"{restore}; or start a new, empty store: posemu store reset --yes{where}"


def lost_error(data_dir: Path, state: str) -> StoreLostError:
    found = evidence(data_dir)
    return StoreLostError(
        f"{state}, but a terminal store existed in this directory ({found.describe()});"
        f" nothing was reset. To go on, {recovery_hint(data_dir)}",
        path=data_dir / DB_FILE_NAME,
    )


def write_marker(data_dir: Path, store_id: str) -> None:
    """Write ``store-id`` atomically (a torn marker would still be evidence, but be tidy)."""
    marker = data_dir / MARKER_NAME
    body = json.dumps({"store_id": store_id, "created_at": now().isoformat()}) + "\n"
    tmp = marker.with_name(f".{MARKER_NAME}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, body.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, marker)


def open_backup(source_path: Path) -> sqlite3.Connection:
    """A read-only connection to a restore source, refused unless it is a healthy posemu
    store of a supported version; the caller closes it."""
    if not source_path.is_file():
        raise BackupError("no backup file here", path=source_path)
    check_sqlite_file(source_path)
    try:
        source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open the backup: {exc}", path=source_path) from exc
    try:
        problem = integrity_problem(source)
        version = store_version(source, source_path)
        if problem is not None:
            raise BackupError(f"backup is damaged: {problem}", path=source_path)
        if version == 0:
            raise BackupError("not a posemu backup (empty database)", path=source_path)
    except sqlite3.Error as exc:
        source.close()
        raise BackupError(f"unreadable backup: {exc}", path=source_path) from exc
    except BaseException:
        source.close()
        raise
    return source


#: The embedded host simulator's state beside the store: its ledger refers to the journal.
HOST_STATE_NAME: Final = "host"


def move_aside(data_dir: Path, *, key: bool) -> Path | None:
    """Move the database (its -wal/-shm, marker and, with ``key``, the data key and the
    embedded host's state, whose ledger knows the old trace numbers) into
    ``backups/damaged-<time>/``; return that folder, or None when there was nothing."""
    names = [DB_FILE_NAME, f"{DB_FILE_NAME}-wal", f"{DB_FILE_NAME}-shm", MARKER_NAME]
    if key:
        names += [KEY_FILE_NAME, HOST_STATE_NAME]
    present = [data_dir / n for n in names if (data_dir / n).exists()]
    if not present:
        return None
    target = data_dir / BACKUP_DIR_NAME / f"damaged-{now().strftime('%Y%m%dT%H%M%S%f')}"
    try:
        target.mkdir(parents=True, mode=0o700)
        for path in present:
            os.replace(path, target / path.name)
    except OSError as exc:
        raise StoreError(f"cannot move the old files aside: {exc.strerror}", path=target) from exc
    with contextlib.suppress(OSError):
        fd = os.open(data_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return target
