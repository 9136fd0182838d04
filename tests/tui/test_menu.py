"""The menu's operations end to end: void, refund, pre-auth and completion, balance,
settlement, sign-on and echo; plus a host that is down, which must read as a notice."""

from __future__ import annotations

from textual.widgets import Input

from terminal.core.journal import TxnState
from terminal.tui.app import PosApp
from terminal.tui.screens import HomeScreen, MenuScreen, OperationForm
from terminal.tui.screens.confirm import ConfirmScreen
from terminal.tui.widgets import AmountField
from tests.tui.helpers import drive, pick_card, rows, type_amount, wait_for, wait_result


async def _sale(app, pilot, digits: str, count: int):
    await type_amount(pilot, digits)
    await pilot.press("enter")
    await pick_card(app, pilot, "visa-approve")
    outcome = await wait_result(app, pilot, count)
    assert outcome.title == "APPROVED"
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
    return outcome


async def _menu(app, pilot, key: str) -> None:
    if not isinstance(app.screen, MenuScreen):
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen))
    await pilot.press(key)


async def _confirm(app, pilot, shows: str) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    screen = app.screen
    text = f"{screen.title_text}\n{screen.details}"
    assert shows in text, text
    await pilot.press("enter")


async def _fill_form(app, pilot, ref: str | None, amount: str | None) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, OperationForm))
    form = app.screen
    if ref is not None:
        form.query_one("#form-ref", Input).value = ref
    if amount is not None:
        field = form.query_one("#form-amount", AmountField)
        field.focus()
        await pilot.press("delete", *amount)
        assert field.minor == int(amount)
    await pilot.press("enter")


async def test_void_by_stan_and_partial_refund_by_rrn(harness):
    async with drive(harness.services) as (app, pilot):
        first = await _sale(app, pilot, "1000", 1)
        second = await _sale(app, pilot, "2000", 2)

        await _menu(app, pilot, "v")
        await _fill_form(app, pilot, str(int(first.result.stan)), None)  # "2" means 000002
        await _confirm(app, pilot, "CNY 10.00")
        void = await wait_result(app, pilot, 3)
        assert void.title == "APPROVED"
        assert void.result.kind.value == "void"
        assert harness.journal.get(first.journal_id).state is TxnState.VOIDED
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen))  # back where it began

        await _menu(app, pilot, "r")
        await _fill_form(app, pilot, f"RRN {second.result.rrn}", "500")
        refund = await wait_result(app, pilot, 4)
        assert refund.title == "APPROVED"
        assert rows(refund)["Amount"] == "CNY 5.00"


async def test_refund_without_reference_goes_to_a_card(harness):
    async with drive(harness.services) as (app, pilot):
        await _menu(app, pilot, "r")
        await _fill_form(app, pilot, "", "300")
        await pick_card(app, pilot, "mc-approve")
        refund = await wait_result(app, pilot)
        assert refund.result.kind.value == "refund"
        assert rows(refund)["Card"] == "541333******0434"
        # no reference at all: a refund to the card, which the simulator takes (cents rules)
        assert refund.title == "APPROVED"
        assert refund.result.response_code == "00"


async def test_unknown_reference_is_a_readable_result_not_a_traceback(harness):
    async with drive(harness.services) as (app, pilot):
        await _menu(app, pilot, "v")
        await _fill_form(app, pilot, "999", None)
        await _confirm(app, pilot, "STAN 000999")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "NOT DONE"
        assert "STAN 000999" in outcome.message


async def test_preauth_then_completion(harness):
    async with drive(harness.services) as (app, pilot):
        await _menu(app, pilot, "a")
        await _fill_form(app, pilot, None, "5000")
        await pick_card(app, pilot, "visa-approve")
        preauth = await wait_result(app, pilot)
        assert preauth.title == "APPROVED"
        await pilot.press("escape")

        await _menu(app, pilot, "c")
        await _fill_form(app, pilot, f"#{preauth.journal_id}", "4500")
        completion = await wait_result(app, pilot, 2)
        assert completion.title == "APPROVED"
        assert completion.result.kind.value == "completion"


