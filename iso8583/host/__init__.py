"""The reference acquirer host simulator: what a terminal talks to in tests and demos.

``rules`` decides answers from test inputs (cents of the amount, test card lists, PIN),
``validate`` checks mandatory fields and formats, ``ledger`` remembers approvals for voids,
refunds, reversals and settlement, ``state`` keeps ledger and keys in SQLite across processes,
``engine`` turns one request message into one reply with no I/O, ``server`` serves the engine
on TCP (``listener``: caps, eviction, descriptor exhaustion; ``sniff``: first-frame checks;
``tls``: server TLS) with the dialect's framing, ``embedded`` runs that server in a background
thread, ``traces`` makes docs/host-protocol.md's samples. ``posemu host`` is
the command-line face; docs/host.md is the tester's guide.
"""

from __future__ import annotations

from iso8583.host.embedded import EmbeddedHost
from iso8583.host.engine import HandleResult, HostEngine
from iso8583.host.ledger import Entry, Ledger, LedgerView, OrderState, QrOrder, Status
from iso8583.host.rules import (
    Decision,
    HostError,
    Rules,
    RulesError,
    Timing,
    default_rules,
    load_rules,
    rules_from_mapping,
)
from iso8583.host.server import HostServer
from iso8583.host.state import HostStateError, HostStateStore
from iso8583.host.tls import TlsConfigError, server_tls_context

__all__ = [
    "Decision",
    "EmbeddedHost",
    "Entry",
    "HandleResult",
    "HostEngine",
    "HostError",
    "HostServer",
    "HostStateError",
    "HostStateStore",
    "Ledger",
    "LedgerView",
    "OrderState",
    "QrOrder",
    "Rules",
    "RulesError",
    "Status",
    "Timing",
    "TlsConfigError",
    "default_rules",
    "load_rules",
    "rules_from_mapping",
    "server_tls_context",
]
