"""The lost-receipt flow: a slip that never printed is highlighted in the journal, found
by its trace number, previewed, and reprinted as a DUPLICATE; plus the devices panel."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Label, Select

from terminal.core.journal import PrintStatus
from terminal.tui.screens import DevicesScreen, HomeScreen, JournalScreen
from terminal.tui.screens.journal import RECEIPT_COLUMN
from terminal.tui.widgets import ReceiptPane, StatusBar
from tests.tui.helpers import drive, pick_card, type_amount, wait_for, wait_result


async def _sale(app, pilot, digits: str, count: int):
    await type_amount(pilot, digits)
    await pilot.press("enter")
    await pick_card(app, pilot, "visa-approve")
    outcome = await wait_result(app, pilot, count)
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
    return outcome


async def test_unprinted_receipt_is_found_and_reprinted_as_duplicate(harness):
    async with drive(harness.services) as (app, pilot):
        printed = await _sale(app, pilot, "1000", 1)

        await pilot.press("d")  # devices: run the printer's paper out
        await wait_for(pilot, lambda: isinstance(app.screen, DevicesScreen))
        await pilot.press("p")
        assert not app.controller.paper_ok
        assert "RAISED" in app.controller.faults[-1]
        assert app.screen.query_one(StatusBar).info.paper_ok is False
        await pilot.press("escape")
        lost = await _sale(app, pilot, "2345", 2)
        assert lost.receipt_text  # built, but not printed: paper out
        assert app.controller.last_receipt.journal_id != lost.journal_id
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DevicesScreen))
        await pilot.press("p")  # paper refilled
        assert "CLEARED" in app.controller.faults[-1]
        await pilot.press("escape")

        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen))
        journal = app.screen
        await wait_for(pilot, lambda: len(journal.entries) == 2)
        assert journal.unprinted_ids == {lost.journal_id}
        table = journal.query_one("#journal-table", DataTable)
        row = table.get_row(str(lost.journal_id))
        assert str(row[RECEIPT_COLUMN]) == "NOT PRINTED"
        assert row[RECEIPT_COLUMN].style  # highlighted
        assert not table.get_row(str(printed.journal_id))[RECEIPT_COLUMN].style

        # find it by its trace number, as the merchant would
        journal.query_one("#f-stan", Input).value = str(int(lost.result.stan))
        journal.query_one("#f-stan", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: set(journal.entries) == {lost.journal_id})
        await wait_for(pilot, lambda: journal.selected == lost.journal_id)
        preview = journal.query_one(ReceiptPane).text
        assert "APPROVED" in preview
        assert "DUPLICATE" not in preview

        await pilot.press("r")
        await wait_for(pilot, lambda: "DUPLICATE" in journal.query_one(ReceiptPane).text)
        assert journal.query_one(ReceiptPane).border_title == "DUPLICATE"
        await wait_for(pilot, lambda: not journal.unprinted_ids)
        copies = harness.journal.get(lost.journal_id).copies
        assert any(c.duplicate and c.status is PrintStatus.PRINTED for c in copies)


async def test_journal_filters_by_amount_status_date_and_unprinted(harness):
    async with drive(harness.services) as (app, pilot):
        await _sale(app, pilot, "1000", 1)
        await _sale(app, pilot, "1551", 2)  # declined
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen))
        journal = app.screen
        await wait_for(pilot, lambda: len(journal.entries) == 2)

        journal.query_one("#f-amount", Input).value = "15.51"
        journal.action_search()
        await wait_for(pilot, lambda: len(journal.entries) == 1)
        assert next(iter(journal.entries.values())).amount == 1551

        journal.query_one("#f-amount", Input).value = ""
        journal.query_one("#f-state", Select).value = "approved"
        await wait_for(pilot, lambda: [e.amount for e in journal.entries.values()] == [1000])

        journal.query_one("#f-state", Select).clear()
        today = app.services.clock().date().isoformat()
        journal.query_one("#f-since", Input).value = "2001-01-01"
        journal.query_one("#f-until", Input).value = "2001-12-31"
        journal.action_search()
        await wait_for(pilot, lambda: not journal.entries)
        journal.query_one("#f-until", Input).value = today
        journal.action_search()
        await wait_for(pilot, lambda: len(journal.entries) == 2)

        await pilot.press("u")  # only receipts that never printed: none here
        await wait_for(pilot, lambda: not journal.entries)
        summary = str(journal.query_one("#journal-summary", Label).render())
        assert "0 never printed" in summary

        journal.query_one("#f-amount", Input).value = "12.345"
        journal.action_search()
        await pilot.pause()
        assert any("decimal places" in n.message for n in app._notifications)


async def test_devices_panel_shows_what_is_and_is_not_there(harness):
    async with drive(harness.services) as (app, pilot):
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DevicesScreen))
        screen = app.screen
        assert "Agent not connected" in str(screen.query_one("#agent-state").render())
        version = str(screen.query_one("#fw-version").render())
        assert app.services.version in version
        assert "none in progress" in str(screen.query_one("#fw-state").render())
        table = screen.query_one("#devices-table", DataTable)
        assert table.row_count == 1
        assert "paper OK" in [str(c) for c in table.get_row_at(0)]


async def test_stan_and_rrn_visible_beside_the_preview_at_100x32(harness):
    from terminal.tui.app import PosApp

    app = PosApp(harness.services)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)
        await type_amount(pilot, "1234")
        await pilot.press("enter")
        await pick_card(app, pilot, "visa-approve")
        outcome = await wait_result(app, pilot)
        await pilot.press("escape")
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen))
        await wait_for(pilot, lambda: len(app.screen.entries) == 1)
        await pilot.pause()
        table = app.screen.query_one("#journal-table", DataTable)
        visible = table.scrollable_content_region.width
        right = 0
        for column in table.ordered_columns:
            right += column.get_render_width(table)
            if str(column.label) == "RRN":
                break
        assert right <= visible, (right, visible)
        row = [str(c) for c in table.get_row_at(0)]
        assert outcome.result.stan in row
        assert outcome.result.rrn in row


async def test_journal_summary_fits_80_columns(harness):
    """'... r: reprint a DUPLICATE' lost its last letter at 80x24."""
    from terminal.tui.app import PosApp

    app = PosApp(harness.services)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)  # type: ignore[attr-defined]
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen))
        label = app.screen.query_one("#journal-summary", Label)
        await wait_for(pilot, lambda: "found" in str(label.render()))
        await pilot.pause()
        text = str(label.render())
        assert text.endswith("DUPLICATE")
        assert len(text) + 2 <= app.size.width, text  # padding 0 1
