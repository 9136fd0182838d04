"""Progress events the engine emits while it works, for a UI that must not poll.

Each is a small frozen dataclass; a ``TerminalService`` calls its ``on_event`` callback
synchronously with them (the callback must be quick and must not raise). Events never carry
card data: PANs appear masked, and no event carries track data, PINs or keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from iso8583.acquirer.model import Kind

__all__ = [
    "Connecting",
    "LinkFailed",
    "QrPending",
    "ReceiptReady",
    "Received",
    "ReversalDelivered",
    "ReversalQueued",
    "Sent",
    "SignedOn",
    "TerminalEvent",
    "Waiting",
]


@dataclass(frozen=True, slots=True)
class TerminalEvent:
    """Base class of every engine event."""


@dataclass(frozen=True, slots=True)
class Connecting(TerminalEvent):
    endpoint: str


@dataclass(frozen=True, slots=True)
class LinkFailed(TerminalEvent):
    """The link failed; ``reason`` is one line (refused, timeout, closed, bad frame)."""

    endpoint: str
    reason: str


@dataclass(frozen=True, slots=True)
class Sent(TerminalEvent):
    kind: Kind
    stan: str
    mti: str


@dataclass(frozen=True, slots=True)
class Waiting(TerminalEvent):
    """A request is out; the answer is due within ``timeout`` seconds."""

    kind: Kind
    stan: str
    timeout: float


@dataclass(frozen=True, slots=True)
class Received(TerminalEvent):
    kind: Kind
    stan: str
    response_code: str


@dataclass(frozen=True, slots=True)
class ReversalQueued(TerminalEvent):
    """A reversal for journal entry ``journal_id`` waits in store-and-forward."""

    journal_id: int
    stan: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReversalDelivered(TerminalEvent):
    journal_id: int
    stan: str
    response_code: str


@dataclass(frozen=True, slots=True)
class SignedOn(TerminalEvent):
    """New working keys are in use; check values only, never key bytes."""

    pin_kcv: str
    mac_kcv: str


@dataclass(frozen=True, slots=True)
class QrPending(TerminalEvent):
    """The customer has not paid the MPM order yet."""

    order_ref: str
    elapsed: float


@dataclass(frozen=True, slots=True)
class ReceiptReady(TerminalEvent):
    journal_id: int
    copy: str  # "merchant" | "customer"
    text: str
