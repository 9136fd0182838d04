"""Settings file, environment and options: validated, with their sources, keys as KCV only."""

from __future__ import annotations

import pytest

from terminal.settings import SettingsError, load_settings, save_settings, settings_path

TMK = "0123456789ABCDEFFEDCBA9876543210"


def test_config_set_show_path(run, tmp_path):
    d = str(tmp_path)
    out = run("config", "set", "--data-dir", d, "terminal_id", "TERM0042",
              "mid", "MERCH0000000042", "merchant_name", "ACME TEST", "merchant_city", "BANGKOK",
              "currency", "THB", "tmk", TMK, "receipt_header", "1 Main St|Tel 555",
              "receipt_footer", "Thanks")  # fmt: skip
    assert out.code == 0, out.err
    assert run("config", "path", "--data-dir", d).out.strip() == str(tmp_path / "settings.toml")
    show = run("config", "show", "--data-dir", d, "--json").json["settings"]
    assert show["terminal_id"] == {"value": "TERM0042", "source": str(settings_path(d))}
    assert show["currency"]["value"] == "764"
    assert show["host"] == {"value": "embedded host simulator", "source": "default"}
    text = run("config", "show", "--data-dir", d).out
    assert TMK not in text
    assert TMK.lower() not in text
    assert "KCV " in show["tmk"]["value"]


def test_settings_reach_the_wire_and_the_slip(run, tmp_path):
    d = str(tmp_path)
    assert run("config", "set", "--data-dir", d, "terminal_id", "TERM0042",
               "receipt_footer", "THANK YOU FOR TESTING").code == 0  # fmt: skip
    sale = run("pay", "sale", "--amount", "1.00", "--card", "visa-approve", "--json",
               "--data-dir", d).json  # fmt: skip
    assert sale["approved"], sale
    assert "TERM0042" in sale["receipt"]
    assert "THANK YOU FOR TESTING" in sale["receipt"]
    entry = run("journal", "show", str(sale["journal_id"]), "--json", "--data-dir", d).json
    assert entry["terminal_id"] == "TERM0042"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("connect_timeout", "0", "config set: connect_timeout = 0.0: must be between 0.05 and 60"),
        ("currency", "XYZ", 'config set: currency = "XYZ": unknown ISO 4217 currency'),
        ("tmk", "12", "config set: tmk = <hidden>: must be 32 or 48 hex digits"),
        ("terminal_id", "TOOLONG123", 'terminal_id = "TOOLONG123": must be 1-8 printable'),
        ("host", "ftp://x:1", "use HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT"),
        ("colour", "red", "unknown setting 'colour'"),
    ],
)
def test_bad_settings_are_refused_in_user_terms(run, tmp_path, name, value, message):
    out = run("config", "set", "--data-dir", str(tmp_path), name, value)
    assert out.code == 2
    assert message in out.err, out.err
    assert not (tmp_path / "settings.toml").exists()  # nothing half-written


def test_broken_settings_file_names_the_file_and_setting(run, tmp_path):
    (tmp_path / "settings.toml").write_text('currency = "ABC"\n', encoding="utf-8")
    out = run("pay", "echo", "--data-dir", str(tmp_path))
    assert out.code == 2
    assert out.err.startswith(f'error: {tmp_path / "settings.toml"}: currency = "ABC"')
    (tmp_path / "settings.toml").write_text("terminal_id = \n", encoding="utf-8")
    assert "not valid TOML" in run("pay", "echo", "--data-dir", str(tmp_path)).err


def test_environment_gives_data_dir_and_host(run, tmp_path, monkeypatch, closed_port):
    monkeypatch.setenv("POSEMU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POSEMU_HOST", f"127.0.0.1:{closed_port}")
    out = run("pay", "echo")
    assert out.code == 3
    assert f"127.0.0.1:{closed_port}" in out.err
    assert (tmp_path / "terminal.db").exists()
    show = run("config", "show", "--json").json["settings"]
    assert show["host"]["source"] == "environment POSEMU_HOST"


def test_precedence_option_env_file_default(tmp_path):
    save_settings(tmp_path, {"host": "10.0.0.1:1000", "terminal_id": "FILE0001"})
    env = {"POSEMU_HOST": "10.0.0.2:2000"}
    config, sources = load_settings(tmp_path, env=env)
    assert (config.host, sources["host"]) == ("tcp://10.0.0.2:2000", "environment POSEMU_HOST")
    assert sources["terminal_id"] == str(tmp_path / "settings.toml")
    config, sources = load_settings(tmp_path, env=env, overrides={"host": ("tls://h:3", "--host")})
    assert (config.host, sources["host"]) == ("tls://h:3", "--host")
    save_settings(tmp_path, {"host": None})
    assert load_settings(tmp_path, env={})[1]["host"] == "default"


def test_save_is_atomic_and_keeps_other_settings(tmp_path):
    save_settings(tmp_path, {"merchant_name": 'QUOTE " AND \\ SLASH'})
    save_settings(tmp_path, {"terminal_id": "T2"})
    config, _ = load_settings(tmp_path, env={})
    assert config.merchant_name == 'QUOTE " AND \\ SLASH'
    assert config.terminal_id == "T2"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.toml"]
    with pytest.raises(SettingsError):
        save_settings(tmp_path, {"receipt_width": "33"})
    assert load_settings(tmp_path, env={})[0].terminal_id == "T2"


def test_a_bad_value_in_the_file_can_be_fixed_from_the_command_line(run, tmp_path):
    (tmp_path / "settings.toml").write_text('currency = "ABC"\nterminal_id = "T1"\n')
    assert run("config", "show", "--data-dir", str(tmp_path)).code == 2  # names the problem
    assert run("config", "unset", "currency", "--data-dir", str(tmp_path)).code == 0
    show = run("config", "show", "--data-dir", str(tmp_path), "--json").json["settings"]
    assert show["currency"]["source"] == "default"
    assert show["terminal_id"]["value"] == "T1"
