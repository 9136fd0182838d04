"""Exit codes a script relies on: the user's own faults (input, a damaged store) are 2, never 3."""

from __future__ import annotations

import json

import pytest


def _damage(data_dir) -> None:
    db = data_dir / "terminal.db"
    db.write_bytes(b"")
    for extra in data_dir.glob("terminal.db-*"):
        extra.unlink()


@pytest.mark.parametrize(
    "argv",
    [
        ("pay", "echo"),
        ("pay", "sale", "--amount", "1.00", "--card", "visa-approve"),
        ("journal", "list"),
        ("journal", "show", "--stan", "1"),
    ],
)
def test_damaged_store_is_exit_2_with_kind_store(run, tmp_path, argv):
    d = tmp_path / "d"
    assert (
        run("pay", "sale", "--amount", "1.00", "--card", "visa-approve", "--data-dir", str(d)).code
        == 0
    )
    _damage(d)
    out = run(*argv, "--data-dir", str(d), "--json")
    assert out.code == 2, out
    assert out.json["exit_status"] == 2
    assert out.json["error_kind"] == "store"
    assert "posemu store" in out.err  # says how to go on
    assert "host or network" not in out.err


@pytest.mark.parametrize(
    "argv",
    [
        ("journal", "show", "--json", "--bogus"),
        ("card", "parse", "--json", "--bogus", "x"),
        ("pay", "sale", "--amount", "1.00", "--json", "--bogus"),
        ("--json", "pay", "echo"),  # --json before the command: refused, as JSON too
    ],
)
def test_usage_error_with_json_is_also_a_json_object(capsys, argv):
    from terminal.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    out, err = capsys.readouterr()
    body = json.loads(out)
    assert body["ok"] is False
    assert body["exit_status"] == 2
    assert body["error_kind"] == "input"
    assert body["error"].split(": ", 1)[1] in err


def test_config_errors_are_input_errors(run, tmp_path):
    out = run("config", "set", "tmk", "12", "--data-dir", str(tmp_path), "--json")
    assert out.code == 2
    assert out.json["error_kind"] == "input"
    assert "12" not in out.json["error"].replace("32", "").replace("48", "")  # value hidden


def test_unwritable_data_dir_is_exit_2_not_a_host_error(run, tmp_path):
    (tmp_path / "host").write_text("a file where the host's state directory goes")
    out = run("pay", "echo", "--data-dir", str(tmp_path), "--json")
    assert out.code == 2, out
    assert out.json["error_kind"] == "store"
    assert "data directory" in out.json["error"]


@pytest.mark.parametrize(
    "argv",
    [
        ("pay", "sale", "--amount", "1.00", "--amount", "2.00", "--card", "visa-approve"),
        ("--data-dir", "a", "--data-dir", "b", "pay", "echo"),
        ("pay", "refund", "--rrn", "1", "--rrn", "2", "--amount", "1.00"),
    ],
)
def test_option_twice_with_different_values_is_refused(capsys, argv):
    from terminal.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    assert "given twice with different values" in capsys.readouterr().err


def test_option_twice_with_the_same_value_is_fine(run, tmp_path):
    d = str(tmp_path)
    out = run("--data-dir", d, "--data-dir", d, "pay", "echo", "--timeout", "5", "--timeout", "5")
    assert out.code == 0, out


def test_store_commands_honour_posemu_data_dir(run, tmp_path, monkeypatch):
    d = tmp_path / "d"
    monkeypatch.setenv("POSEMU_DATA_DIR", str(d))
    assert run("pay", "sale", "--amount", "1.00", "--card", "visa-approve").code == 0
    check = run("store", "check", "--json")
    assert check.code == 0, check
    assert str(d) in check.out
    backup = run("store", "backup")
    assert backup.code == 0, backup
    assert list((d / "backups").glob("*.db"))
    assert not (tmp_path / "xdg").exists()  # the per-user folder was never touched


def test_host_with_another_master_key_exit_3_one_json_object_no_reversal(run, tmp_path):
    from iso8583.host import EmbeddedHost
    from iso8583.keys import Key, KeyAlgorithm

    d = str(tmp_path / "d")
    first = run("pay", "sale", "--amount", "1.00", "--card", "visa-approve", "--data-dir", d)
    assert first.code == 0
    tmk = Key(bytes.fromhex("11111111111111112222222222222222"), KeyAlgorithm.TDES)
    with EmbeddedHost("iso87ascii", tmk=tmk) as other:
        address, port = other.address
        argv = ("--host", f"{address}:{port}", "--data-dir", d, "--json")
        out = run("pay", "sale", "--amount", "7.00", "--card", "visa-approve", *argv)
        assert out.code == 3, out
        body = out.json
        assert body["ok"] is False
        assert body["exit_status"] == 3
        assert body["error_kind"] == "host"
        assert body["response_code"] == "A7"
        assert body["reversal_pending"] is False
        assert "TMK" in body["error"]
        assert "posemu config" in out.err
        assert run("pay", "echo", *argv).code == 0  # nothing queued to retry
    listed = run("journal", "list", "--data-dir", d, "--json")
    assert "timed-out" not in listed.out


def test_config_unset_says_removed(run, tmp_path):
    assert run("config", "set", "currency", "USD", "--data-dir", str(tmp_path)).code == 0
    out = run("config", "unset", "currency", "--data-dir", str(tmp_path))
    assert out.code == 0
    assert "currency: removed from" in out.out


def test_a_preauth_completes_once(run, tmp_path):
    d = ("--data-dir", str(tmp_path))
    pre = run("pay", "preauth", "--amount", "80.00", "--card", "visa-approve", "--json", *d)
    jid = str(pre.json["journal_id"])
    assert run("pay", "completion", "--id", jid, "--amount", "75.00", *d).code == 0
    again = run("pay", "completion", "--id", jid, "--amount", "5.00", "--json", *d)
    assert again.code == 2, again
    assert "already completed" in again.json["error"]
