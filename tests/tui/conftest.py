"""Fixtures of the TUI tests: the real service against a real embedded host (real TCP).

Each test gets a fresh data directory and its own host simulator, closed after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iso8583.host.rules import Rules
from terminal.cli.tui_cmd import TuiRuntime, interactive_rules
from terminal.config import TerminalConfig
from tests.tui.helpers import FAST_CONFIG, Harness


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    """Build a runtime (embedded host + store + service); all are closed after the test."""
    opened: list[TuiRuntime] = []

    def make(*, config: TerminalConfig = FAST_CONFIG, rules: Rules | None = None) -> Harness:
        runtime = TuiRuntime(
            data_dir=tmp_path / f"data{len(opened)}",
            config=config,
            rules=rules or interactive_rules(),
            signon_at_start=False,
        )
        opened.append(runtime)
        return Harness(runtime, runtime.open())

    yield make
    for runtime in opened:
        runtime.close()


@pytest.fixture
def harness(make_runtime: Callable[..., Harness]) -> Harness:
    return make_runtime()
