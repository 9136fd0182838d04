"""A store that existed is never silently replaced by a new, empty one; nor is its data key."""

from __future__ import annotations

import os

import pytest

from terminal.cli.main import main
from terminal.core.journal import JournalQuery
from terminal.store import (
    StoreCorruptError,
    StoreLostError,
    StoreMissingError,
    TerminalStore,
    VaultError,
)
from tests.store.helpers import FULL_PAN, entry


def posemu(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data(tmp_path):
    """A store with one sale and a backup, as a merchant's terminal would have."""
    directory = tmp_path / "data"
    with TerminalStore(directory) as store:
        store.counters.next_stan()
        store.journal.add(entry(stan="000001"), pan=FULL_PAN)
        store.backup()
        store.counters.next_stan()
    return directory


def _truncate(directory):
    with TerminalStore(directory):
        pass  # closed cleanly: the WAL is checkpointed and removed
    (directory / "terminal.db").write_bytes(b"")


@pytest.mark.parametrize("read_only", [False, True])
def test_an_emptied_database_is_an_error_not_a_new_store(data, read_only):
    _truncate(data)
    with pytest.raises(StoreLostError) as caught:
        TerminalStore(data, read_only=read_only)
    message = str(caught.value)
    assert str(data / "terminal.db") in message
    assert "empty (0 bytes)" in message
    assert "posemu store restore" in message
    assert "backups/terminal-" in message
    assert "posemu store reset --yes" in message
    assert (data / "terminal.db").stat().st_size == 0  # nothing was written to it


def test_a_deleted_database_is_an_error_too(data):
    (data / "terminal.db").unlink()
    with pytest.raises(StoreLostError, match="is missing"):
        TerminalStore(data)
    with pytest.raises(StoreLostError, match="is missing"):
        TerminalStore(data, create=False)
    assert not (data / "terminal.db").exists()


def test_the_data_key_alone_is_evidence(tmp_path):
    directory = tmp_path / "data"
    with TerminalStore(directory) as store:
        store.journal.add(entry(), pan=FULL_PAN)
    (directory / "store-id").unlink()
    (directory / "terminal.db").unlink()
    with pytest.raises(StoreLostError, match="data_key"):
        TerminalStore(directory)


def test_a_new_directory_and_an_interrupted_first_creation_are_new_stores(tmp_path):
    with TerminalStore(tmp_path / "new") as store:
        assert store.journal.find(JournalQuery()) == []
    assert (tmp_path / "new" / "store-id").exists()
    half = tmp_path / "half"
    half.mkdir()
    (half / "terminal.db").write_bytes(b"")  # killed before the schema was written
    with TerminalStore(half) as store:
        assert store.counters.next_stan() == "000001"
    with pytest.raises(StoreMissingError):
        TerminalStore(tmp_path / "nothing", read_only=True)


def test_a_damaged_database_names_the_ways_out(data):
    with TerminalStore(data):
        pass
    (data / "terminal.db").write_bytes(b"this is not a database at all" * 10)
    with pytest.raises(StoreCorruptError, match=r"posemu store restore .*posemu store reset"):
        TerminalStore(data)


def test_cli_restore_brings_back_the_journal_and_counters_go_on(capsys, data):
    _truncate(data)
    code, out, err = posemu(capsys, "journal", "list", "--data-dir", str(data))
    assert code == 2
    assert "is empty (0 bytes)" in err
    assert "no matching" not in out
    backup = sorted((data / "backups").glob("terminal-*.db"))[0]
    code, out, err = posemu(capsys, "store", "restore", str(backup), "--data-dir", str(data))
    assert code == 0, err
    assert "damaged-" in out
    damaged = next((data / "backups").glob("damaged-*"))
    assert (damaged / "terminal.db").stat().st_size == 0  # kept, not deleted
    code, out, err = posemu(capsys, "journal", "list", "--data-dir", str(data))
    assert code == 0
    assert "000001" in out
    with TerminalStore(data) as store:
        assert store.counters.next_stan() == "000002"
        assert store.journal.card_pan(1) == FULL_PAN  # the data key stayed in place


def test_cli_reset_needs_yes_and_keeps_the_old_files(capsys, data):
    _truncate(data)
    code, _, err = posemu(capsys, "store", "reset", "--data-dir", str(data))
    assert code == 2
    assert "--yes" in err
    assert (data / "terminal.db").stat().st_size == 0
    code, _out, err = posemu(capsys, "store", "reset", "--yes", "--data-dir", str(data))
    assert code == 0, err
    damaged = next((data / "backups").glob("damaged-*"))
    assert {p.name for p in damaged.iterdir()} >= {"terminal.db", "data_key", "store-id"}
    with TerminalStore(data) as store:
        assert store.counters.next_stan() == "000001"


# --- the data key -----------------------------------------------------------------------
@pytest.fixture
def sealed(tmp_path):
    directory = tmp_path / "data"
    with TerminalStore(directory) as store:
        store.journal.add(entry(), pan=FULL_PAN)
    return directory


def test_a_replaced_data_key_is_reported_not_used(sealed):
    key = sealed / "data_key"
    old = key.read_bytes()
    key.write_bytes(os.urandom(32))
    with TerminalStore(sealed) as store:
        with pytest.raises(VaultError, match=r"replaced or damaged.*posemu store new-key"):
            store.journal.card_pan(1)
        with pytest.raises(VaultError, match="replaced or damaged"):
            store.journal.add(entry(stan="000002"), pan=FULL_PAN)  # never sealed under it
        assert len(store.journal.find(JournalQuery())) == 1
    key.write_bytes(old)
    with TerminalStore(sealed) as store:
        assert store.journal.card_pan(1) == FULL_PAN


def test_a_deleted_or_damaged_data_key_is_never_regenerated(sealed):
    key = sealed / "data_key"
    old = key.read_bytes()
    key.unlink()
    with TerminalStore(sealed) as store, pytest.raises(VaultError, match="data key is missing"):
        store.journal.add(entry(stan="000002"), pan=FULL_PAN)
    assert not key.exists()
    key.write_bytes(old[:16])
    key.chmod(0o600)
    with TerminalStore(sealed) as store, pytest.raises(VaultError, match="damaged"):
        store.journal.card_pan(1)


def test_an_old_store_without_a_recorded_check_value_is_checked_against_its_tokens(sealed):
    with TerminalStore(sealed) as store:
        store.db.conn.execute("DELETE FROM store_meta WHERE name = 'data_key_id'")
    (sealed / "data_key").write_bytes(os.urandom(32))
    with TerminalStore(sealed) as store, pytest.raises(VaultError, match="replaced"):
        store.journal.card_pan(1)


def test_cli_new_key_starts_over_explicitly(capsys, sealed):
    (sealed / "data_key").write_bytes(os.urandom(32))
    code, out, err = posemu(capsys, "store", "check", "--data-dir", str(sealed))
    assert code == 2
    assert "replaced or damaged" in err
    code, _, err = posemu(capsys, "store", "new-key", "--data-dir", str(sealed))
    assert code == 2
    assert "--yes" in err
    code, out, err = posemu(capsys, "store", "new-key", "--yes", "--data-dir", str(sealed))
    assert code == 0, err
    with TerminalStore(sealed) as store:
        assert store.journal.card_pan(1) is None  # its token went with the old key
        store.journal.add(entry(stan="000002"), pan=FULL_PAN)
        assert store.journal.card_pan(2) == FULL_PAN
    code, out, err = posemu(capsys, "store", "check", "--data-dir", str(sealed))
    assert code == 0, err
    assert "check value" in out
