"""The ``posemu`` CLI run in-process (``main(argv)``) with a clean environment."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from terminal.cli.main import main
from tests.engine.clirun import Run as Out  # an in-process run has the same result shape


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("POSEMU_HOST", "POSEMU_DATA_DIR", "POSEMU_SPEC"):
        monkeypatch.delenv(name, raising=False)
    # Never touch the real per-user data directory.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Out]:
    def _run(*argv: str) -> Out:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Out(code, captured.out, captured.err)

    return _run


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
