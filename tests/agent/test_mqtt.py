"""Agent and console over real brokers: mosquitto (MQTT 3.1.1 and 5) and the embedded amqtt."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.broker import EmbeddedBroker
from agent.console import Console
from agent.mosquitto import Mosquitto
from agent.mqtt import Backoff, BrokerSettings
from agent.reports import DeviceIdentity
from agent.service import Agent, AgentOptions
from agent.store import AgentStore


async def _echo(args: dict[str, str]) -> dict[str, Any]:
    return {"echo": args}


@contextlib.asynccontextmanager
async def running_agent(url: str, tmp: Path, tid: str = "T1", **kw: Any) -> AsyncIterator[Agent]:
    settings = BrokerSettings.from_url(url, **kw)
    store = AgentStore(tmp / f"{tid}.sqlite")
    agent = Agent(
        settings,
        DeviceIdentity(tid, serial="SN1"),
        store,
        data_dir=tmp,
        options=AgentOptions(heartbeat_interval=0.2, hold_down=0.1),
        handlers={"logs": _echo},
    )
    agent.link._backoff = Backoff(base=0.05, cap=0.3)
    await agent.start()
    try:
        yield agent
    finally:
        await agent.stop(flush_timeout=1)
        store.close()


async def collect(console: Console, predicate: Any, timeout: float = 10) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        async for body in console.reports():
            seen.append(body)
            if predicate(seen):
                return seen
    return seen


async def round_trip(url: str, tmp: Path, version: str, **tls: str) -> None:
    settings = BrokerSettings.from_url(url, version=version, **tls)
    console = Console(settings, terminal_id="T1", group="tms" if version == "5" else None)
    async with console.connected(), running_agent(url, tmp, version=version, **tls) as agent:
        agent.faults.raise_("printer.paper_out", details={"device": "sim"})
        seen = await collect(console, lambda s: any(b["type"] == "fault" for b in s))
        fault = next(b for b in seen if b["type"] == "fault")
        assert fault["code"] == "printer.paper_out"
        assert fault["severity"] == "major"
        assert fault["state"] == "raised"
        assert fault["id"]
        assert fault["at"].endswith("Z")
        assert fault["device"]["serial"] == "SN1"
        sent = await console.send("T1", "logs", {"lines": "5"})
        result = await console.wait_result(sent["id"], timeout=10)
        assert result is not None
        assert result["status"] == "ok"
        assert result["data"] == {"echo": {"lines": "5"}}
        await collect(console, lambda s: any(b["type"] == "heartbeat" for b in s))
        assert console.fleet.terminals["T1"].online
        assert agent.outbox.depth() == 0


@pytest.mark.parametrize("version", ["3.1.1", "5"])
async def test_fault_and_command_round_trip_on_mosquitto(
    mosquitto: Mosquitto, tmp_path: Path, version: str
) -> None:
    await round_trip(mosquitto.url, tmp_path, version)


async def test_fault_and_command_round_trip_on_the_embedded_broker(
    embedded_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    await round_trip(embedded_broker.url, tmp_path, "3.1.1")


async def test_retained_status_and_last_will(mosquitto: Mosquitto, tmp_path: Path) -> None:
    settings = BrokerSettings.from_url(mosquitto.url)
    async with running_agent(mosquitto.url, tmp_path) as agent:
        await asyncio.wait_for(agent.link.connected.wait(), 10)
    # a clean stop says "stopped"; a console arriving later gets the retained status
    console = Console(settings, kinds=["status"])
    async with console.connected():
        [status] = await collect(console, lambda s: len(s) == 1)
    assert status["state"] == "offline"
    assert status["reason"] == "stopped"


async def test_broker_restart_mid_stream_every_fault_exactly_once(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Faults keep being raised while the broker goes away and comes back; the console (a
    persistent session) sees each exactly once after de-duplication."""
    settings = BrokerSettings.from_url(mosquitto.url)
    console = Console(settings, kinds=["fault"], identifier="tms-restart-test")
    received: list[str] = []

    async def watch() -> None:
        async for body in console.follow(persistent=True):
            received.append(body["details"]["n"])

    codes = ["printer.paper_out", "printer.cover_open", "reader.offline", "tamper"]
    async with running_agent(mosquitto.url, tmp_path) as agent:
        watcher = asyncio.create_task(watch())
        await asyncio.wait_for(agent.link.connected.wait(), 10)
        await asyncio.sleep(0.3)
        sent = []
        for n in range(40):
            code = codes[n % len(codes)]
            agent.send_report("fault", state="raised", code=code, details={"n": n})
            sent.append(n)
            if n == 15:
                await asyncio.to_thread(mosquitto.restart)
            await asyncio.sleep(0.01)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                while sorted(set(received)) != sent:
                    await asyncio.sleep(0.05)
        missing = sorted(set(sent) - set(received))
        assert not missing, (missing, agent.outbox.depth(), agent.link.last_error)
        watcher.cancel()
    assert sorted(received) == sent
    assert len(received) == len(set(received))
    assert agent.link.connects >= 2


async def test_mqtt5_shared_subscription_splits_the_fleet_between_workers(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = BrokerSettings.from_url(mosquitto.url, version="5")
    workers = [Console(settings, kinds=["fault"], group="tms") for _ in range(2)]
    got: list[list[int]] = [[], []]

    async def work(i: int) -> None:
        async with workers[i].connected():
            async for body in workers[i].reports():
                got[i].append(body["details"]["n"])

    tasks = [asyncio.create_task(work(i)) for i in range(2)]
    async with running_agent(mosquitto.url, tmp_path, version="5") as agent:
        await asyncio.wait_for(agent.link.connected.wait(), 10)
        while not all(w.attached for w in workers):
            await asyncio.sleep(0.05)
        for n in range(20):
            agent.send_report("fault", state="raised", code="tamper", details={"n": n})
        async with asyncio.timeout(10):
            while len(got[0]) + len(got[1]) < 20:
                await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    assert sorted(got[0] + got[1]) == list(range(20))  # each report to one worker only
    assert got[0]
    assert got[1]


async def test_mqtts_with_ca_and_client_certificate(tmp_path: Path) -> None:
    import aiomqtt

    from agent.mosquitto import MOSQUITTO
    from tests.engine.tlsutil import make_pki

    if MOSQUITTO is None:
        pytest.skip("mosquitto not installed")
    pki = make_pki(tmp_path)
    workdir = tmp_path / "broker"
    workdir.mkdir()
    broker = Mosquitto(
        workdir,
        extra_config=f"cafile {pki.ca}\ncertfile {pki.server_cert}\n"
        f"keyfile {pki.server_key}\nrequire_certificate true\n",
    )
    broker.start()
    url = f"mqtts://127.0.0.1:{broker.port}"
    tls = {
        "ca_file": str(pki.ca),
        "cert_file": str(pki.client_cert),
        "key_file": str(pki.client_key),
    }
    try:
        await round_trip(url, tmp_path, "3.1.1", **tls)
        no_cert = Console(BrokerSettings.from_url(url, ca_file=str(pki.ca)))
        with pytest.raises(aiomqtt.MqttError):
            async with no_cert.connected():
                pass
    finally:
        broker.stop()
