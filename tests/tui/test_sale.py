"""Card sales through the whole UI against the real engine and host: typed amount, card
picked from the catalogue, PIN when the card wants one, result and printed receipt."""

from __future__ import annotations

from textual.widgets import Digits, Label

from terminal.core.journal import JournalQuery, TxnState
from terminal.tui.screens import CardScreen, HomeScreen, PinScreen, ResultScreen
from terminal.tui.widgets import ReceiptPane
from tests.tui.helpers import drive, pick_card, rows, type_amount, wait_for, wait_result


async def test_amount_is_typed_in_minor_units(harness):
    async with drive(harness.services) as (app, pilot):
        home = app.screen
        assert isinstance(home, HomeScreen)
        await type_amount(pilot, "1234")
        assert home.amount == 1234
        assert home.query_one("#amount", Digits).value == "12.34"
        await pilot.press("backspace")
        assert home.query_one("#amount", Digits).value == "1.23"
        await pilot.press("c")
        assert home.amount == 0
        assert home.query_one("#amount", Digits).value == "0.00"
        await pilot.click("#key-7")
        await pilot.click("#key-5")
        assert home.amount == 75


async def test_sale_approved_shows_auth_code_and_prints_the_merchant_copy(harness):
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "1000")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        await pick_card(app, pilot, "visa-approve")
        outcome = await wait_result(app, pilot)

        assert outcome.title == "APPROVED"
        assert outcome.message == f"Auth code {outcome.result.auth_code}"
        assert len(outcome.result.auth_code) == 6
        assert rows(outcome)["Card"] == "476173******0010"
        assert rows(outcome)["Amount"] == "CNY 10.00"
        screen = app.screen
        assert screen.query_one("#result-title", Label).has_class("-success")
        receipt = screen.query_one(ReceiptPane).text
        assert "APPROVED" in receipt
        assert "476173******0010" in receipt
        assert "4761739001010010" not in receipt
        assert app.home.amount == 0  # back to idle for the next customer

        entry = harness.journal.get(outcome.journal_id)
        assert entry.state is TxnState.APPROVED
        assert not entry.never_printed  # the emulated printer printed it

        await pilot.press("p")  # the customer copy, on request
        await wait_for(pilot, lambda: "CUSTOMER COPY" in screen.query_one(ReceiptPane).text)
        copies = {c.copy for c in harness.journal.get(outcome.journal_id).copies}
        assert copies == {"merchant", "customer"}

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))


async def test_sale_declined_51_shows_code_and_text(harness):
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "1551")
        await pilot.press("enter")
        await pick_card(app, pilot, "mc-approve")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "DECLINED"
        assert outcome.message.startswith("51 ")
        assert "insufficient" in outcome.message.lower()
        assert app.screen.query_one("#result-title", Label).has_class("-failure")
        [entry] = harness.journal.find(JournalQuery(amount=1551))
        assert entry.state is TxnState.DECLINED


async def test_pin_card_asks_for_a_masked_pin_and_forgets_it(harness):
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "2500")
        await pilot.press("enter")
        await pick_card(app, pilot, "debit-pin")
        await wait_for(pilot, lambda: isinstance(app.screen, PinScreen))
        pin_screen = app.screen
        await pilot.press("1", "2", "3")
        await pilot.click("#key-4")  # the clickable keypad types too
        assert pin_screen.masked == "****"
        shown = str(pin_screen.query_one("#pin-stars", Label).render())
        assert "1" not in shown
        assert "*" in shown
        await pilot.press("enter")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "APPROVED"
        assert len(pin_screen._pin) == 0  # handed over once, then gone
        entry = harness.journal.get(outcome.journal_id)
        assert entry.pin_verified

        await pilot.press("escape")
        await type_amount(pilot, "2500")
        await pilot.press("enter")
        await pick_card(app, pilot, "debit-pin")
        await wait_for(pilot, lambda: isinstance(app.screen, PinScreen))
        await pilot.press("9", "9", "9", "9", "enter")
        outcome = await wait_result(app, pilot, 2)
        assert outcome.title == "DECLINED"
        assert outcome.message.startswith("55")


async def test_short_pin_is_refused_and_escape_cancels_pin_entry(harness):
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "100")
        await pilot.press("enter")
        await pick_card(app, pilot, "debit-pin")
        await wait_for(pilot, lambda: isinstance(app.screen, PinScreen))
        await pilot.press("1", "2", "enter")
        assert isinstance(app.screen, PinScreen)  # 2 digits are not a PIN
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.outcomes == []
        assert harness.journal.find(JournalQuery()) == []


async def test_chip_card_swipe_is_refused_then_fallback_works(harness):
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "300")
        await pilot.press("enter")
        await pick_card(app, pilot, "chip-visa")
        await pilot.pause()
        assert isinstance(app.screen, CardScreen)  # insert the chip, says the notice
        await pilot.press("f")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "APPROVED"
        assert isinstance(app.screen, ResultScreen)


async def test_pasted_track_data_is_read_and_never_shown(harness):
    from terminal.core.testcards import get_card

    card = get_card("visa-approve")
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "700")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        await pilot.press("t")
        track = app.screen.query_one("#track")
        assert track.password
        track.value = card.track2()
        await pilot.press("enter")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "APPROVED"
        assert rows(outcome)["Card"] == card.masked_pan
