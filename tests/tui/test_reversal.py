"""No answer, or a cashier who gives up: the reversal that follows is shown, not hidden."""

from __future__ import annotations

from dataclasses import replace

from iso8583.host.rules import Timing
from terminal.cli.tui_cmd import interactive_rules
from terminal.core.journal import JournalQuery, TxnState
from terminal.tui.screens import ProcessingScreen
from tests.tui.helpers import FAST_CONFIG, drive, pick_card, type_amount, wait_for, wait_result


async def test_late_answer_times_out_and_the_reversal_is_shown(make_runtime):
    harness = make_runtime(
        config=replace(FAST_CONFIG, response_timeout=0.3),
        rules=replace(interactive_rules(), late_delay=1.0),
    )
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "1068")  # cents 68: the host answers late
        await pilot.press("enter")
        await pick_card(app, pilot, "visa-approve")
        outcome = await wait_result(app, pilot)

        assert outcome.title == "REVERSED"
        assert "no answer within 0.3 s" in outcome.message
        assert outcome.reversal.startswith("Reversal delivered")
        assert any("Waiting for the host" in line for line in app.progress)
        assert any("Reversal queued" in line for line in app.progress)
        shown = str(app.screen.query_one("#result-reversal").render())
        assert "Reversal delivered" in shown
        [entry] = harness.journal.find(JournalQuery(amount=1068))
        assert entry.state is TxnState.REVERSED


async def test_escape_cancels_a_waiting_sale_and_the_reversal_is_delivered(make_runtime):
    rules = replace(interactive_rules(), cents={**interactive_rules().cents, "99": Timing.SILENT})
    harness = make_runtime(config=replace(FAST_CONFIG, response_timeout=20.0), rules=rules)
    async with drive(harness.services) as (app, pilot):
        await type_amount(pilot, "2099")  # cents 99: the host never answers
        await pilot.press("enter")
        await pick_card(app, pilot, "visa-approve")
        await wait_for(pilot, lambda: isinstance(app.screen, ProcessingScreen))
        processing = app.screen
        await wait_for(pilot, lambda: any("Waiting" in line for line in processing.lines))
        await pilot.press("escape")
        assert processing.cancelling
        outcome = await wait_result(app, pilot)

        assert outcome.title == "CANCELLED"
        assert outcome.reversal.startswith("Reversal delivered")
        [entry] = harness.journal.find(JournalQuery(amount=2099))
        assert entry.state is TxnState.REVERSED
        assert harness.runtime.service.pending_reversals() == 0
