"""Keyboard-first navigation: Escape backs out of every screen, the footer shows the keys,
the command palette offers every menu action, and the theme toggles light/dark."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Footer

from terminal.tui.app import PALETTE_COMMANDS, PosCommands
from terminal.tui.screens import (
    CardScreen,
    DevicesScreen,
    HomeScreen,
    JournalScreen,
    MenuScreen,
    OperationForm,
    QrCpmScreen,
)
from terminal.tui.screens.menu import MENU
from tests.tui.helpers import drive, type_amount, wait_for, wait_result


async def _open_and_escape(app, pilot, keys, screen_type, back_to=HomeScreen):
    await pilot.press(*keys)
    await wait_for(pilot, lambda: isinstance(app.screen, screen_type))
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, back_to))


async def test_escape_backs_out_of_every_screen(harness):
    async with drive(harness.services) as (app, pilot):
        await _open_and_escape(app, pilot, ["m"], MenuScreen)
        await _open_and_escape(app, pilot, ["j"], JournalScreen)
        await _open_and_escape(app, pilot, ["d"], DevicesScreen)
        await type_amount(pilot, "500")
        await _open_and_escape(app, pilot, ["enter"], CardScreen)
        await _open_and_escape(app, pilot, ["w"], QrCpmScreen)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen))
        for key in ("v", "r", "a", "c"):
            await _open_and_escape(app, pilot, [key], OperationForm, back_to=MenuScreen)
        await _open_and_escape(app, pilot, ["b"], CardScreen, back_to=MenuScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.home.amount == 500  # backing out loses nothing typed
        await pilot.press("escape")  # on home, Escape clears the amount
        assert app.home.amount == 0
        assert len(app.screen_stack) == 1
        assert app.outcomes == []


async def test_footer_shows_the_keys_of_each_screen(harness):
    async with drive(harness.services) as (app, pilot):

        def shown() -> set[str]:
            return {b.binding.description for b in app.active_bindings.values() if b.binding.show}

        assert {"Sale", "QR", "Scan", "Menu", "Journal", "Devices", "Theme"} <= shown()
        assert app.screen.query_one(Footer)
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen))
        assert {"Back", "Search", "Reprint", "Unprinted only"} <= shown()


async def test_theme_toggles_between_light_and_dark(harness):
    async with drive(harness.services) as (app, pilot):
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        assert not app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"
    async with drive(harness.services, theme="light") as (app, pilot):
        assert app.theme == "textual-light"


async def test_command_palette_offers_every_menu_action_and_runs_them(harness):
    async with drive(harness.services) as (app, pilot):
        started = {arg for _title, _help, method, arg in PALETTE_COMMANDS if method == "start"}
        assert {name for _key, name, _label, _text in MENU} <= started
        provider = PosCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        assert titles == [title for title, *_ in PALETTE_COMMANDS]

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"echo test")
        await pilot.pause(0.3)
        await pilot.press("enter")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "HOST OK"


async def test_sale_from_the_palette_without_an_amount_asks_for_one(harness):
    async with drive(harness.services) as (app, pilot):
        app.start("sale")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert any("Type the amount" in n.message for n in app._notifications)
