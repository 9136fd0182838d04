"""Top-level options (``posemu --data-dir D store ...``, ``posemu --spec cup host``) reach the
commands of the store, firmware, host and iso8583 groups: never refused as "given twice"
against a default the user did not type, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iso8583 import Message, get_spec, pack
from terminal.cli.main import main


@pytest.fixture(autouse=True)
def _per_user_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "per-user"))  # where a fallback goes
    monkeypatch.delenv("POSEMU_DATA_DIR", raising=False)


def test_store_check_takes_the_top_level_data_dir(tmp_path: Path, capsys) -> None:
    data = tmp_path / "term"
    assert main(["--data-dir", str(data), "store", "check", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"ok": True, "store": None}
    assert main(["--data-dir", str(data), "store", "check", "--data-dir", str(data)]) == 0


def test_firmware_status_takes_the_top_level_data_dir(tmp_path: Path, capsys) -> None:
    data = tmp_path / "term"
    assert main(["--data-dir", str(data), "firmware", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["running"] == "0.0.0"
    assert not (tmp_path / "per-user").exists()


def test_iso8583_decode_takes_the_top_level_spec(capsys) -> None:
    raw = pack(Message("0800", {11: "000001", 41: "POSEMU01"}), get_spec("cup")).hex()
    assert main(["--spec", "cup", "iso8583", "decode", "--json", raw]) == 0
    assert json.loads(capsys.readouterr().out)["fields"]["11"] == "000001"
    assert main(["iso8583", "decode", "--json", raw]) == 2  # the default is still iso87ascii


def test_host_takes_the_top_level_spec(capsys) -> None:
    # a bad --listen stops it right after the options are merged: nothing listens
    code = main(["--spec", "cup", "host", "--listen", "nowhere"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: --listen must be HOST:PORT")
