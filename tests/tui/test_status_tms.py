"""The status bar's TMS indicator follows the device-management agent (it said 'TMS off'
while the agent panel said 'Agent online')."""

from __future__ import annotations

from pathlib import Path

from terminal.cli.main import build_parser
from terminal.cli.tui_cmd import TuiRuntime, interactive_rules
from terminal.tui.widgets import StatusBar
from tests.tui.helpers import FAST_CONFIG, drive, wait_for


async def test_status_bar_shows_the_agent_online(tmp_path: Path) -> None:
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
        async with drive(services) as (app, pilot):
            await wait_for(pilot, lambda: app.status_info().tms == "online", 15)
            app.refresh_status()
            await pilot.pause()
            bar = app.screen.query_one(StatusBar)
            assert "TMS online" in str(bar.render())  # 100 columns: words
    finally:
        runtime.close()
