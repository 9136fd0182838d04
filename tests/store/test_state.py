"""TerminalStore: the data directory, backup before updates, and recovery."""

from __future__ import annotations

import sqlite3

import pytest

from terminal.store import (
    BackupError,
    SchemaVersionError,
    StoreCorruptError,
    TerminalStore,
    default_data_dir,
)
from tests.store.helpers import entry


def test_default_data_dir_is_per_user():
    path = default_data_dir()
    assert path.name == "posemu"
    assert path.is_absolute()


def test_backup_is_consistent_and_self_contained(tmp_path):
    with TerminalStore(tmp_path / "data") as store:
        ids = [store.journal.add(entry(stan=f"{i:06d}")) for i in range(1, 21)]
        dest = store.backup(tmp_path / "out" / "before-update.db")
        store.journal.add(entry(stan="000099"))  # after the backup: not in it
    assert dest == tmp_path / "out" / "before-update.db"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["before-update.db"]
    conn = sqlite3.connect(dest)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert [r[0] for r in conn.execute("SELECT id FROM journal ORDER BY id")] == ids
    finally:
        conn.close()


def test_default_backup_goes_to_backups_dir(tmp_path):
    with TerminalStore(tmp_path) as store:
        path = store.backup()
    assert path.parent == tmp_path / "backups"
    assert path.name.startswith("terminal-")


def test_backup_refuses_the_live_file(tmp_path):
    with TerminalStore(tmp_path) as store, pytest.raises(BackupError, match="live database"):
        store.backup(store.path)


def test_restore_brings_back_the_backup_and_keeps_a_safety_copy(tmp_path):
    with TerminalStore(tmp_path / "data") as store:
        kept = store.journal.add(entry(stan="000001"))
        store.counters.next_stan()
        backup = store.backup(tmp_path / "b.db")
        lost = store.journal.add(entry(stan="000002"))
        safety = store.restore(backup)
        assert [e.id for e in store.journal.batch_entries("000001")] == [kept]
        assert store.counters.next_stan() == "000002"
        assert safety.parent == tmp_path / "data" / "backups"
        store.restore(safety)  # undo the restore
        assert [e.id for e in store.journal.batch_entries("000001")] == [kept, lost]
    with TerminalStore(tmp_path / "data") as store:  # the restored file reopens cleanly
        assert len(store.journal.batch_entries("000001")) == 2


def test_restore_is_seen_by_another_open_connection(tmp_path):
    with TerminalStore(tmp_path / "data") as store:
        backup = store.backup(tmp_path / "b.db")
        store.journal.add(entry())
        with TerminalStore(tmp_path / "data") as other:
            assert len(other.journal.batch_entries("000001")) == 1
            store.restore(backup)
            assert other.journal.batch_entries("000001") == []


@pytest.mark.parametrize("kind", ["missing", "garbage", "foreign", "newer", "empty"])
def test_restore_refuses_bad_sources(tmp_path, kind):
    source = tmp_path / "src.db"
    if kind == "garbage":
        source.write_bytes(b"not a database at all" * 50)
    elif kind == "foreign":
        conn = sqlite3.connect(source)
        conn.execute("CREATE TABLE photos (id)")
        conn.commit()
        conn.close()
    elif kind == "empty":
        sqlite3.connect(source).close()
        source.write_bytes(b"")
    elif kind == "newer":
        with TerminalStore(tmp_path / "other") as other:
            other.db.conn.execute("INSERT INTO schema_version VALUES (99, 'x')")
            other.backup(source)
    errors = {
        "missing": BackupError,
        "garbage": StoreCorruptError,
        "foreign": SchemaVersionError,
        "newer": SchemaVersionError,
        "empty": BackupError,
    }
    with TerminalStore(tmp_path / "data") as store:
        journal_id = store.journal.add(entry())
        with pytest.raises(errors[kind]) as caught:
            store.restore(source)
        assert str(source) in str(caught.value)
        assert store.journal.get(journal_id).amount == 1234  # nothing was replaced


def test_restore_refuses_the_live_file(tmp_path):
    with TerminalStore(tmp_path) as store, pytest.raises(BackupError, match="live database"):
        store.restore(store.path)
