"""Typed errors of the agent; the CLI turns each into one line in the user's terms."""

from __future__ import annotations

__all__ = [
    "AgentError",
    "BrokerUrlError",
    "CommandRefused",
    "KeyFileError",
    "OutboxError",
]


class AgentError(Exception):
    """Base of every error the agent raises on purpose."""


class BrokerUrlError(AgentError, ValueError):
    """A ``--tms``/``--broker`` URL or TLS option the agent cannot use."""


class OutboxError(AgentError):
    """The outbox database cannot be opened or written (reports are then not accepted)."""


class KeyFileError(AgentError):
    """A TMS signing or verification key file is missing or not an Ed25519 key."""


class CommandRefused(AgentError):
    """A remote command the agent will not run; ``reason`` is sent back to the TMS."""

    def __init__(
        self, reason: str, *, command_id: str | None = None, name: str | None = None
    ) -> None:
        self.reason = reason
        self.command_id = command_id
        self.name = name
        super().__init__(reason)
