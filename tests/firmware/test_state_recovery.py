"""A damaged firmware/state.json: the terminal recovers to a bootable, known slot and says so."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from firmware_update import State, Updater, on_boot, read_status
from terminal.cli.main import main
from tests.firmware.helpers import Repo


def _updated(data_dir: Path, repo: Repo) -> None:
    repo.publish("1.1.0")
    outcome = asyncio.run(Updater(data_dir, repo.url).run())
    assert outcome.state is State.COMMITTED, outcome


def test_status_recovers_from_the_last_good_copy(repo: Repo, data_dir: Path, capsys) -> None:
    _updated(data_dir, repo)
    state = data_dir / "firmware" / "state.json"
    before = json.loads(state.read_text())
    state.write_text("x\n")  # the tester's repro
    assert main(["firmware", "status", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "running   1.1.0 (slot B)" in out
    assert "state-recovered" in out
    assert "restored from state.last-good.json" in out
    assert (data_dir / "firmware" / "state.json.damaged").read_text() == "x\n"
    after = json.loads(state.read_text())
    assert {k: after[k] for k in ("active", "versions", "floor", "state")} == {
        k: before[k] for k in ("active", "versions", "floor", "state")
    }
    info = on_boot(data_dir)
    assert info.slot.value == "b"
    assert info.manifest is not None
    assert str(info.manifest.version) == "1.1.0"


def test_with_both_copies_damaged_the_newest_intact_slot_wins(repo: Repo, data_dir: Path) -> None:
    _updated(data_dir, repo)
    fw = data_dir / "firmware"
    (fw / "state.json").write_text('{"state": "nonsense"}')
    (fw / "state.last-good.json").write_bytes(b"\x00\x01")
    info = on_boot(data_dir)  # what a terminal start does: never bricked
    assert (info.slot.value, str(info.manifest.version)) == ("b", "1.1.0")
    status = read_status(data_dir)
    assert status["reason"] == "state-recovered"
    assert "rebuilt from the slots" in status["last_result"]
    assert status["floor"] == "1.1.0"  # no downgrade below what is running
    assert status["state"] == "idle"
    repo.publish("1.2.0")  # and updates work again
    assert asyncio.run(Updater(data_dir, repo.url).run()).state is State.COMMITTED
    assert read_status(data_dir)["running"] == "1.2.0"


def test_update_recovers_and_goes_on(repo: Repo, data_dir: Path, capsys) -> None:
    _updated(data_dir, repo)
    repo.publish("1.2.0")
    (data_dir / "firmware" / "state.json").write_text("x")
    code = main(["firmware", "update", "--repo-url", repo.url, "--data-dir", str(data_dir)])
    assert code == 0, capsys.readouterr()
    assert "committed 1.2.0 (was 1.1.0)" in capsys.readouterr().out


def test_a_deleted_record_comes_back_too(repo: Repo, data_dir: Path) -> None:
    _updated(data_dir, repo)
    (data_dir / "firmware" / "state.json").unlink()
    status = read_status(data_dir)
    assert (status["active"], status["running"]) == ("b", "1.1.0")
    assert "state.json was damaged (missing; nothing to keep)" in status["last_result"]


def test_a_fresh_terminal_has_nothing_to_recover(tmp_path: Path) -> None:
    status = read_status(tmp_path)
    assert (status["running"], status["reason"]) == ("0.0.0", None)
    assert not (tmp_path / "firmware").exists()
