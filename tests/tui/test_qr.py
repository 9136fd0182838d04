"""QR payments: the merchant-presented code the customer scans (paid, declined, walked
away from), and the consumer-presented wallet code the cashier scans."""

from __future__ import annotations

from textual.widgets import Input, Label

from terminal.core.journal import JournalQuery, TxnState
from terminal.core.qr import parse_mpm
from terminal.tui.app import PosApp
from terminal.tui.screens import HomeScreen, QrCpmScreen, QrMpmScreen
from terminal.tui.screens.qr_cpm import SAMPLE_WALLET_CODE
from terminal.tui.widgets import QrView
from tests.tui.helpers import drive, rows, type_amount, wait_for, wait_result


async def _show_qr(app, pilot, digits: str) -> QrMpmScreen:
    await type_amount(pilot, digits)
    await pilot.press("q")
    await wait_for(pilot, lambda: isinstance(app.screen, QrMpmScreen))
    return app.screen


async def test_mpm_shows_a_scannable_code_and_the_customer_pays(harness):
    async with drive(harness.services) as (app, pilot):
        screen = await _show_qr(app, pilot, "8800")
        view = screen.query_one(QrView)
        payload = parse_mpm(view.payload)  # what the customer's wallet reads
        assert str(payload.amount) == "88.00"
        assert screen.order_ref
        assert view.size.height >= 25  # half blocks: two module rows per line, not tiny
        assert "Expires in" in str(screen.query_one("#qr-countdown").render())
        await pilot.press("p")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "APPROVED"
        assert rows(outcome)["Order"] == screen.order_ref
        assert "QR SALE" in outcome.receipt_text


async def test_mpm_customer_declines(harness):
    async with drive(harness.services) as (app, pilot):
        await _show_qr(app, pilot, "1500")
        await pilot.press("x")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "DECLINED"
        assert outcome.message.startswith("05")


async def test_mpm_customer_walks_away_and_the_order_is_reversed(harness):
    async with drive(harness.services) as (app, pilot):
        screen = await _show_qr(app, pilot, "1600")
        await pilot.press("n")
        assert screen.cancelling
        outcome = await wait_result(app, pilot)
        assert outcome.title == "CANCELLED"
        assert outcome.message == "The customer walked away: the QR order is cancelled"
        assert outcome.reversal.startswith("Reversal delivered")
        assert not app.screen.check_action("print_customer", ())  # no slip, no copy offered
        assert "customer copy" not in str(app.screen.query_one("#result-help").render())
        [entry] = harness.journal.find(JournalQuery(amount=1600))
        assert entry.state is TxnState.REVERSED


async def test_cpm_numeric_wallet_code(harness):
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "4200")
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, QrCpmScreen))
        field = app.screen.query_one("#cpm-code", Input)
        assert field.password  # a payment code is a bearer credential
        await pilot.press("enter")  # nothing typed yet: asked for the code, in plain words
        assert isinstance(app.screen, QrCpmScreen)
        assert any("payment code first" in n.message for n in app._notifications)
        await pilot.press("1", "2", "3", "enter")  # too short: refused before sending
        assert isinstance(app.screen, QrCpmScreen)
        field.value = ""
        await pilot.press(*SAMPLE_WALLET_CODE, "enter")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "APPROVED"
        assert outcome.result.kind.value == "qr-pay"
        assert SAMPLE_WALLET_CODE not in outcome.receipt_text


async def test_qr_needs_an_amount_first(harness):
    async with drive(harness.services) as (app, pilot):
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert any("Type the amount" in n.message for n in app._notifications)


async def _qr_at(harness, size):
    from terminal.tui.app import PosApp

    app = PosApp(harness.services)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)
        screen = await _show_qr(app, pilot, "1234")
        await pilot.pause()
        view = screen.query_one(QrView)
        return view.too_small, view.needed, view.region, screen.size, view.lines, str(view.render())


async def test_mpm_at_80x24_says_the_window_is_too_small(harness):
    too_small, needed, _, _, _, shown = await _qr_at(harness, (80, 24))
    assert too_small
    assert f"it needs {needed[0]} x {needed[1]} cells" in shown
    assert "000201" in shown  # the payload is still there to copy


async def test_mpm_at_100x32_fits_whole_with_its_quiet_zone(harness):
    too_small, (cols, rows_needed), region, size, lines, _ = await _qr_at(harness, (100, 32))
    assert not too_small
    assert (region.width, region.height) == (cols, rows_needed)
    assert region.y >= 1
    assert region.bottom <= size.height - 1  # above the footer: nothing cut off
    assert lines[0].strip() == ""  # 4 light modules: two blank lines top and bottom
    assert lines[1].strip() == ""
    assert all(line[:4].strip() == "" for line in lines)


async def test_mpm_cancelled_by_the_cashier_says_so(harness):
    async with drive(harness.services) as (app, pilot):
        await _show_qr(app, pilot, "1700")
        await pilot.press("escape")
        outcome = await wait_result(app, pilot)
        assert outcome.message == "Cancelled by the cashier"


async def test_mpm_side_panel_is_not_cut_off_at_80x24(harness):
    """At 80x24 the code does not fit; the notice and the side panel share the width, and
    the order reference and the state line wrap inside the panel instead of running off."""
    app = PosApp(harness.services)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)  # type: ignore[attr-defined]
        screen = await _show_qr(app, pilot, "200")
        await pilot.pause()
        side = screen.query_one("#qr-side")
        assert side.display
        for label in side.query(Label):
            text = str(label.render())
            assert label.region.right <= side.content_region.right, (label.id, text)


async def test_result_message_wraps_at_80x24(harness):
    """'The customer walked away: the QR order is cancelled' is wider than the result
    column of an 80x24 window; it wraps there instead of losing 'is cancelled'."""
    app = PosApp(harness.services)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)  # type: ignore[attr-defined]
        await _show_qr(app, pilot, "300")
        await pilot.press("n")
        await wait_result(app, pilot)
        await pilot.pause()
        main = app.screen.query_one("#result-main")
        for label in main.query(Label):
            assert label.region.right <= main.content_region.right, str(label.render())
