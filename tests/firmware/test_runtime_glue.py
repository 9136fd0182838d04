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


def test_a_damaged_active_slot_is_logged_not_fatal(repo: Repo, data_dir: Path, caplog):
    from firmware_update import Updater
    from terminal.config import TerminalConfig
    from terminal.firmware import apply_firmware

    assert asyncio.run(Updater(data_dir, repo.url).run()).state is State.COMMITTED
    slot = next((data_dir / "firmware" / "slots").iterdir())
    (slot / "payload" / "app.bin").write_bytes(b"bit rot")
    assert apply_firmware(TerminalConfig(), data_dir) == TerminalConfig()
    assert "changed since it was installed" in caplog.text


def test_only_the_first_start_in_a_process_counts_as_a_boot(repo: Repo, data_dir: Path):
    import subprocess
    import sys

    from firmware_update import read_status
    from terminal.config import TerminalConfig
    from terminal.firmware import apply_firmware
    from tests.firmware.test_kill import ROOT

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.firmware._child",
            str(data_dir),
            repo.url,
            "health_check",
            "ok",
        ],
        cwd=ROOT,
        capture_output=True,
    )
    assert result.returncode < 0  # killed while the new slot was on trial
    for _ in range(5):  # one boot, then restarts of the core
        config = apply_firmware(TerminalConfig(), data_dir)
    assert read_status(data_dir)["boots"] == 1
    assert config.receipt_footer == ("firmware 1.0.0",)
