"""The agent plugged into a real TerminalRuntime: faults from the bus, lost receipts reprinted
as DUPLICATE when the printer works again, host failure rates, crash reports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.broker import EmbeddedBroker
from agent.console import Console
from agent.dispatch import CommandFailed
from agent.errors import CommandRefused
from agent.mqtt import BrokerSettings
from agent.service import AgentOptions
from agent.terminal_agent import TerminalAgent
from iso8583 import get_spec
from iso8583.host import EmbeddedHost
from terminal.config import TerminalConfig
from terminal.core.events import DeviceCondition, DeviceEvent, DeviceRole
from terminal.devices import FilePrinter
from terminal.engine import CardInput
from terminal.runtime import TerminalRuntime


@contextlib.asynccontextmanager
async def terminal(
    tmp: Path, broker: EmbeddedBroker, printer: Any, host: str | None = None, rules: Any = None
) -> AsyncIterator[tuple[TerminalRuntime, TerminalAgent]]:
    spec = get_spec("iso87ascii")
    embedded = None
    if host is None:
        embedded = EmbeddedHost(spec, rules) if rules is not None else EmbeddedHost(spec)
        address, port = embedded.start()
        host = f"tcp://{address}:{port}"
    config = TerminalConfig(host=host, connect_timeout=0.2, response_timeout=0.5)
    runtime = TerminalRuntime(config, data_dir=tmp, spec=spec, printer=printer)
    agent = TerminalAgent(
        runtime,
        BrokerSettings.from_url(broker.url),
        tmp,
        options=AgentOptions(heartbeat_interval=5, hold_down=0.05, flush_timeout=2),
    ).attach()
    try:
        await runtime.start()
        yield runtime, agent
    finally:
        await runtime.stop()
        runtime.close()
        if embedded is not None:
            embedded.stop()


async def faults_until(console: Console, want: list[tuple[str, str]]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(20):
        async for body in console.reports():
            if body["type"] == "fault":
                seen.append(body)
                got = [(f["state"], f["code"]) for f in seen]
                if all(w in got for w in want):
                    return seen
    return seen


async def test_paper_out_failed_copy_then_recovery_reprints_a_duplicate(
    embedded_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    slips = tmp_path / "paper" / "slips.txt"  # no such directory yet: the printer fails
    printer = FilePrinter(slips, text=True, name="sim-printer")
    console = Console(BrokerSettings.from_url(embedded_broker.url), kinds=["fault"])
    async with console.connected(), terminal(tmp_path, embedded_broker, printer) as (rt, _agent):
        result = await rt.engine.sale(1234, CardInput.test_card("visa-approve"))
        assert result.approved
        outcome = await asyncio.to_thread(rt.receipts.print_copy, result.journal_id, "merchant")
        assert not outcome.printed
        rt.bus.publish(DeviceEvent(DeviceRole.PRINTER, "sim", "file:", DeviceCondition.PAPER_OUT))
        raised = await faults_until(
            console, [("raised", "printer.failed"), ("raised", "printer.paper_out")]
        )
        slips.parent.mkdir()  # paper loaded
        rt.bus.publish(DeviceEvent(DeviceRole.PRINTER, "sim", "file:", DeviceCondition.RECOVERED))
        cleared = await faults_until(
            console, [("cleared", "printer.paper_out"), ("cleared", "printer.failed")]
        )
        entry = rt.journal.get(result.journal_id)
    failed = next(f for f in raised if f["code"] == "printer.failed")
    assert failed["severity"] == "major"
    assert failed["details"]["journal_id"] == result.journal_id
    assert "DUPLICATE" in slips.read_text()
    assert [(c.status.value, c.duplicate) for c in entry.copies] == [
        ("failed", False),
        ("printed", True),
    ]
    assert any("reprinted as DUPLICATE" in f["message"] for f in cleared)


async def test_offer_policy_waits_for_the_merchant(
    embedded_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    slips = tmp_path / "paper" / "slips.txt"
    async with terminal(tmp_path, embedded_broker, FilePrinter(slips, text=True)) as (rt, agent):
        agent.lost_receipts = "offer"
        result = await rt.engine.sale(500, CardInput.test_card("visa-approve"))
        await asyncio.to_thread(rt.receipts.print_copy, result.journal_id, "merchant")
        slips.parent.mkdir()
        rt.bus.publish(DeviceEvent(DeviceRole.PRINTER, "sim", "file:", DeviceCondition.ONLINE))
        async with asyncio.timeout(10):
            while not agent.offered:
                await asyncio.sleep(0.05)
        assert not slips.exists()  # offered, not printed
        done = await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(agent.reprint_lost(), rt._ensure_loop())
        )
    assert [d["printed"] for d in done] == [True]
    assert "DUPLICATE" in slips.read_text()


async def test_host_unreachable_is_a_rate_not_one_event(
    embedded_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"tcp://127.0.0.1:{s.getsockname()[1]}"  # nobody listens once closed
    async with terminal(tmp_path, embedded_broker, FilePrinter(tmp_path / "p"), dead) as (
        rt,
        agent,
    ):
        states = []
        for _ in range(3):
            with contextlib.suppress(Exception):
                await rt.engine.echo()
            await asyncio.sleep(0.1)
            assert agent.agent is not None
            states.append("host.unreachable" in agent.agent.faults.open)
    assert states == [False, False, True]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_crash_in_a_thread_is_reported_with_pans_masked(
    embedded_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    import threading

    console = Console(BrokerSettings.from_url(embedded_broker.url), kinds=["fault"])
    async with (
        console.connected(),
        terminal(tmp_path, embedded_broker, FilePrinter(tmp_path / "p")),
    ):

        def boom() -> None:
            raise ValueError("bad card 4761739001010010 in worker")

        worker = threading.Thread(target=boom, name="worker")
        worker.start()
        worker.join()
        [crash] = await faults_until(console, [("raised", "app.crash")])
    assert crash["severity"] == "critical"
    assert crash["details"]["where"] == "thread worker"
    assert "4761739001010010" not in json.dumps(crash)
    assert "476173" in crash["message"]


async def test_logs_and_params_commands(embedded_broker: EmbeddedBroker, tmp_path: Path) -> None:
    import logging

    async with terminal(tmp_path, embedded_broker, FilePrinter(tmp_path / "p")) as (rt, agent):
        logging.getLogger("posemu.test").warning("swiped 4761739001010010 at the till")
        lines = (await agent.commands.logs_tail({"lines": "50"}))["lines"]
        assert any("swiped 476173" in line for line in lines)
        assert not any("4761739001010010" in line for line in lines)

        def on_loop(coro: Any) -> Any:
            return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, rt._ensure_loop()))

        done = await on_loop(agent.commands.params({"merchant_name": "NEW SHOP"}))
        assert done["signed_on"] is True
        assert rt.config.merchant_name == "NEW SHOP"
        with pytest.raises(CommandFailed, match="previous parameters restored"):
            await on_loop(agent.commands.params({"host": "tcp://127.0.0.1:1"}))
        assert rt.config.host != "tcp://127.0.0.1:1"
        assert rt.config.merchant_name == "NEW SHOP"
        with pytest.raises(CommandRefused, match="merchant_id"):
            await on_loop(agent.commands.params({"merchant_id": "x" * 16}))
        with pytest.raises(CommandRefused, match="repository=URL"):
            await on_loop(agent.commands.update({}))


async def test_update_command_hands_over_to_the_firmware_updater(
    embedded_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    from firmware_update import trust
    from tests.firmware.helpers import Repo

    repo = Repo(tmp_path / "publisher")
    repo.publish("1.0.0")
    repo.publish("1.1.0", footer="Thank you for shopping!")
    repo.start()
    data = tmp_path / "terminal"
    try:
        async with terminal(data, embedded_broker, FilePrinter(tmp_path / "p")) as (rt, agent):
            trust(data, repo.root_json())

            def on_loop(coro: Any) -> Any:
                loop = rt._ensure_loop()
                return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

            with pytest.raises(CommandRefused, match=r"offers 1\.1\.0, not 9\.9\.9"):
                await on_loop(agent.commands.update({"repository": repo.url, "version": "9.9.9"}))
            done = await on_loop(
                agent.commands.update({"repository": repo.url, "version": "1.1.0"})
            )
            assert done["state"] == "committed"
            assert done["running"] == "1.1.0"
            assert agent.agent is not None  # the agent lived through the restart
            sale = await rt.engine.sale(300, CardInput.test_card("visa-approve"))
            assert "Thank you for shopping!" in sale.receipt_text
    finally:
        repo.stop()


async def test_a_command_arriving_mid_transaction_waits_until_idle(
    embedded_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    from agent.commands import new_command
    from agent.reports import encode
    from terminal.cli.tui_cmd import interactive_rules

    printer = FilePrinter(tmp_path / "p")
    async with terminal(tmp_path, embedded_broker, printer, rules=interactive_rules()) as (
        rt,
        agent,
    ):
        order = await rt.engine.qr_mpm(1500)  # the customer has not paid: a transaction in flight
        assert agent.agent is not None
        dispatcher = agent.agent.commands
        payload = encode(new_command("logs", {"lines": "1"}, ttl=60))
        rt._ensure_loop().call_soon_threadsafe(dispatcher.receive, payload)
        await asyncio.sleep(0.5)
        assert dispatcher.history == []  # queued, waiting for the terminal to be idle
        await order.cancel()
        async with asyncio.timeout(10):
            while not dispatcher.history:
                await asyncio.sleep(0.05)
    assert dispatcher.history[0]["status"] == "ok"
