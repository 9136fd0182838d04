"""TerminalRuntime: restart with a new host under load, idle(), events on the bus."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from iso8583.host import EmbeddedHost
from terminal.core.events import (
    Lifecycle,
    LifecyclePhase,
    LinkState,
    LinkStateChanged,
    ReversalDelivered,
    ReversalQueued,
    TxnFinished,
    TxnStarted,
)
from terminal.core.journal import JournalQuery, TxnState
from terminal.engine import CardInput
from terminal.runtime import TerminalRuntime
from terminal.store.memory import MemoryStore
from tests.engine.conftest import FAST_RULES, fast_config, url_of

VISA = CardInput.test_card("visa-approve")


@pytest.fixture
def hosts():
    with EmbeddedHost("iso87ascii", FAST_RULES) as a, EmbeddedHost("iso87ascii", FAST_RULES) as b:
        yield a, b


async def _until(predicate, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"never true: {predicate}"
        await asyncio.sleep(0.01)


async def test_restart_with_new_host_delivers_the_reversal_queued_before(hosts, tmp_path: Path):
    host_a, host_b = hosts
    runtime = TerminalRuntime(fast_config(url_of(host_a)), data_dir=tmp_path / "t")
    sub = runtime.bus.subscribe("test")
    try:
        await runtime.start()
        engine = runtime.engine  # the handle the TUI keeps across restarts
        assert (await engine.sale(500, VISA)).approved

        # x.99: host A never answers; the cashier gives up, the reversal stays queued
        task = asyncio.create_task(engine.sale(1299, VISA))
        await _until(lambda: runtime.journal.find(JournalQuery(states=(TxnState.SENT,))))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        timed_out = JournalQuery(states=(TxnState.TIMED_OUT,))
        await _until(lambda: runtime.journal.find(timed_out))  # cancelled in the engine
        (lost,) = runtime.journal.find(timed_out)
        assert len(runtime.store.saf.pending()) == 1

        await runtime.restart(runtime.config.with_(host=url_of(host_b)))
        assert runtime.running
        assert runtime.store.saf.pending() == []
        assert runtime.journal.get(lost.id).state is TxnState.REVERSED

        after = await engine.sale(700, VISA)  # same handle, new host
        assert after.approved
        assert [e.stan for e in host_b.ledger.entries() if e.amount == 700] == [after.stan]
        assert not [e for e in host_a.ledger.entries() if e.amount == 700]

        events = [d.event for d in sub.drain()]
        restarting = events.index(Lifecycle(LifecyclePhase.RESTARTING))
        queued = next(i for i, e in enumerate(events) if isinstance(e, ReversalQueued))
        delivered = next(i for i, e in enumerate(events) if isinstance(e, ReversalDelivered))
        assert queued < restarting < delivered
        assert events[delivered].stan == lost.stan
        links = [e for e in events[restarting:] if isinstance(e, LinkStateChanged)]
        assert links[-1] == LinkStateChanged(LinkState.ONLINE, url_of(host_b))
    finally:
        sub.close()
        await runtime.stop()
        runtime.close()


async def test_restart_waits_for_the_transaction_in_flight(hosts):
    host_a, _ = hosts
    config = fast_config(url_of(host_a), response_timeout=3.0)
    runtime = TerminalRuntime(config, store=MemoryStore)
    sub = runtime.bus.subscribe("test")
    try:
        await runtime.start()
        sale = asyncio.create_task(runtime.engine.sale(1268, VISA))  # x.68: answered after 1.5 s
        await _until(lambda: any(isinstance(d.event, TxnStarted) for d in list(sub.drain())))
        await runtime.restart()
        assert sale.done()  # the restart waited for it
        result = sale.result()
        assert result.approved
        events = [d.event for d in sub.drain()]
        started = events.index(Lifecycle(LifecyclePhase.STARTED, config.host))
        finished = [i for i, e in enumerate(events) if isinstance(e, TxnFinished)]
        assert finished
        assert finished[0] < started
    finally:
        sub.close()
        await runtime.stop()
        runtime.close()


async def test_idle_holds_new_transactions_off(hosts):
    host_a, _ = hosts
    runtime = TerminalRuntime(fast_config(url_of(host_a)), store=MemoryStore)
    try:
        await runtime.start()
        async with runtime.idle():
            sale = asyncio.create_task(runtime.engine.sale(100, VISA))
            await asyncio.sleep(0.2)
            assert not sale.done()  # waits, is not refused
            assert runtime.store.journal.find(JournalQuery()) == []
        assert (await sale).approved
        async with runtime.idle(), runtime.idle():  # nested, with a restart inside
            await runtime.restart()
        assert (await runtime.engine.echo()).approved
    finally:
        await runtime.stop()
        runtime.close()
