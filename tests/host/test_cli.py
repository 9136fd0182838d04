"""``posemu host`` as a real subprocess: start, serve, stop on a signal, configuration errors."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from iso8583 import get_spec
from terminal.cli.host_cmd import parse_listen
from terminal.core.testcards import get_card
from tests.host.client import HostClient

ROOT = Path(__file__).resolve().parents[2]
_READY = re.compile(r"^listening on (\S+):(\d+) \(spec (\S+)\)$")


def _host_command() -> list[str]:
    """``posemu host`` through the main entry point once it is registered there."""
    from terminal.cli.main import build_parser

    subparsers = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    if any("host" in a.choices for a in subparsers):
        return [sys.executable, "-m", "terminal.cli.main", "host"]
    return [sys.executable, "-m", "terminal.cli.host_cmd"]


class HostProcess:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*_host_command(), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        line = self.proc.stdout.readline().strip()  # blocks until ready (or exit)
        match = _READY.match(line)
        if not match:
            self.proc.kill()
            self.proc.wait(5)
            self._drain.join(5)
            raise AssertionError(f"no ready line, got {line!r}; stderr: {''.join(self.stderr)}")
        self.address = (match[1], int(match[2]))
        self.spec_name = match[3]

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(10)
        self._drain.join(5)
        return code


@pytest.fixture
def running_host() -> Iterator[HostProcess]:
    host = HostProcess("--listen", "127.0.0.1:0", "--spec", "iso87binary")
    yield host
    if host.proc.poll() is None:
        host.proc.kill()
        host.proc.wait(5)


def test_serves_logs_masked_and_stops_on_sigterm(running_host: HostProcess):
    assert running_host.address[0] == "127.0.0.1"
    assert running_host.address[1] > 0
    assert running_host.spec_name == "iso87binary"
    card = get_card("debit-pin")
    with HostClient(running_host.address, get_spec("iso87binary")) as c:
        c.signon()
        assert c.sale(1000, card, pin="1234")[1].response_code == "00"
        assert c.sale(1051)[1].response_code == "51"
        assert running_host.stop(signal.SIGTERM) == 0
    log = "".join(running_host.stderr)
    assert "520082******8210" in log
    assert card.pan not in log
    assert len([line for line in running_host.stderr if " sale " in line]) == 2


def test_sigint_also_exits_cleanly_with_a_client_connected(running_host: HostProcess):
    with HostClient(running_host.address, get_spec("iso87binary")) as c:
        c.signon()
        assert running_host.stop(signal.SIGINT) == 0
        assert c.closed_by_host()


def test_rules_file_is_used(tmp_path: Path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[cents]\n"37" = "91"\n')
    host = HostProcess("--listen", "127.0.0.1:0", "--spec", "cup", "--rules", str(rules))
    try:
        with HostClient(host.address, get_spec("cup")) as c:
            c.signon()
            assert c.sale(1037)[1].response_code == "91"
    finally:
        assert host.stop() == 0


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_host_command(), *args], cwd=ROOT, capture_output=True, text=True, timeout=30
    )


def test_bad_rules_file_exits_2_naming_file_and_key(tmp_path: Path):
    rules = tmp_path / "rules.toml"
    rules.write_text('late_delay = "soon"\n')
    result = _run("--listen", "127.0.0.1:0", "--rules", str(rules))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert str(rules) in lines[0]
    assert "'late_delay'" in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--spec", "nosuchdialect"), "unknown dialect"),
        (("--listen", "localhost"), "--listen"),
        (("--tmk", "XYZ"), "--tmk"),
        (("--rules", "/nonexistent/rules.toml"), "cannot read"),
    ],
)
def test_configuration_errors_exit_2(args, needle):
    base = {"--listen": "127.0.0.1:0"}
    argv = [*args] if "--listen" in args else [*args, "--listen", base["--listen"]]
    result = _run(*argv)
    assert result.returncode == 2
    assert needle in result.stderr
    assert result.stderr.count("\n") == 1


def test_parse_listen():
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("[::1]:8583") == ("::1", 8583)
    for bad in ("8583", ":8583", "host:", "host:99999", "host:x"):
        with pytest.raises(ValueError, match="--listen"):
            parse_listen(bad)
