"""The embedded broker (amqtt) for the one-command run: 127.0.0.1 only, a free port, no
persistence. A real deployment points ``--tms`` at its own broker instead."""

from __future__ import annotations

import logging
from typing import Any

from agent.errors import AgentError

__all__ = ["EmbeddedBroker"]


class EmbeddedBroker:
    """``async with EmbeddedBroker() as broker: broker.url`` → ``mqtt://127.0.0.1:PORT``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> str:
        from amqtt.broker import Broker  # imported here: amqtt is only needed for this

        # amqtt logs every connection at INFO; keep the TUI's log free of it.
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        broker = Broker(config)
        try:
            await broker.start()
        except Exception as exc:  # amqtt wraps bind errors in its own BrokerError
            raise AgentError(f"embedded broker on {self.host}:{self.port}: {exc}") from exc
        server = broker._servers["default"].instance
        self.port = int(server.sockets[0].getsockname()[1])
        self._broker = broker
        return self.url

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