async def test_balance_enquiry_shows_the_balance(harness):
    async with drive(harness.services) as (app, pilot):
        await _menu(app, pilot, "b")
        await pick_card(app, pilot, "visa-approve")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "BALANCE"
        assert rows(outcome)["Balance"] == "CNY 1000.00"  # the simulator's default balance


async def test_settlement_signon_and_echo(harness):
    async with drive(harness.services) as (app, pilot):
        await _sale(app, pilot, "1200", 1)

        await _menu(app, pilot, "s")
        await _confirm(app, pilot, "Settle the open batch?")
        settled = await wait_result(app, pilot, 2)
        assert settled.title == "SETTLED"
        assert not app.screen.check_action("print_customer", ())  # no customer copy exists
        assert str(app.screen.query_one("#result-help").render()) == "Enter: done"
        assert rows(settled)["Debits"] == "1 / CNY 12.00"
        await pilot.press("escape")

        await _menu(app, pilot, "o")
        signed = await wait_result(app, pilot, 3)
        assert signed.title == "SIGNED ON"
        assert any("Signed on: PIN key KCV" in line for line in app.progress)
        await pilot.press("escape")

        await _menu(app, pilot, "e")
        echo = await wait_result(app, pilot, 4)
        assert echo.title == "HOST OK"
        assert app.controller.link_state.value == "online"


async def test_host_down_reads_as_a_notice_and_the_app_keeps_running(harness):
    async with drive(harness.services) as (app, pilot):
        harness.runtime.embedded.stop()
        await _menu(app, pilot, "e")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "NOT DONE"
        assert "refused" in outcome.message or "connect" in outcome.message
        await wait_for(pilot, lambda: app.controller.link_state.value == "offline")
        notices = app._notifications
        await wait_for(pilot, lambda: any("Host link failed" in n.message for n in notices))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen))
        assert app.is_running


async def test_void_and_settlement_ask_first_and_no_sends_nothing(harness):
    async with drive(harness.services) as (app, pilot):
        sale = await _sale(app, pilot, "1000", 1)
        await _menu(app, pilot, "v")
        await _fill_form(app, pilot, str(int(sale.result.stan)), None)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"STAN {sale.result.stan}" in app.screen.details
        await pilot.press("escape")  # no
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await _menu(app, pilot, "s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.2)
        assert len(app.outcomes) == 1  # neither ran
        assert harness.journal.get(sale.journal_id).state is TxnState.APPROVED


async def test_void_question_is_not_cut_off_at_80x24(harness):
    """'...; this cannot be undone.' is the part of the question that matters most."""
    app = PosApp(harness.services)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)  # type: ignore[attr-defined]
        sale = await _sale(app, pilot, "1000", 1)
        await _menu(app, pilot, "v")
        await _fill_form(app, pilot, str(int(sale.result.stan)), None)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
        panel = app.screen.query_one("#confirm")
        for widget in panel.query("Label, Static"):
            assert widget.region.right <= panel.content_region.right, str(widget.render())


async def test_a_sale_is_voided_after_the_tui_restarts(tmp_path):
    """The embedded host keeps its ledger in the data directory, as ``posemu pay`` does: a
    sale made before a restart of the TUI can be voided after it (was: 25 not found)."""
    from terminal.cli.tui_cmd import TuiRuntime, interactive_rules
    from tests.tui.helpers import FAST_CONFIG

    def runtime() -> TuiRuntime:
        return TuiRuntime(
            data_dir=tmp_path / "data",
            config=FAST_CONFIG,
            rules=interactive_rules(),
            signon_at_start=False,
        )

    before = runtime()
    try:
        async with drive(before.open()) as (app, pilot):
            sale = await _sale(app, pilot, "1000", 1)
    finally:
        before.close()
    after = runtime()
    try:
        async with drive(after.open()) as (app, pilot):
            await _menu(app, pilot, "v")
            await _fill_form(app, pilot, str(int(sale.result.stan)), None)
            await _confirm(app, pilot, "CNY 10.00")
            void = await wait_result(app, pilot)
            assert (void.title, void.result.response_code) == ("APPROVED", "00")
    finally:
        after.close()
