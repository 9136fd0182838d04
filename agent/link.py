"""The agent's side of the broker connection: status, heartbeats, outbox drain, command intake.

One long-lived loop per terminal: connect (persistent session, last will "offline"), publish
the retained "online" status, subscribe to the command topic, then send the outbox oldest
first and take commands until the connection drops; then back off with jitter and again.
A report leaves the outbox only after the broker's PUBACK (QoS 1); one that was delivered
but whose PUBACK was lost is sent again and dropped by the receiver's de-duplication.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt

from agent.mqtt import Backoff, BrokerSettings, make_client, settle
from agent.reports import DeviceIdentity, encode, report
from agent.store import Outbox
from agent.topics import Topics

__all__ = ["AgentLink", "drain"]

log = logging.getLogger("agent.link")

Publish = Callable[[str, bytes], Awaitable[None]]
#: Seconds between outbox checks when nothing woke the sender.
OUTBOX_POLL = 5.0


async def drain(outbox: Outbox, publish: Publish, *, window: int = 16) -> int:
    """Send every pending report, up to ``window`` in flight; each is removed on its PUBACK.

    Returns how many were sent; re-raises the first publish error after removing the ones
    that did succeed, so nothing is sent twice needlessly and nothing unacknowledged is lost.
    """
    sent = 0
    while True:
        items = outbox.pending(window)
        if not items:
            return sent
        results = await asyncio.gather(
            *(publish(item.topic, item.payload) for item in items), return_exceptions=True
        )
        done = [item.seq for item, r in zip(items, results, strict=True) if r is None]
        if done:
            outbox.ack_many(done)
            sent += len(done)
        for result in results:
            if isinstance(result, BaseException):
                raise result


class AgentLink:
    """Keeps one terminal connected; ``kick()`` after putting a report in the outbox."""

    def __init__(
        self,
        settings: BrokerSettings,
        identity: DeviceIdentity,
        outbox: Outbox,
        *,
        on_command: Callable[[bytes], Awaitable[None]],
        health: Callable[[], dict[str, Any]] = dict,
        heartbeat_interval: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.topics = Topics(settings.prefix, identity.terminal_id)
        self.outbox = outbox
        self._on_command = on_command
        self._health = health
        self.heartbeat_interval = heartbeat_interval
        self._backoff = backoff or Backoff()
        self._wake = asyncio.Event()
        self._stopping = False
        self._client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self.state = "connecting"
        self.last_error: str | None = None
        self.heartbeats_sent = 0
        self._beat_seq = 0
        self.beats_acked: deque[int] = deque(maxlen=1000)  # seqs the broker acknowledged
        self.reports_sent = 0
        self.connects = 0

    def kick(self) -> None:
        self._wake.set()

    def _status(self, state: str, **extra: Any) -> bytes:
        return encode(
            report("status", self.identity, state=state, device=self.identity.as_dict(), **extra)
        )

    async def run(self) -> None:
        """Stay connected until :meth:`stop` or cancellation."""
        reported: str | None = None
        while not self._stopping:
            will = aiomqtt.Will(
                self.topics.status, self._status("offline", reason="connection lost"), 1, True
            )
            client = make_client(
                self.settings, f"posemu-{self.identity.terminal_id}", will=will, persistent=True
            )
            try:
                async with client:
                    self._client = client
                    self.connects += 1
                    self._backoff.reset()
                    if reported:
                        log.warning(
                            "%s: TMS broker %s: connected again",
                            self.identity.terminal_id,
                            self.settings.url,
                        )
                        reported = None
                    await self._session(client)
            except* (aiomqtt.MqttError, OSError) as group:
                self.last_error = str(group.exceptions[0])
            finally:
                settle(client)
                self._client = None
                self.connected.clear()
            if self._stopping:
                return
            self.state = "offline"
            if self.last_error != reported:  # once per kind of trouble, not per retry
                reported = self.last_error
                log.warning(
                    "%s: TMS broker %s: %s; retrying with back-off (reports wait in the outbox)",
                    self.identity.terminal_id,
                    self.settings.url,
                    self.last_error,
                )
            delay = self._backoff.next_delay()
            log.info(
                "%s: broker %s: %s; retry in %.1fs",
                self.identity.terminal_id,
                self.settings.url,
                self.last_error,
                delay,
            )
            await asyncio.sleep(delay)

    async def _session(self, client: aiomqtt.Client) -> None:
        await client.publish(self.topics.status, self._status("online"), qos=1, retain=True)
        await client.subscribe(self.topics.command, qos=1)
        self.state = "online"
        self.last_error = None
        self.connected.set()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._read(client))
            tasks.create_task(self._send(client))
            tasks.create_task(self._beat(client))

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload
            if isinstance(payload, bytes | bytearray):
                await self._on_command(bytes(payload))

    async def _send(self, client: aiomqtt.Client) -> None:
        async def publish(topic: str, payload: bytes) -> None:
            await client.publish(topic, payload, qos=1)

        while True:
            self._wake.clear()
            self.reports_sent += await drain(self.outbox, publish)
            # woken by a new report, or every few seconds: another process on the same data
            # directory (``posemu repair``, a one-shot ``posemu pay``) may have added some
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(OUTBOX_POLL):
                    await self._wake.wait()

    async def _beat(self, client: aiomqtt.Client) -> None:
        while True:
            self._beat_seq += 1  # across reconnects, so a TMS sees gaps, not restarts
            body = report("heartbeat", self.identity, seq=self._beat_seq, **self._health())
            # retained: a console that starts later sees each terminal's last health at once
            await client.publish(self.topics.of("heartbeat"), encode(body), qos=1, retain=True)
            self.heartbeats_sent += 1
            self.beats_acked.append(self._beat_seq)
            await asyncio.sleep(self.heartbeat_interval)

    async def flush(self, timeout: float) -> bool:
        """Wait until the outbox is empty (True) or ``timeout`` passes (False)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self.outbox.depth():
                    self.kick()
                    await asyncio.sleep(0.05)
        return self.outbox.depth() == 0

    async def stop(self) -> None:
        """Say "offline" (retained, so a TMS sees a clean stop, not a lost connection)."""
        self._stopping = True
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(2):
                    await client.publish(
                        self.topics.status, self._status("offline", reason="stopped"), 1, True
                    )
        self.state = "stopped"
