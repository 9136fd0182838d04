"""The terminal engine: the orchestrator that turns operator actions into host messages.

:class:`TerminalService` is the only I/O-doing part of the terminal; it uses the pure core,
the store and the host link. ``events`` are what a UI listens to, ``errors`` what it catches.
"""

from __future__ import annotations

from terminal.core.events import (
    Connecting,
    LinkFailed,
    QrPending,
    ReceiptReady,
    Received,
    ReversalDelivered,
    ReversalQueued,
    Sent,
    SignedOn,
    Waiting,
)
from terminal.core.events import Event as TerminalEvent
from terminal.engine.cardinput import CardInput, CardRead, CardSource
from terminal.engine.errors import (
    AmbiguousReferenceError,
    ChipRequiredError,
    EngineError,
    HostFailureError,
    HostProtocolError,
    HostUnavailableError,
    InputError,
    KeysRejectedError,
    NotAllowedError,
    OriginalNotFoundError,
    PinRequiredError,
    ServiceStateError,
    SignOnError,
)
from terminal.engine.qrsession import MpmSession
from terminal.engine.results import TxnRef, TxnResult
from terminal.engine.service import LinkFactory, TerminalService

__all__ = [
    "AmbiguousReferenceError",
    "CardInput",
    "CardRead",
    "CardSource",
    "ChipRequiredError",
    "Connecting",
    "EngineError",
    "HostFailureError",
    "HostProtocolError",
    "HostUnavailableError",
    "InputError",
    "KeysRejectedError",
    "LinkFactory",
    "LinkFailed",
    "MpmSession",
    "NotAllowedError",
    "OriginalNotFoundError",
    "PinRequiredError",
    "QrPending",
    "ReceiptReady",
    "Received",
    "ReversalDelivered",
    "ReversalQueued",
    "Sent",
    "ServiceStateError",
    "SignOnError",
    "SignedOn",
    "TerminalEvent",
    "TerminalService",
    "TxnRef",
    "TxnResult",
    "Waiting",
]
