"""The one-command run's agent loop in the TUI: the embedded broker and TMS side start with
the terminal; a paper-out fault and a lost receipt reach the TMS, the receipt is reprinted
as DUPLICATE when paper is back, and a remote reprint sent from the panel comes back."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Log

from terminal.cli.main import build_parser
from terminal.cli.tui_cmd import TuiRuntime, interactive_rules
from terminal.tui.screens import DevicesScreen, HomeScreen
from terminal.tui.screens.agent import AgentScreen, RepairForm
from tests.tui.helpers import FAST_CONFIG, drive, pick_card, type_amount, wait_for, wait_result


def _events(app) -> list[dict]:
    return app.services.agent.tms_events()


def _has(app, kind: str, **fields: str) -> bool:
    return any(
        e.get("type") == kind and all(e.get(k) == v for k, v in fields.items())
        for e in _events(app)
    )


async def test_fault_lost_receipt_and_remote_reprint_end_to_end(tmp_path: Path) -> None:
    args = build_parser(["tui"]).parse_args(["tui", "--heartbeat", "1"])
    runtime = TuiRuntime(
        data_dir=tmp_path,
        config=FAST_CONFIG,
        rules=interactive_rules(),
        signon_at_start=False,
        agent_args=args,
    )
    services = runtime.open()
    try:
        assert services.agent is not None
        assert services.agent.broker_url.startswith("mqtt://127.0.0.1:")
        async with drive(services) as (app, pilot):
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, DevicesScreen))
            await wait_for(
                pilot,
                lambda: "Agent online" in str(app.screen.query_one("#agent-state").render()),
                15,
            )
            assert app.status_info().tms == "online"  # the status bar says so too
            await pilot.press("p")  # the built-in printer runs out of paper
            await wait_for(pilot, lambda: not app.controller.paper_ok)
            await pilot.press("escape")
            await type_amount(pilot, "2345")
            await pilot.press("enter")
            await pick_card(app, pilot, "visa-approve")
            await wait_result(app, pilot, 1)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))

            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, AgentScreen))
            await wait_for(pilot, lambda: _has(app, "fault", code="printer.paper_out"), 15)
            await wait_for(pilot, lambda: _has(app, "fault", code="printer.failed"), 15)

            await pilot.press("escape", "d")
            await wait_for(pilot, lambda: isinstance(app.screen, DevicesScreen))
            await pilot.press("p")  # paper back: the lost receipt is reprinted by the agent
            await wait_for(
                pilot, lambda: _has(app, "fault", code="printer.failed", state="cleared"), 15
            )
            await pilot.press("escape", "a")
            await wait_for(pilot, lambda: isinstance(app.screen, AgentScreen))
            await pilot.press("s")  # as support staff would: reprint the last receipt
            await wait_for(pilot, lambda: _has(app, "result", name="reprint", status="ok"), 15)
            await wait_for(
                pilot,
                lambda: (
                    "RESULT reprint: ok"
                    in "\n".join(app.screen.query_one("#agent-events", Log).lines)
                ),
            )

            await pilot.press("t")  # the emulated tamper switch
            await wait_for(pilot, lambda: _has(app, "fault", code="tamper", state="raised"), 15)
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, RepairForm))
            for selector, text in (
                ("#repair-part", "printer"),
                ("#repair-description", "paper jams"),
                ("#repair-contact", "Ms Li 1380000"),
            ):
                app.screen.query_one(selector).value = text
            app.screen.query_one("#repair-contact").focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: _has(app, "repair", part="printer"), 15)
        repair = next(e for e in _events(app) if e["type"] == "repair")
        assert repair["device"]["serial"] == "PSM-POSEMU01"
        assert any(f["code"] == "printer.paper_out" for f in repair["recent_faults"])
        assert [f["code"] for f in repair["open_faults"]] == ["tamper"]
        journal = runtime.runtime.journal.get(1)
        assert [c.duplicate for c in journal.copies if c.status.value == "printed"].count(True) >= 2
    finally:
        runtime.close()
