"""The real command in a real terminal: ``posemu tui`` under tmux, a sale typed with
``send-keys``, APPROVED and the masked PAN read back with ``capture-pane``.

Skipped when tmux is missing (``make test`` installs it through .ci/setup-system.sh).
Uses its own tmux server socket, so no user session is touched.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from terminal.cli.main import build_parser
from terminal.cli.tui_cmd import run_tui

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (make test installs it)"
)

ROOT = Path(__file__).resolve().parents[2]


def _command(data_dir: Path) -> list[str]:
    """``posemu tui`` through the console entry point once it knows the subcommand, else
    the same command module run directly (identical options)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            known = build_parser().parse_args(["tui"]).func is run_tui
    except SystemExit:  # an entry point that does not know ``tui`` yet
        known = False
    if known:
        base = [sys.executable, "-m", "terminal.cli.main", "tui"]
    else:
        base = [sys.executable, "-m", "terminal.cli.tui_cmd"]
    return [*base, "--data-dir", str(data_dir), "--theme", "dark"]


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "pos")

    def wait_for(self, *texts: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts} not on screen within {timeout} s:\n{screen}")
            time.sleep(0.1)


def test_posemu_tui_sale_in_tmux(tmp_path):
    tmux = Tmux(f"posemu-test-{os.getpid()}")
    command = " ".join(f"'{part}'" for part in _command(tmp_path / "data"))
    env = f"cd '{ROOT}' && PYTHONPATH='{ROOT}' "
    tmux.run("new-session", "-d", "-s", "pos", "-x", "100", "-y", "32", f"{env}{command}")
    try:
        tmux.wait_for("type the amount")
        tmux.run("send-keys", "-t", "pos", "1", "2", "3", "4")
        tmux.run("send-keys", "-t", "pos", "Enter")
        tmux.wait_for("present a card", "visa-approve")
        tmux.run("send-keys", "-t", "pos", "Enter")  # the first card: visa-approve
        screen = tmux.wait_for("APPROVED", "476173******0010")
        assert "4761739001010010" not in screen
        assert "CNY 12.34" in screen
        tmux.run("send-keys", "-t", "pos", "C-q")
    finally:
        tmux.run("kill-server")
