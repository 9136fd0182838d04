"""Vault: AES-GCM tokens under a data key kept in its own 0600 file."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from terminal.store import Vault, VaultError
from tests.store.helpers import FULL_PAN


def test_seal_open_round_trip_and_randomised(tmp_path):
    vault = Vault(tmp_path / "data_key")
    assert not vault.has_key
    first, second = vault.seal(FULL_PAN), vault.seal(FULL_PAN)
    assert first != second  # fresh nonce each time
    assert FULL_PAN not in first
    assert vault.open(first) == vault.open(second) == FULL_PAN
    assert Vault(tmp_path / "data_key").open(first) == FULL_PAN  # the key persists
    assert FULL_PAN not in repr(vault)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_key_file_is_private_and_checked(tmp_path):
    vault = Vault(tmp_path / "data_key")
    token = vault.seal("x")
    assert stat.S_IMODE((tmp_path / "data_key").stat().st_mode) == 0o600
    (tmp_path / "data_key").chmod(0o644)
    with pytest.raises(VaultError, match="readable by others"):
        Vault(tmp_path / "data_key").open(token)


def test_open_never_creates_a_key(tmp_path):
    token = Vault(tmp_path / "a").seal("x")
    with pytest.raises(VaultError, match="no data key"):
        Vault(tmp_path / "b").open(token)
    assert not (tmp_path / "b").exists()


def test_other_key_and_tampering_are_detected(tmp_path):
    token = Vault(tmp_path / "a").seal(FULL_PAN)
    other = Vault(tmp_path / "b")
    other.seal("make a key")
    with pytest.raises(VaultError, match="another data key"):
        other.open(token)
    version, key_id, body = token.split(":")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(VaultError, match="tampered"):
        Vault(tmp_path / "a").open(f"{version}:{key_id}:{flipped}")
    with pytest.raises(VaultError, match="not a vault token"):
        Vault(tmp_path / "a").open(FULL_PAN)


def test_damaged_key_file(tmp_path):
    (tmp_path / "data_key").write_bytes(b"short")
    (tmp_path / "data_key").chmod(0o600)
    with pytest.raises(VaultError, match="5 bytes"):
        Vault(tmp_path / "data_key").seal("x")


def test_racing_first_use_yields_one_key(tmp_path):
    vaults = [Vault(tmp_path / "data_key") for _ in range(8)]
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda v=v: tokens.append(v.seal("x"))) for v in vaults]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for token in tokens:
        assert Vault(tmp_path / "data_key").open(token) == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["data_key"]  # no temporary files left
