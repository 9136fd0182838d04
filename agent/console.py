"""The TMS console side: watch a fleet's reports, send commands and wait for their results.

Used by ``posemu tms ...``, by the TUI's agent panel (against the embedded broker) and by the
fleet benchmark. Reports are de-duplicated by ``id`` (QoS 1 delivers at least once). With
MQTT 5 and a ``group``, the event streams (heartbeat, fault, result, repair) are taken through
a shared subscription ``$share/GROUP/...`` so several console workers split a large fleet;
status stays a plain subscription because brokers do not send retained messages to shared ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.clock import new_id
from agent.commands import new_command
from agent.dedup import Deduper
from agent.mqtt import Backoff, BrokerSettings, make_client, settle
from agent.reports import decode, encode
from agent.signing import sign_command
from agent.topics import REPORT_KINDS, Topics, fleet_filter, parse_topic

__all__ = ["Console", "FleetView", "TerminalView"]


@dataclass(slots=True)
class TerminalView:
    """What the console knows of one terminal."""

    terminal_id: str
    online: bool = False
    firmware: str = ""
    model: str = ""
    last_heartbeat: str = ""
    open_faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox_depth: int | None = None
    heartbeats: int = 0
    faults_seen: int = 0


class FleetView:
    """Folds reports into per-terminal state (the ``posemu tms fleet`` table)."""

    def __init__(self) -> None:
        self.terminals: dict[str, TerminalView] = {}

    def apply(self, body: dict[str, Any], *, retained: bool = False) -> None:
        """Fold one report in; a retained heartbeat is history, so it says nothing of online."""
        tid = str(body.get("tid", ""))
        if not tid:
            return
        view = self.terminals.setdefault(tid, TerminalView(tid))
        kind = body.get("type")
        device = body.get("device")
        if isinstance(device, dict):
            view.firmware = str(device.get("firmware", view.firmware))
            view.model = str(device.get("model", view.model))
        if kind == "status":
            view.online = body.get("state") == "online"
        elif kind == "heartbeat":
            view.online = view.online or not retained
            view.heartbeats += 1
            if isinstance(body.get("open_faults"), list):
                view.open_faults = {str(code): {} for code in body["open_faults"]}
            view.last_heartbeat = str(body.get("at", ""))
            if isinstance(body.get("outbox_depth"), int):
                view.outbox_depth = body["outbox_depth"]
        elif kind == "fault":
            view.faults_seen += 1
            code = str(body.get("code", ""))
            if body.get("state") == "raised":
                view.open_faults[code] = body
            else:
                view.open_faults.pop(code, None)


class Console:
    """One console connection; ``reports()`` yields de-duplicated report objects."""

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        terminal_id: str | None = None,
        kinds: Iterable[str] = REPORT_KINDS,
        group: str | None = None,
        identifier: str | None = None,
    ) -> None:
        self.settings = settings
        self.terminal_id = terminal_id
        self.kinds = tuple(kinds)
        self.group = group if settings.version == "5" else None
        self.identifier = identifier or f"posemu-tms-{new_id()[:8]}"
        self.dedup = Deduper()
        self.fleet = FleetView()
        self._client: aiomqtt.Client | None = None

    def _filters(self) -> list[str]:
        filters = []
        for kind in self.kinds:
            topic = fleet_filter(self.settings.prefix, kind, self.terminal_id)
            if self.group and kind != "status":
                topic = f"$share/{self.group}/{topic}"
            filters.append(topic)
        return filters

    @property
    def attached(self) -> bool:
        return self._client is not None

    async def _attach(self, client: aiomqtt.Client) -> None:
        self._client = client
        for topic in self._filters():
            await client.subscribe(topic, qos=1)

    @contextlib.asynccontextmanager
    async def connected(self, *, persistent: bool = False) -> AsyncIterator[Console]:
        """One connection, subscribed; errors are the caller's."""
        client = make_client(self.settings, self.identifier, persistent=persistent)
        try:
            async with client:
                await self._attach(client)
                yield self
        finally:
            self._client = None
            settle(client)

    async def follow(
        self,
        *,
        persistent: bool = False,
        on_state: Callable[[bool, str], None] = lambda _up, _why: None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Reports forever, reconnecting with jittered back-off when the broker goes away.
        ``persistent``: the broker keeps the subscription and queues reports meanwhile
        (needs a fixed ``identifier``). ``on_state(connected, reason)`` tells each change."""
        backoff = Backoff(cap=10)
        while True:
            try:
                async with self.connected(persistent=persistent):
                    backoff.reset()
                    on_state(True, "")
                    async for body in self.reports():
                        yield body
            except aiomqtt.MqttError as exc:
                on_state(False, str(exc))
                await asyncio.sleep(backoff.next_delay())

    async def reports(self) -> AsyncIterator[dict[str, Any]]:
        """Reports as they arrive, each once; malformed payloads are yielded as ``invalid``."""
        assert self._client is not None, "use inside `async with console.connected()`"
        async for message in self._client.messages:
            parsed = parse_topic(self.settings.prefix, str(message.topic))
            if parsed is None or parsed[1] not in REPORT_KINDS:
                continue
            payload = message.payload if isinstance(message.payload, bytes) else b""
            body = decode(payload)
            if body is None or not isinstance(body.get("id"), str):
                yield {"type": "invalid", "tid": parsed[0], "topic": str(message.topic)}
                continue
            if not self.dedup.first_time(body["id"]):
                continue
            body.setdefault("tid", parsed[0])
            self.fleet.apply(body, retained=bool(message.retain))
            yield body

    async def send(
        self,
        terminal_id: str,
        name: str,
        args: dict[str, Any],
        *,
        ttl: float = 300.0,
        sign_key: Ed25519PrivateKey | None = None,
        command_id: str | None = None,
    ) -> dict[str, Any]:
        """Publish a command (QoS 1); returns the command object sent."""
        assert self._client is not None, "use inside `async with console.connected()`"
        command = new_command(name, args, ttl=ttl, command_id=command_id)
        if sign_key is not None:
            command = sign_command(command, sign_key)
        await self.send_raw(terminal_id, encode(command))
        return command

    async def send_raw(self, terminal_id: str, payload: bytes) -> None:
        assert self._client is not None, "use inside `async with console.connected()`"
        topic = Topics(self.settings.prefix, terminal_id).command
        await self._client.publish(topic, payload, qos=1)

    async def wait_result(self, command_id: str, timeout: float) -> dict[str, Any] | None:
        """The result report for ``command_id``, or None after ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                async for body in self.reports():
                    if body.get("type") == "result" and body.get("command_id") == command_id:
                        return body
        return None
