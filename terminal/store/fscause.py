"""Why a write failed, in the user's terms: a read-only directory or a full disk, and where.

SQLite reports both as "unable to open database file", "attempt to write a readonly
database" or "disk I/O error"; the filesystem itself knows the cause, so ask it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from terminal.store.errors import StoreError, StoreFullError, StoreReadOnlyError

__all__ = ["LOW_SPACE", "free_bytes", "write_cause"]

#: Below this many free bytes a SQLite write (a page, its WAL frame, the -shm) may fail.
LOW_SPACE: Final = 64 * 1024


def _existing_dir(path: Path) -> Path:
    directory = path if path.is_dir() else path.parent
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def free_bytes(path: Path) -> int | None:
    """Bytes this user may still write on the filesystem holding ``path`` (None: unknown)."""
    try:
        stats = os.statvfs(_existing_dir(path))
    except (OSError, AttributeError):
        return None
    return stats.f_bavail * stats.f_frsize


def write_cause(path: Path, what: str, detail: str = "") -> StoreError | None:
    """A typed error naming why ``path`` (a file or directory) cannot be written, or None."""
    directory = _existing_dir(path)
    suffix = f" ({detail})" if detail else ""
    try:
        stats = os.statvfs(directory)
    except (OSError, AttributeError):
        stats = None
    if stats is not None and stats.f_flag & getattr(os, "ST_RDONLY", 1):
        return StoreReadOnlyError(
            f"{what}: the data directory {directory} is on a read-only filesystem; read commands"
            f" (posemu journal list/show) still work, writes need it mounted read-write{suffix}",
            path=path,
        )
    if not os.access(directory, os.W_OK):
        return StoreReadOnlyError(
            f"{what}: the data directory {directory} is not writable by this user{suffix}",
            path=path,
        )
    if path.is_file() and not os.access(path, os.W_OK):
        return StoreReadOnlyError(f"{what}: the file is read-only{suffix}", path=path)
    if stats is not None and stats.f_bavail * stats.f_frsize < LOW_SPACE:
        free = stats.f_bavail * stats.f_frsize
        return StoreFullError(
            f"{what}: disk full, {free} bytes free on the filesystem of {directory};"
            f" free some space and retry (nothing was written){suffix}",
            path=path,
        )
    return None
