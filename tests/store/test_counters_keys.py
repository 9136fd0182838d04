"""STAN / invoice / batch counters and the session key store."""

from __future__ import annotations

import pytest

from iso8583.acquirer.model import SessionKeys
from terminal.core.ports import Counters, KeyStore
from terminal.store import InvalidRecordError, TerminalStore


@pytest.fixture
def store(tmp_path):
    with TerminalStore(tmp_path) as opened:
        yield opened


def test_counters_start_at_one(store):
    counters: Counters = store.counters
    assert counters.next_stan() == "000001"
    assert counters.next_stan() == "000002"
    assert counters.next_invoice() == "000001"
    assert counters.batch() == "000001"


def test_stan_and_invoice_wrap_past_000000(store):
    store.db.conn.execute("UPDATE counters SET value = 999998 WHERE name IN ('stan', 'invoice')")
    assert [store.counters.next_stan() for _ in range(3)] == ["999999", "000001", "000002"]
    assert [store.counters.next_invoice() for _ in range(2)] == ["999999", "000001"]


def test_close_batch_opens_the_next(store):
    store.counters.next_stan()
    assert store.counters.close_batch() == "000002"
    assert store.counters.batch() == "000002"
    assert store.counters.next_stan() == "000002"  # trace numbers run on
    store.db.conn.execute("UPDATE counters SET value = 999999 WHERE name = 'batch'")
    assert store.counters.close_batch() == "000001"


def test_counters_survive_reopening(tmp_path):
    with TerminalStore(tmp_path) as store:
        for _ in range(5):
            store.counters.next_stan()
        store.counters.close_batch()
    with TerminalStore(tmp_path) as store:
        assert store.counters.next_stan() == "000006"
        assert store.counters.batch() == "000002"


def test_keys_are_kept_as_received(tmp_path):
    keys = SessionKeys(
        pin_key=bytes(range(16)), pin_kcv=b"\x01\x02\x03", mac_key=b"\xff" * 16, mac_kcv=b"abc"
    )
    with TerminalStore(tmp_path) as store:
        key_store: KeyStore = store.keys
        assert key_store.load() is None
        assert store.keys.signed_on_at() is None
        key_store.save(keys)
        newer = SessionKeys(b"\x00" * 16, b"kcv", b"\x11" * 16, b"kcv")
        key_store.save(newer)
    with TerminalStore(tmp_path) as store:
        assert store.keys.load() == newer
        assert store.keys.signed_on_at() is not None
        store.keys.clear()
        assert store.keys.load() is None
        with pytest.raises(InvalidRecordError, match="mac_key"):
            store.keys.save(SessionKeys(b"k", b"k", "clear text", b"k"))  # type: ignore[arg-type]
