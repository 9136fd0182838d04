"""What the TUI is given to work with: a payment backend, the journal, a clock.

Why ports: the TUI never picks adapters (``terminal.cli`` does). It sees the terminal only
through :class:`PosBackend` (the operations of ``terminal.engine.TerminalService``),
:class:`JournalReader` (the journal of ``terminal.store.TerminalStore``) and an
:class:`EventRelay` that the wiring code hands to the service as its ``on_event`` callback,
so the service can be built before the App that listens to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from terminal.config import TerminalConfig
from terminal.core.journal import JournalEntry, JournalQuery, ReceiptCopyRecord
from terminal.engine.cardinput import CardInput
from terminal.engine.events import TerminalEvent
from terminal.engine.results import TxnRef, TxnResult

__all__ = [
    "Clock",
    "EventRelay",
    "JournalReader",
    "MpmSessionLike",
    "PosBackend",
    "PosServices",
    "package_version",
]

Clock = Callable[[], datetime]


@runtime_checkable
class MpmSessionLike(Protocol):
    """A merchant-presented QR order: show ``payload``, then ``await wait()``; ``cancel()``
    when the customer walks away (the order is reversed at the host)."""

    @property
    def payload(self) -> str: ...

    @property
    def order_ref(self) -> str: ...

    async def wait(self) -> TxnResult: ...

    async def cancel(self) -> TxnResult: ...

    def simulate_pay(self) -> Awaitable[object] | object: ...

    def simulate_decline(self, code: str = "05") -> Awaitable[object] | object: ...


class PosBackend(Protocol):
    """The operations of the terminal engine, exactly as the TUI calls them.

    ``deliver_pending`` sends queued reversals now (returns how many are left): the TUI
    calls it after the cashier cancels, so the reversal is shown rather than deferred.
    """

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def signon(self) -> TxnResult: ...
    async def echo(self) -> TxnResult: ...
    async def sale(self, amount: int, card: CardInput, pin: str | None = None) -> TxnResult: ...
    async def void(self, ref: TxnRef) -> TxnResult: ...
    async def refund(self, ref_or_card: TxnRef | CardInput, amount: int) -> TxnResult: ...
    async def preauth(self, amount: int, card: CardInput, pin: str | None = None) -> TxnResult: ...
    async def completion(self, ref: TxnRef, amount: int) -> TxnResult: ...
    async def balance(self, card: CardInput, pin: str | None = None) -> TxnResult: ...
    async def qr_mpm(self, amount: int) -> MpmSessionLike: ...
    async def qr_cpm(self, amount: int, code: str) -> TxnResult: ...
    async def settle(self) -> TxnResult: ...
    async def deliver_pending(self) -> int: ...


class JournalReader(Protocol):
    """The part of the journal the TUI uses: find lost receipts, record reprints."""

    def find(self, query: JournalQuery) -> list[JournalEntry]: ...
    def get(self, journal_id: int) -> JournalEntry: ...
    def set_copy_status(self, journal_id: int, copy: ReceiptCopyRecord) -> None: ...


class EventRelay:
    """Fans engine events out to whoever listens; pass it to the service as ``on_event``.

    The engine requires its callback to be quick and never raise, so a failing listener is
    dropped from this one call rather than allowed to break a payment in flight.
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[TerminalEvent], None]] = []

    def subscribe(self, listener: Callable[[TerminalEvent], None]) -> Callable[[], None]:
        """Add ``listener``; returns the function that removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def __call__(self, event: TerminalEvent) -> None:
        for listener in tuple(self._listeners):
            with contextlib.suppress(Exception):
                listener(event)


def package_version() -> str:
    """The installed posemu version: what the devices panel reports as firmware."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("posemu")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(slots=True)
class PosServices:
    """Everything the App receives (dependency injection): no adapter is built in the TUI."""

    backend: PosBackend
    journal: JournalReader
    config: TerminalConfig
    events: EventRelay = field(default_factory=EventRelay)
    clock: Clock = datetime.now
    version: str = field(default_factory=package_version)
    host_label: str = ""  # where the host is, for the status bar and devices panel
    signon_at_start: bool = True  # a real terminal signs on when it boots
    #: ``(name, shown value, source)`` of each setting (terminal.settings.describe).
    settings: list[tuple[str, str, str]] = field(default_factory=list)
