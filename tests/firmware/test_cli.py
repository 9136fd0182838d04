"""``posemu firmware ...`` as a newcomer uses it: the README loop, then bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_update.server import RepoServer
from terminal.cli.main import main
from terminal.config import TerminalConfig
from terminal.firmware import apply_firmware


@pytest.fixture
def publisher(tmp_path: Path) -> Path:
    assert main(["firmware", "keygen", "--out", str(tmp_path / "keys")]) == 0
    fw = tmp_path / "fw"
    fw.mkdir()
    (fw / "app.bin").write_bytes(b"firmware image")
    (fw / "CHANGELOG.md").write_text("## 1.1.0\n- footer\n")
    return tmp_path


def publish(tmp: Path, version: str, *extra: str) -> int:
    return main(
        [
            "firmware",
            "publish",
            "--repo",
            str(tmp / "repo"),
            "--keys",
            str(tmp / "keys"),
            "--version",
            version,
            *extra,
            str(tmp / "fw"),
        ]
    )


def test_publish_serve_trust_update_status_loop(publisher: Path, capsys):
    tmp = publisher
    assert publish(tmp, "1.1.0", "--footer", "Thank you for shopping!", "--header", "Tel 555") == 0
    data = tmp / "term"
    root = tmp / "repo" / "metadata" / "1.root.json"
    assert main(["firmware", "trust", "--data-dir", str(data), str(root)]) == 0
    server = RepoServer(tmp / "repo")
    server.start()
    try:
        capsys.readouterr()
        code = main(["firmware", "update", "--repo-url", server.url, "--data-dir", str(data)])
        assert code == 0
        assert capsys.readouterr().out == "committed 1.1.0 (was 0.0.0)\n"
        code = main(
            ["firmware", "update", "--repo-url", server.url, "--data-dir", str(data), "--json"]
        )
        assert code == 0
        result = json.loads(capsys.readouterr().out)
        assert result["ok"] is True
        assert result["state"] == "idle"
        assert result["running"] == "1.1.0"
        assert publish(tmp, "1.0.9") == 0  # a signed downgrade
        capsys.readouterr()
        code = main(["firmware", "update", "--repo-url", server.url, "--data-dir", str(data)])
        err = capsys.readouterr().err
        assert code == 1
        assert err.startswith("refused (downgrade): 1.0.9 is older")
        assert err.count("\n") == 1
    finally:
        server.stop()
    assert main(["firmware", "status", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "running   1.1.0 (slot B)" in out
    assert main(["firmware", "status", "--data-dir", str(data), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["slots"]["b"]["version"] == "1.1.0"
    assert status["reason"] == "downgrade"
    # the visible change: the terminal core starts with the package's receipt footer
    config = apply_firmware(TerminalConfig(), data)
    assert config.receipt_footer == ("Thank you for shopping!",)
    assert config.receipt_header == ("Tel 555",)


def test_without_firmware_the_config_is_untouched(tmp_path: Path):
    assert apply_firmware(TerminalConfig(), tmp_path) == TerminalConfig()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--version", "1.x"], "--version: bad version '1.x'"),
        (["--version", "1.0.0", "--min-version", "2.0.0"], "--min-version 2.0.0 is newer"),
        (["--version", "1.0.0", "--models", " , "], "--models: expected"),
        (["--version", "1.0.0", "--footer", "x" * 60], "receipt_footer: at most 8"),
    ],
)
def test_publish_bad_arguments(publisher: Path, capsys, extra, message):
    args = ["firmware", "publish", "--repo", str(publisher / "repo")]
    args += ["--keys", str(publisher / "keys"), *extra, str(publisher / "fw")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not (publisher / "repo").exists()


def test_publish_without_keys_or_payload(tmp_path: Path, capsys):
    (tmp_path / "f.bin").write_bytes(b"x")
    args = ["firmware", "publish", "--repo", str(tmp_path / "r"), "--keys", str(tmp_path / "k")]
    assert main([*args, "--version", "1.0.0", str(tmp_path / "f.bin")]) == 2
    assert "no such key (run `posemu firmware keygen`)" in capsys.readouterr().err
    assert main([*args, "--version", "1.0.0", str(tmp_path / "missing")]) == 2
    assert "PAYLOAD" in capsys.readouterr().err


def test_keygen_never_overwrites(publisher: Path, capsys):
    before = (publisher / "keys" / "root.pem").read_bytes()
    assert main(["firmware", "keygen", "--out", str(publisher / "keys")]) == 2
    assert "keys already exist" in capsys.readouterr().err
    assert (publisher / "keys" / "root.pem").read_bytes() == before
    assert (publisher / "keys" / "root.pem").stat().st_mode & 0o077 == 0


def test_publish_same_version_twice_is_refused(publisher: Path, capsys):
    assert publish(publisher, "1.0.0") == 0
    assert publish(publisher, "1.0.0") == 2
    assert "already published" in capsys.readouterr().err


def test_trust_refuses_what_is_not_a_self_signed_root(publisher: Path, tmp_path: Path, capsys):
    assert publish(publisher, "1.0.0") == 0
    data = str(tmp_path / "term")
    timestamp = publisher / "repo" / "metadata" / "timestamp.json"
    assert main(["firmware", "trust", "--data-dir", data, str(timestamp)]) == 1
    assert "not root" in capsys.readouterr().err
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{")
    assert main(["firmware", "trust", "--data-dir", data, str(garbage)]) == 1
    assert "not usable root metadata" in capsys.readouterr().err
    root = json.loads((publisher / "repo" / "metadata" / "1.root.json").read_text())
    root["signed"]["expires"] = "2099-01-01T00:00:00Z"  # tampered: signature no longer matches
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(root))
    assert main(["firmware", "trust", "--data-dir", data, str(forged)]) == 1
    assert "refused (bad-signature)" in capsys.readouterr().err
    assert main(["firmware", "trust", "--data-dir", data, str(tmp_path / "none.json")]) == 2


def test_update_bad_arguments_and_unprovisioned(tmp_path: Path, capsys):
    data = str(tmp_path / "term")
    assert main(["firmware", "update", "--repo-url", "ftp://x", "--data-dir", data]) == 2
    assert "--repo-url 'ftp://x'" in capsys.readouterr().err
    url = "http://127.0.0.1:9"
    assert main(["firmware", "update", "--repo-url", url, "--data-dir", data]) == 1
    assert "refused (not-provisioned)" in capsys.readouterr().err
    args = ["firmware", "update", "--repo-url", url, "--data-dir", data, "--health-timeout", "0"]
    assert main(args) == 2


def test_serve_refuses_a_directory_that_is_not_a_repository(tmp_path: Path, capsys):
    assert main(["firmware", "serve", "--repo", str(tmp_path), "--listen", "127.0.0.1:0"]) == 2
    assert "not a firmware repository" in capsys.readouterr().err
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "root.json").write_text("{}")
    assert main(["firmware", "serve", "--repo", str(tmp_path), "--listen", "nonsense"]) == 2
    assert "--listen must be HOST:PORT" in capsys.readouterr().err


def test_serve_on_a_busy_port_names_the_address(publisher: Path, capsys):
    import socket

    assert publish(publisher, "1.1.0") == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        listen = f"127.0.0.1:{busy.getsockname()[1]}"
        code = main(["firmware", "serve", "--repo", str(publisher / "repo"), "--listen", listen])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: --listen {listen}: cannot listen (")
    assert err.count("\n") == 1
