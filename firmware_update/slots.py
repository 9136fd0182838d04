"""Where things live in the data directory, A/B slot installation and the journal backup.

::

    DATA_DIR/terminal.db                 the terminal's journal (read and backed up, never written
                                         except to restore a backup after a damaging rollback)
    DATA_DIR/firmware/trusted-root.json  provisioned TUF root (``posemu firmware trust``)
    DATA_DIR/firmware/tuf/               python-tuf's verified metadata cache
    DATA_DIR/firmware/downloads/         verified packages; partial/ holds resumable downloads
    DATA_DIR/firmware/slots/a, slots/b   installed packages (slot A empty = factory firmware)
    DATA_DIR/firmware/state.json         the update record (see machine.py)
    DATA_DIR/firmware/backups/           journal copies taken before each install

A slot is installed by unpacking into ``.b.staging`` and renaming it into place, so the slot
directory is either absent, the previous package, or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from firmware_update.machine import Slot
from firmware_update.package import Manifest, extract_package

__all__ = ["JOURNAL_NAME", "Layout", "backup_journal", "install_slot", "journal_problem"]

JOURNAL_NAME: Final = "terminal.db"


@dataclass(frozen=True, slots=True)
class Layout:
    data_dir: Path

    def __post_init__(self) -> None:  # callers often hold a str (tempfile.mkdtemp())
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @property
    def root(self) -> Path:
        return self.data_dir / "firmware"

    @property
    def trusted_root(self) -> Path:
        return self.root / "trusted-root.json"

    @property
    def metadata(self) -> Path:
        return self.root / "tuf"

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    @property
    def partial(self) -> Path:
        return self.downloads / "partial"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def journal(self) -> Path:
        return self.data_dir / JOURNAL_NAME

    def slot(self, slot: Slot) -> Path:
        return self.root / "slots" / slot.value

    def staging(self, slot: Slot) -> Path:
        return self.root / "slots" / f".{slot.value}.staging"

    def clean_staging(self) -> None:
        for slot in Slot:
            shutil.rmtree(self.staging(slot), ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def install_slot(layout: Layout, slot: Slot, archive: Path) -> Manifest:
    """Unpack ``archive`` into ``slot`` (the inactive one) via a staging directory."""
    staging = layout.staging(slot)
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        manifest = extract_package(archive, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_dir(staging)
    target = layout.slot(slot)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    _fsync_dir(target.parent)
    return manifest


def backup_journal(layout: Layout, label: str) -> Path | None:
    """Copy the journal with SQLite's online backup API (consistent while it is in use)."""
    if not layout.journal.exists():
        return None
    layout.backups.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    dest = layout.backups / f"terminal-before-{label}-{stamp}.db"
    tmp = dest.with_name(dest.name + ".tmp")
    src = sqlite3.connect(f"file:{layout.journal}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, dest)
    _fsync_dir(dest.parent)
    return dest


def journal_problem(path: Path) -> str | None:
    """None if the journal is absent or passes SQLite's quick_check, else what is wrong."""
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"journal unreadable: {exc}"
    return None if rows == [("ok",)] else f"journal damaged: {rows[0][0]}"


def restore_journal(layout: Layout, backup: Path) -> None:
    """Put ``backup`` back in place of a damaged journal (online backup API again)."""
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(layout.journal)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()


def latest_backup(layout: Layout) -> Path | None:
    if not layout.backups.is_dir():
        return None
    found = sorted(layout.backups.glob("terminal-before-*.db"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None
