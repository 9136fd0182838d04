"""The event bus: a listener that blocks or raises never holds up or breaks a payment,
every subscriber sees events in order, and overflow is visible, never silent."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC

from terminal.core.events import (
    Connecting,
    DeviceCondition,
    DeviceEvent,
    DeviceRole,
    EventBus,
    Lifecycle,
    LifecyclePhase,
)
from terminal.engine import CardInput
from terminal.runtime import TerminalRuntime
from terminal.store.memory import MemoryStore
from tests.engine.conftest import fast_config, url_of

VISA = CardInput.test_card("visa-approve")


def test_deliveries_carry_seq_and_aware_utc_time_in_order():
    bus = EventBus()
    sub = bus.subscribe("a")
    for n in range(5):
        bus.publish(Connecting(f"tcp://h:{n}"))
    items = sub.drain()
    assert [d.seq for d in items] == [1, 2, 3, 4, 5]
    assert all(d.at.tzinfo is UTC for d in items)
    assert [d.event.endpoint for d in items] == [f"tcp://h:{n}" for n in range(5)]
    assert all(d.missed == 0 for d in items)


def test_overflow_drops_the_oldest_and_says_so():
    bus = EventBus()
    sub = bus.subscribe("slow", maxsize=3)
    for n in range(10):
        bus.publish(Connecting(str(n)))
    items = sub.drain()
    assert [d.event.endpoint for d in items] == ["7", "8", "9"]  # newest kept, in order
    assert items[0].missed == 7  # the gap is on the first item after it
    assert [d.missed for d in items[1:]] == [0, 0]
    assert sub.dropped == 7
    assert items[0].seq == 8  # seq shows the gap too


def test_a_blocking_and_a_raising_listener_hold_up_nothing():
    bus = EventBus()
    release, entered = threading.Event(), threading.Event()
    got_blocked: list[int] = []

    def blocking(delivery):
        got_blocked.append(delivery.seq)
        entered.set()
        release.wait(10)  # a listener stuck on a dead broker

    def raising(_delivery):
        raise RuntimeError("listener bug")

    stuck = bus.listen("blocking", blocking, maxsize=5)
    broken = bus.listen("raising", raising)
    healthy = bus.subscribe("healthy", maxsize=1000)
    bus.publish(Connecting("first"))
    assert entered.wait(10)  # the blocking listener now holds its thread
    for n in range(200):
        bus.publish(Connecting(str(n)))  # returns at once, never raises
    items = healthy.drain()
    assert [d.seq for d in items] == list(range(1, 202))
    assert got_blocked == [1]
    assert len(stuck) == 5  # its own queue filled up and overflowed...
    assert stuck.dropped == 200 - 5  # ...visibly
    release.set()
    for sub in (stuck, broken, healthy):
        sub.close()


def test_publish_from_many_threads_keeps_one_order_for_everyone():
    bus = EventBus()
    a, b = bus.subscribe("a", maxsize=10_000), bus.subscribe("b", maxsize=10_000)

    def produce(k: int) -> None:
        for n in range(500):
            bus.publish(
                DeviceEvent(DeviceRole.READER, f"r{k}", "pty", DeviceCondition.ONLINE, str(n))
            )

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seq_a = [d.seq for d in a.drain()]
    seq_b = [d.seq for d in b.drain()]
    assert seq_a == seq_b == list(range(1, 2001))


async def test_async_iteration_wakes_on_publish_from_another_thread():
    bus = EventBus()
    sub = bus.subscribe("ui")
    threading.Timer(0.05, bus.publish, args=(Lifecycle(LifecyclePhase.STARTED),)).start()
    delivery = await asyncio.wait_for(anext(aiter(sub)), 5)
    assert delivery.event == Lifecycle(LifecyclePhase.STARTED)
    threading.Timer(0.05, sub.close).start()
    remaining = [d async for d in sub]  # close() ends the iteration
    assert remaining == []


async def test_a_stuck_subscriber_does_not_slow_a_sale():
    """A real sale on the runtime's bus with a subscriber that never reads."""
    from iso8583.host import EmbeddedHost

    with EmbeddedHost("iso87ascii") as host:
        runtime = TerminalRuntime(fast_config(url_of(host)), store=MemoryStore)
        never_read = runtime.bus.subscribe("never-read", maxsize=2)
        raising = runtime.bus.listen("raising", lambda _d: 1 / 0)
        try:
            await runtime.start()
            result = await runtime.engine.sale(1000, VISA)
            assert result.approved
            assert never_read.dropped > 0
        finally:
            raising.close()
            never_read.close()
            await runtime.stop()
            runtime.close()
