"""Options work wherever ``posemu --help`` lists them, or are refused (issue 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_top_level_host_is_used_by_pay_not_the_embedded_host(run, tmp_path, closed_port):
    out = run("--host", f"tcp://127.0.0.1:{closed_port}", "pay", "echo",
              "--data-dir", str(tmp_path), "--json")  # fmt: skip
    assert out.code == 3, out  # before: ECHO APPROVED by the embedded host
    assert f"127.0.0.1:{closed_port}" in out.err
    assert out.json["ok"] is False


def test_top_level_data_dir_is_used_by_pay_and_journal(run, tmp_path):
    data = tmp_path / "mine"
    assert run("--data-dir", str(data), "pay", "sale", "--amount", "1.00",
               "--card", "visa-approve", "--json").code == 0  # fmt: skip
    assert (data / "terminal.db").exists()
    listed = run("--data-dir", str(data), "journal", "list", "--json")
    assert listed.code == 0
    assert '"amount": "1.00"' in listed.out


def test_top_level_spec_is_used_by_pay(run, tmp_path):
    out = run("--spec", "no-such-dialect.toml", "pay", "echo", "--data-dir", str(tmp_path))
    assert out.code == 2
    assert out.err == "error: --spec no-such-dialect.toml: no such dialect file\n"


def test_option_given_twice_with_different_values_is_refused(run, tmp_path):
    out = run("--data-dir", str(tmp_path / "a"), "journal", "list", "--data-dir",
              str(tmp_path / "b"))  # fmt: skip
    assert out.code == 2
    assert "--data-dir given twice" in out.err


def test_top_level_option_on_a_command_without_it_is_refused(run):
    out = run("--host", "127.0.0.1:9", "card", "parse", ";4761739001010010=30121010000000000?")
    assert out.code == 2
    assert out.err == "error: --host does not apply to 'posemu card parse'\n"


@pytest.mark.parametrize("form", ["127.0.0.1:{p}", "tcp://127.0.0.1:{p}"])
def test_pay_takes_host_port_like_the_tui(run, tmp_path, closed_port, form):
    out = run("pay", "echo", "--host", form.format(p=closed_port), "--data-dir", str(tmp_path))
    assert out.code == 3, out.err  # connection refused, not "must start with tcp://"
    assert f"tcp://127.0.0.1:{closed_port}: connection refused" in out.err


@pytest.mark.parametrize("bad", ["udp://1.2.3.4:5", "localhost", "127.0.0.1:0", "h:99999"])
def test_bad_host_names_the_option_and_value(run, tmp_path, bad):
    out = run("pay", "echo", "--host", bad, "--data-dir", str(tmp_path))
    assert out.code == 2
    assert out.err.startswith(f"error: --host {bad!r}: ")


def test_tls_files_with_a_plain_tcp_host_are_refused(run, tmp_path, closed_port):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    out = run("pay", "echo", "--host", f"tcp://127.0.0.1:{closed_port}", "--tls-ca", str(ca),
              "--data-dir", str(tmp_path))  # fmt: skip
    assert out.code == 2
    assert "--tls-ca given but the host" in out.err
    embedded = run("pay", "echo", "--tls-ca", str(ca), "--data-dir", str(tmp_path))
    assert embedded.code == 2
    assert "--tls-ca given but the embedded host simulator is plain TCP" in embedded.err
    assert "plain TCP" in out.err


def test_timeout_error_names_the_option(run, tmp_path):
    out = run("pay", "echo", "--timeout", "0", "--data-dir", str(tmp_path))
    assert out.code == 2
    assert out.err == "error: --timeout 0: give 0.05 to 120 seconds\n"
    assert "connect_timeout" not in out.err


def test_json_error_is_a_json_object_on_stdout(run, tmp_path):
    out = run("pay", "sale", "--amount", "abc", "--card", "visa-approve", "--json",
              "--data-dir", str(tmp_path))  # fmt: skip
    assert out.code == 2
    body = out.json
    assert body == {"ok": False, "error": body["error"], "error_kind": "input", "exit_status": 2}
    assert out.err == f"error: {body['error']}\n"
    missing = run("journal", "show", "7", "--json", "--data-dir", str(tmp_path / "none"))
    assert missing.code == 1
    assert missing.json["ok"] is False


def test_embedded_host_timeout_does_not_show_its_random_port(run, tmp_path):
    # x.68: the simulator answers late; the terminal gives up after --timeout and reverses.
    out = run("pay", "sale", "--amount", "2.68", "--card", "mc-approve", "--timeout", "0.3",
              "--data-dir", str(tmp_path))  # fmt: skip
    assert out.code == 3
    assert "127.0.0.1:" not in out.err
    assert "embedded host simulator" in out.err


def test_amounts_one_representation_in_pay_and_journal(run, tmp_path):
    sale = run("pay", "sale", "--amount", "12.34", "--card", "visa-approve", "--json",
               "--data-dir", str(tmp_path)).json  # fmt: skip
    entry = run("journal", "show", str(sale["journal_id"]), "--json", "--data-dir", str(tmp_path))
    body = entry.json
    for key in ("amount", "amount_minor", "currency"):
        assert body[key] == sale[key], key
    assert (sale["amount"], sale["amount_minor"], sale["currency"]) == ("12.34", 1234, "156")


def test_tui_without_a_terminal_says_so_and_exits(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POSEMU_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "terminal.cli.main"], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "needs an interactive terminal" in proc.stderr
    assert "\x1b[" not in proc.stdout


def test_bad_wallet_code_is_explained_not_incorrect_padding(run, tmp_path):
    code = "hQVDUFYwMWE"  # cut off
    out = run("pay", "qr-cpm", "--amount", "1", "--code", code, "--data-dir", str(tmp_path))
    assert out.code == 2
    assert out.err.startswith("error: --code: not a usable payment code")
    assert "Incorrect padding" not in out.err


@pytest.mark.parametrize(
    "argv", [["host", "--listen", "127.0.0.1:0"], ["iso8583", "decode", "0800"]]
)
def test_missing_dialect_file_is_named_by_every_command(run, argv):
    out = run(*argv, "--spec", "no/such-dialect.toml")
    assert out.code == 2
    assert "--spec no/such-dialect.toml: no such dialect file" in out.err
    assert "unknown dialect" not in out.err
