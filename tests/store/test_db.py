"""Opening the database: settings, permissions, migrations, and refusing bad files."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from terminal.store import (
    SCHEMA_VERSION,
    SchemaVersionError,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreMissingError,
    TerminalStore,
    open_database,
)
from terminal.store.db import MIGRATIONS
from tests.store.helpers import entry


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_settings_that_make_writes_durable_and_shareable(tmp_path):
    db = open_database(tmp_path / "t.db")
    try:
        conn = db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert db.schema_version() == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"journal", "receipt_copies", "saf", "counters", "session_keys"} <= tables
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        for column in ("local_time", "stan", "rrn", "amount"):
            assert f"journal_{column}" in indexes
    finally:
        db.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_files_are_private(tmp_path):
    data = tmp_path / "data"
    with TerminalStore(data) as store:
        store.journal.add(entry())
        store.vault.seal("x")
        assert mode(data) == 0o700
        for path in data.iterdir():
            if path.is_file():
                assert mode(path) == 0o600, path.name
        assert (data / "terminal.db-wal").exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_existing_database_with_wide_permissions_is_tightened(tmp_path):
    open_database(tmp_path / "t.db").close()
    (tmp_path / "t.db").chmod(0o644)
    open_database(tmp_path / "t.db").close()
    assert mode(tmp_path / "t.db") == 0o600


def test_reopening_keeps_data_and_version(tmp_path):
    with TerminalStore(tmp_path) as store:
        journal_id = store.journal.add(entry())
    with TerminalStore(tmp_path) as store:
        assert store.journal.get(journal_id).amount == 1234
        rows = store.db.conn.execute("SELECT version FROM schema_version").fetchall()
        assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))


def test_not_sqlite_is_refused_naming_the_path(tmp_path):
    path = tmp_path / "terminal.db"
    path.write_text("these are not the pages you are looking for\n" * 100)
    with pytest.raises(StoreCorruptError) as caught:
        TerminalStore(tmp_path)
    assert str(path) in str(caught.value)
    assert path.read_text().startswith("these are not")  # left untouched


def test_damaged_pages_are_refused(tmp_path):
    with TerminalStore(tmp_path) as store:
        for i in range(300):
            store.journal.add(entry(stan=f"{i + 1:06d}"))
    path = tmp_path / "terminal.db"
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page, len(data) - page, page * 3):  # every third page, header spared
        data[offset : offset + 200] = os.urandom(200)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError) as caught:
        TerminalStore(tmp_path)
    assert str(path) in str(caught.value)


def test_damaged_header_is_refused(tmp_path):
    with TerminalStore(tmp_path) as store:
        store.journal.add(entry())
    path = tmp_path / "terminal.db"
    data = bytearray(path.read_bytes())
    data[16:100] = b"\xff" * 84  # page size, format bytes... all wrong
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as caught:
        TerminalStore(tmp_path)
    assert str(path) in str(caught.value)


def test_directory_in_place_of_the_database(tmp_path):
    (tmp_path / "terminal.db").mkdir()
    with pytest.raises(StoreCorruptError, match="not a regular file"):
        TerminalStore(tmp_path)


def test_newer_schema_is_refused_clearly(tmp_path):
    with TerminalStore(tmp_path) as store:
        store.db.conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (99, 'future')"
        )
    with pytest.raises(SchemaVersionError) as caught:
        TerminalStore(tmp_path)
    message = str(caught.value)
    assert "99" in message
    assert str(SCHEMA_VERSION) in message
    assert str(tmp_path / "terminal.db") in message


def test_foreign_sqlite_database_is_left_alone(tmp_path):
    path = tmp_path / "terminal.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="not a posemu store"):
        TerminalStore(tmp_path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched
    conn.close()


def test_missing_database_when_not_creating(tmp_path):
    with pytest.raises(StoreMissingError):
        TerminalStore(tmp_path / "nowhere", create=False)
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(StoreMissingError):
        open_database(tmp_path / "x.db", create=False)


def test_forward_migration_runs_once_in_order(tmp_path):
    path = tmp_path / "t.db"
    open_database(path).close()
    with TerminalStore(tmp_path) as store:
        pass
    later = {
        **MIGRATIONS,
        SCHEMA_VERSION + 1: ("ALTER TABLE journal ADD COLUMN tip INTEGER",),
        SCHEMA_VERSION + 2: ("UPDATE journal SET tip = 7",),
    }
    db = open_database(path, migrations=later)
    try:
        assert db.schema_version() == SCHEMA_VERSION + 2
        columns = [r[1] for r in db.conn.execute("PRAGMA table_info(journal)")]
        assert "tip" in columns
    finally:
        db.close()
    open_database(path, migrations=later).close()  # nothing left to apply: no error
    with pytest.raises(SchemaVersionError):
        open_database(path)  # this version knows only SCHEMA_VERSION
    assert store.db.closed


def test_failed_migration_leaves_the_old_schema(tmp_path):
    path = tmp_path / "t.db"
    open_database(path).close()
    broken = {**MIGRATIONS, SCHEMA_VERSION + 1: ("CREATE TABLE x (a)", "NOT SQL")}
    with pytest.raises(StoreError):
        open_database(path, migrations=broken)
    db = open_database(path)
    try:
        assert db.schema_version() == SCHEMA_VERSION
        names = [r[0] for r in db.conn.execute("SELECT name FROM sqlite_master")]
        assert "x" not in names
    finally:
        db.close()


def test_closed_database_says_so(tmp_path):
    store = TerminalStore(tmp_path)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.journal.get(1)


def test_a_writer_holding_the_lock_too_long_gives_a_typed_error(tmp_path):
    with TerminalStore(tmp_path, busy_timeout=0.2) as store:
        other = sqlite3.connect(store.path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreLockedError) as caught:
                store.counters.next_stan()
            assert str(store.path) in str(caught.value)
            assert "stan" in str(caught.value)
            other.execute("ROLLBACK")
            assert store.counters.next_stan() == "000001"  # usable again at once
        finally:
            other.close()
