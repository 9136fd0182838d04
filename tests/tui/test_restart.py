"""The TUI keeps working across a runtime restart with a new host (a parameter download,
a remote command): the handle it holds survives, it says so, and shows the new host."""

from __future__ import annotations

from iso8583.host import EmbeddedHost
from terminal.tui.screens import CardScreen
from tests.tui.conftest import interactive_rules
from tests.tui.helpers import drive, pick_card, type_amount, wait_for, wait_result


async def _sale(app, pilot, digits: str, count: int):
    await type_amount(pilot, digits)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
    await pick_card(app, pilot, "visa-approve")
    outcome = await wait_result(app, pilot, count)
    await pilot.press("escape")
    return outcome


async def test_restart_with_a_new_host_under_the_running_ui(harness):
    runtime = harness.runtime.runtime
    with EmbeddedHost("iso87ascii", interactive_rules()) as other:
        address, port = other.address
        new_host = f"tcp://{address}:{port}"
        async with drive(harness.services) as (app, pilot):
            first = await _sale(app, pilot, "1100", 1)
            assert first.title == "APPROVED"
            notices = len(app._notifications)
            await runtime.restart(runtime.config.with_(host=new_host))
            await wait_for(pilot, lambda: app.services.config.host == new_host)
            await wait_for(pilot, lambda: len(app._notifications) > notices)
            assert any("restart" in n.message for n in app._notifications)

            second = await _sale(app, pilot, "1200", 2)
            assert second.title == "APPROVED"
            assert [e.stan for e in other.ledger.entries() if e.amount == 1200] == [
                second.result.stan
            ]
