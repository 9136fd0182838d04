"""Helpers of the TUI tests: run the App headless and wait on its state, never on a clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from textual.pilot import Pilot
from textual.widgets import OptionList

from terminal.cli.tui_cmd import TuiRuntime
from terminal.config import TerminalConfig
from terminal.core.testcards import CARDS
from terminal.tui.app import PosApp
from terminal.tui.outcome import Outcome
from terminal.tui.screens import CardScreen, ResultScreen
from terminal.tui.services import PosServices

SIZE = (100, 40)
#: A terminal that polls QR orders often, so QR tests take milliseconds, not seconds.
FAST_CONFIG = TerminalConfig(qr_poll_interval=0.05, response_timeout=3.0)


class Harness:
    """The runtime's pieces a test may want besides the App."""

    def __init__(self, runtime: TuiRuntime, services: PosServices) -> None:
        self.runtime = runtime
        self.services = services

    @property
    def journal(self) -> Any:
        assert self.runtime.store is not None
        return self.runtime.store.journal


@asynccontextmanager
async def drive(services: PosServices, **kwargs: Any) -> AsyncIterator[tuple[PosApp, Pilot]]:
    app = PosApp(services, **kwargs)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)  # type: ignore[attr-defined]
        yield app, pilot


async def wait_for(pilot: Pilot, predicate: Callable[[], object], timeout: float = 8.0) -> None:
    """Let the App run until ``predicate()`` is true; fail with a clear message if it never is."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        await pilot.pause(0.02)


async def type_amount(pilot: Pilot, digits: str) -> None:
    await pilot.press(*digits)


async def wait_result(app: PosApp, pilot: Pilot, count: int = 1) -> Outcome:
    """The ``count``-th outcome shown, once its result screen is on top and mounted (a
    screen is on top as soon as it is switched to, its widgets exist once it is mounted)."""
    await wait_for(
        pilot,
        lambda: (
            len(app.outcomes) >= count
            and isinstance(app.screen, ResultScreen)
            and app.screen.is_mounted
        ),
    )
    return app.outcomes[count - 1]


async def pick_card(app: PosApp, pilot: Pilot, name: str) -> None:
    """On the card screen, highlight the named test card and press Enter."""
    await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
    options = app.screen.query_one("#cards", OptionList)
    options.highlighted = [card.name for card in CARDS].index(name)
    await pilot.pause()
    await pilot.press("enter")


def rows(outcome: Outcome) -> dict[str, str]:
    return dict(outcome.rows)


def fast(config: TerminalConfig = FAST_CONFIG, **changes: Any) -> TerminalConfig:
    return replace(config, **changes)
