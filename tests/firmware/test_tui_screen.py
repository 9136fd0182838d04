"""The TUI firmware screen: a real update from the loopback repository, its bar and result."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import App
from textual.widgets import Label, ProgressBar

from firmware_update import Updater
from terminal.tui.screens.firmware import FirmwareScreen
from tests.firmware.helpers import Repo


def starter(data_dir: Path, url: str, seen: list[str]):
    async def start(progress):
        def relay(state, done, total):
            seen.append(state.value)
            progress(state.value, done, total)

        outcome = await Updater(data_dir, url, progress=relay).run()
        return outcome.ok, outcome.message

    return start


class _Host(App[None]):
    def __init__(self, screen: FirmwareScreen) -> None:
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


async def _settle(pilot, screen: FirmwareScreen) -> None:
    for _ in range(500):
        await asyncio.sleep(0.02)
        if not screen.busy:
            return
    raise AssertionError("the update never finished")


async def test_update_from_the_screen_fills_the_bar_and_shows_the_result(
    repo: Repo, data_dir: Path
):
    repo.publish("1.1.0")
    seen: list[str] = []
    screen = FirmwareScreen(starter(data_dir, repo.url, seen), running="0.0.0")
    async with _Host(screen).run_test() as pilot:
        await pilot.press("u")
        await _settle(pilot, screen)
        assert str(screen.query_one("#fw-result", Label).content) == "committed 1.1.0 (was 0.0.0)"
        bar = screen.query_one("#fw-progress", ProgressBar)
        assert bar.progress == bar.total
        assert "downloading" in seen


async def test_escape_backs_out(tmp_path: Path):
    async def never(progress):
        raise AssertionError("no update was asked for")

    screen = FirmwareScreen(never)
    async with _Host(screen).run_test() as pilot:
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, FirmwareScreen)


async def test_a_refusal_is_shown_in_one_line(repo: Repo, data_dir: Path):
    target = repo.publish("1.1.0")
    target.write_bytes(b"tampered" + target.read_bytes()[8:])
    screen = FirmwareScreen(starter(data_dir, repo.url, []))
    async with _Host(screen).run_test() as pilot:
        await pilot.press("u")
        await _settle(pilot, screen)
        result = screen.query_one("#fw-result", Label)
        assert str(result.content).startswith("refused (hash-mismatch)")
        assert result.has_class("-failed")


async def test_posemu_tui_with_a_firmware_url_updates_the_running_terminal(
    repo: Repo, tmp_path: Path
):
    from firmware_update import trust
    from terminal.cli.tui_cmd import TuiRuntime, interactive_rules
    from tests.tui.helpers import FAST_CONFIG, drive, wait_for

    data = tmp_path / "term"
    trust(data, repo.root_json())
    repo.publish("1.1.0", footer="Thank you for shopping!")
    tui = TuiRuntime(
        data_dir=data,
        config=FAST_CONFIG,
        rules=interactive_rules(),
        signon_at_start=False,
        firmware_url=repo.url,
    )
    services = tui.open()
    try:
        async with drive(services) as (app, pilot):
            app.action_open_screen("firmware")
            await wait_for(pilot, lambda: isinstance(app.screen, FirmwareScreen))
            screen = app.screen
            await pilot.press("u")
            await wait_for(pilot, lambda: not screen.busy, timeout=30)
            result = str(screen.query_one("#fw-result", Label).content)
            assert result == "committed 1.1.0 (was 0.0.0)"
            footer = tui.runtime.service.config.receipt_footer
            assert footer == ("Thank you for shopping!",)
    finally:
        tui.close()
