"""The TUI's trace screen (key t) and settings screen (devices, key s)."""

from __future__ import annotations

from textual.widgets import DataTable, Log

from terminal.core.testcards import CARDS
from terminal.tui.screens import HomeScreen
from terminal.tui.screens.devices import DevicesScreen
from terminal.tui.screens.settings import SettingsScreen
from terminal.tui.screens.trace import TraceScreen
from tests.tui.helpers import drive, pick_card, type_amount, wait_for, wait_result


async def test_trace_screen_toggles_and_shows_masked_messages(harness):
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "1234")
        await pilot.press("enter")
        await pick_card(app, pilot, "visa-approve")
        await wait_result(app, pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        text = "\n".join(app.screen.query_one("#trace-log", Log).lines)
        assert ">> sent 0200 sale" in text
        assert "<< received 0210 sale" in text
        assert " ms at " in text
        for card in CARDS:
            assert card.pan not in text
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))


async def test_settings_screen_shows_values_and_sources(make_runtime):
    from terminal.settings import describe

    harness = make_runtime()
    harness.services.settings = describe(harness.services.config, {"terminal_id": "settings.toml"})
    async with drive(harness.services) as (app, pilot):
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DevicesScreen))
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        table = app.screen.query_one("#settings-table", DataTable)
        rows = {table.get_row_at(i)[0]: table.get_row_at(i) for i in range(table.row_count)}
        assert rows["terminal_id"][2] == "settings.toml"
        assert rows["tmk"][1].startswith("KCV ")
        assert rows["merchant_name"][2] == "default"
