"""The outbox and receiver-side de-duplication: nothing lost, nothing delivered twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.dedup import Deduper
from agent.errors import OutboxError
from agent.link import drain
from agent.store import AgentStore


class Disconnected(Exception):
    pass


def test_outbox_keeps_reports_until_acked_and_across_reopen(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "agent.sqlite")
    box = store.outbox("T1")
    other = store.outbox("T2")
    seqs = [box.put(f"id{i}", "p/T1/fault", b"x%d" % i) for i in range(3)]
    other.put("o", "p/T2/fault", b"o")
    assert box.depth() == 3
    assert other.depth() == 1
    box.ack(seqs[0])
    store.close()
    again = AgentStore(tmp_path / "agent.sqlite").outbox("T1")
    assert [i.report_id for i in again.pending()] == ["id1", "id2"]
    assert again.pending(after=seqs[1])[0].payload == b"x2"


def test_unwritable_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OutboxError, match="agent store"):
        AgentStore(tmp_path / "file" / "agent.sqlite")


def test_deduper_forgets_oldest_beyond_capacity() -> None:
    d = Deduper(capacity=2)
    assert d.first_time("a")
    assert d.first_time("b")
    assert not d.first_time("a")
    assert d.first_time("c")  # evicts b (a was refreshed)
    assert d.first_time("b")
    assert d.duplicates == 1


# Each publish attempt: delivered and acknowledged, lost before the broker, or delivered
# with the PUBACK lost (the connection dropped after the broker forwarded it).
OUTCOMES = st.sampled_from(["ok", "ok", "lost", "ack_lost"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=6),
    outcomes=st.lists(OUTCOMES, max_size=80),
    window=st.integers(min_value=1, max_value=5),
)
def test_every_report_arrives_exactly_once_under_random_disconnects(
    tmp_path_factory: pytest.TempPathFactory, batches: list[int], outcomes: list[str], window: int
) -> None:
    store = AgentStore(tmp_path_factory.mktemp("outbox") / "agent.sqlite", durable=False)
    box = store.outbox("T")
    received: list[str] = []
    script = iter(outcomes)

    async def publish(topic: str, payload: bytes) -> None:
        outcome = next(script, "ok")
        if outcome == "lost":
            raise Disconnected
        received.append(json.loads(payload)["id"])
        if outcome == "ack_lost":
            raise Disconnected

    async def scenario() -> list[str]:
        ids: list[str] = []
        for n, count in enumerate(batches):
            for i in range(count):
                rid = f"r{n}-{i}"
                box.put(rid, "p/T/fault", json.dumps({"id": rid}).encode())
                ids.append(rid)
            # one connection's worth of draining; after a drop the next batch drains again
            with contextlib.suppress(Disconnected):
                await drain(box, publish, window=window)
        while box.depth():
            with contextlib.suppress(Disconnected):
                await drain(box, publish, window=window)
        return ids

    sent = asyncio.run(scenario())
    dedup = Deduper()
    delivered = [rid for rid in received if dedup.first_time(rid)]
    assert sorted(delivered) == sorted(sent)
    assert len(delivered) == len(set(delivered))
    assert box.depth() == 0
    store.close()


def test_open_faults_survive_a_restart_and_are_cleared_with_their_id(tmp_path: Path) -> None:
    from agent.mqtt import BrokerSettings
    from agent.reports import DeviceIdentity
    from agent.service import Agent

    settings = BrokerSettings.from_url("mqtt://127.0.0.1:1")
    store = AgentStore(tmp_path / "agent.sqlite", durable=False)
    first = Agent(settings, DeviceIdentity("T1"), store)
    first.faults.raise_("printer.paper_out")
    raised_id = first.faults.open["printer.paper_out"].report_id
    store.close()

    store = AgentStore(tmp_path / "agent.sqlite", durable=False)
    again = Agent(settings, DeviceIdentity("T1"), store)  # the terminal restarted
    assert list(again.faults.open) == ["printer.paper_out"]
    again.faults.clear("printer.paper_out")  # paper was loaded while it was down
    bodies = [json.loads(item.payload) for item in again.outbox.pending()]
    assert [(b["state"], b["code"]) for b in bodies] == [
        ("raised", "printer.paper_out"),
        ("cleared", "printer.paper_out"),
    ]
    assert bodies[1]["details"]["fault_id"] == raised_id
    assert store.open_faults("T1").load() == {}
    store.close()
