"""The terminal side: an update applied to a running TerminalRuntime, visible on the next slip."""

from __future__ import annotations

import asyncio
from pathlib import Path

from firmware_update import Reason, State, trust
from iso8583.host import EmbeddedHost
from terminal.engine import CardInput
from terminal.firmware import runtime_updater
from terminal.runtime import TerminalRuntime
from tests.engine.conftest import FAST_RULES, fast_config, url_of
from tests.firmware.helpers import Repo

VISA = CardInput.test_card("visa-approve")


async def test_update_restarts_the_core_and_the_footer_shows(repo: Repo, tmp_path: Path):
    data = tmp_path / "t"
    with EmbeddedHost("iso87ascii", FAST_RULES) as host:
        runtime = TerminalRuntime(fast_config(url_of(host)), data_dir=data)
        trust(data, repo.root_json())
        repo.publish("1.1.0", footer="Thank you for shopping!")
        try:
            await runtime.start()
            before = await runtime.engine.sale(500, VISA)
            assert "Thank you for shopping!" not in before.receipt_text
            states: list[str] = []
            updater = runtime_updater(
                runtime, repo.url, on_state=lambda r: states.append(r.state.value)
            )
            outcome = await updater.run()
            assert outcome.state is State.COMMITTED, outcome
            assert states[-3:] == ["rebooting", "health_check", "committed"]
            after = await runtime.engine.sale(700, VISA)
            assert after.approved
            assert "Thank you for shopping!" in after.receipt_text
        finally:
            await runtime.stop()
            runtime.close()


async def test_failed_sign_on_rolls_back_to_the_old_footer(repo: Repo, tmp_path: Path):
    data = tmp_path / "t"
    host = EmbeddedHost("iso87ascii", FAST_RULES)
    host.start()
    runtime = TerminalRuntime(fast_config(url_of(host)), data_dir=data)
    trust(data, repo.root_json())
    try:
        await runtime.start()
        assert (await runtime_updater(runtime, repo.url).run()).state is State.COMMITTED
        repo.publish("1.1.0", footer="never shown")
        host.stop()  # the host is down: the health check's sign-on fails
        outcome = await runtime_updater(runtime, repo.url, health_timeout=20).run()
        assert outcome.state is State.ROLLED_BACK, outcome
        assert outcome.reason in (Reason.HEALTH_CHECK_FAILED, Reason.HEALTH_CHECK_TIMEOUT)
        assert str(outcome.running) == "1.0.0"
        assert runtime.running
    finally:
        await runtime.stop()
        runtime.close()
        await asyncio.sleep(0)
