"""The terminal's events and the bus that carries them to whoever listens.

Why a bus with one bounded queue per subscriber: the engine must never wait for a listener
(a slow TUI frame, an agent whose broker is down), and a listener must see events in the
order they happened. :meth:`EventBus.publish` is thread-safe, never blocks and never raises;
each :class:`Subscription` buffers up to ``maxsize`` deliveries.

Overflow: when a subscriber's queue is full, its *oldest* undelivered item is dropped (the
newest state is what matters to a status display), order is kept, and the gap is visible:
the next item it receives has ``missed`` = how many were dropped just before it, and
``Subscription.dropped`` counts them all. Sequence numbers (``seq``) are bus-wide and
consecutive, so a consumer can also check ``seq`` for gaps.

Events are frozen dataclasses that never carry card data: PANs appear masked, and no event
carries track data, PIN blocks or keys (check values only).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType

from iso8583.acquirer.model import TxnKind

__all__ = [
    "Connecting",
    "Delivery",
    "DeviceCondition",
    "DeviceEvent",
    "DeviceRole",
    "Event",
    "EventBus",
    "Lifecycle",
    "LifecyclePhase",
    "LinkFailed",
    "LinkState",
    "LinkStateChanged",
    "QrPending",
    "ReceiptCopyFailed",
    "ReceiptCopyPrinted",
    "ReceiptReady",
    "Received",
    "ReversalDelivered",
    "ReversalQueued",
    "Sent",
    "SignedOn",
    "Subscription",
    "SubscriptionClosed",
    "TxnFinished",
    "TxnStarted",
    "Waiting",
    "link_state_of",
]

_LOG = logging.getLogger("posemu.events")
DEFAULT_MAXSIZE = 1000


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of every event on the bus."""


# --- the host link and the engine's progress ----------------------------------------------
@dataclass(frozen=True, slots=True)
class Connecting(Event):
    endpoint: str


@dataclass(frozen=True, slots=True)
class LinkFailed(Event):
    """The link failed; ``reason`` is one line (refused, timeout, closed, bad frame)."""

    endpoint: str
    reason: str


class LinkState(StrEnum):
    UNKNOWN = "unknown"
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class LinkStateChanged(Event):
    """The host link changed state (published once per change, not per message)."""

    state: LinkState
    endpoint: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Sent(Event):
    kind: TxnKind
    stan: str
    mti: str


@dataclass(frozen=True, slots=True)
class Waiting(Event):
    """A request is out; the answer is due within ``timeout`` seconds."""

    kind: TxnKind
    stan: str
    timeout: float


@dataclass(frozen=True, slots=True)
class Received(Event):
    kind: TxnKind
    stan: str
    response_code: str


@dataclass(frozen=True, slots=True)
class ReversalQueued(Event):
    """A reversal for journal entry ``journal_id`` waits in store-and-forward."""

    journal_id: int
    stan: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReversalDelivered(Event):
    journal_id: int
    stan: str
    response_code: str


@dataclass(frozen=True, slots=True)
class SignedOn(Event):
    """New working keys are in use; check values only, never key bytes."""

    pin_kcv: str
    mac_kcv: str


@dataclass(frozen=True, slots=True)
class QrPending(Event):
    """The customer has not paid the MPM order yet."""

    order_ref: str
    elapsed: float


# --- transactions -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TxnStarted(Event):
    """An operation began (``operation`` is the engine method: sale, void, settle...)."""

    operation: str
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class TxnFinished(Event):
    """An operation ended; ``error`` is set when it raised instead of returning a result."""

    operation: str
    kind: TxnKind | None = None
    approved: bool = False
    response_code: str = ""
    journal_id: int | None = None
    stan: str = ""
    amount: int | None = None
    state: str = ""
    reversal_pending: bool = False
    error: str = ""


# --- receipts -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReceiptReady(Event):
    """The engine stored a receipt copy as pending: it waits for the printer."""

    journal_id: int
    copy: str  # "merchant" | "customer"


@dataclass(frozen=True, slots=True)
class ReceiptCopyPrinted(Event):
    journal_id: int
    copy: str
    duplicate: bool
    printer: str


@dataclass(frozen=True, slots=True)
class ReceiptCopyFailed(Event):
    """A copy did not print; it stays in the journal as failed with ``reason``."""

    journal_id: int
    copy: str
    duplicate: bool
    printer: str
    reason: str


# --- devices ------------------------------------------------------------------------------
class DeviceRole(StrEnum):
    READER = "reader"
    PRINTER = "printer"
    SCANNER = "scanner"


class DeviceCondition(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    PAPER_NEAR_END = "paper_near_end"
    COVER_OPEN = "cover_open"
    READ_ERROR = "read_error"
    RECOVERED = "recovered"


@dataclass(frozen=True, slots=True)
class DeviceEvent(Event):
    role: DeviceRole
    name: str
    url: str
    condition: DeviceCondition
    detail: str = ""


# --- the runtime --------------------------------------------------------------------------
class LifecyclePhase(StrEnum):
    STARTING = "starting"
    STARTED = "started"
    STOPPING = "stopping"
    STOPPED = "stopped"
    RESTARTING = "restarting"


@dataclass(frozen=True, slots=True)
class Lifecycle(Event):
    phase: LifecyclePhase
    detail: str = ""


def link_state_of(event: Event) -> LinkState | None:
    """How an engine event changes the host link's state (None: no change)."""
    if isinstance(event, Connecting):
        return LinkState.CONNECTING
    if isinstance(event, LinkFailed):
        return LinkState.OFFLINE
    if isinstance(event, Sent | Received | ReversalDelivered | SignedOn):
        return LinkState.ONLINE
    return None


# --- the bus ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Delivery:
    """One event as a subscriber receives it.

    ``seq`` is bus-wide and consecutive; ``at`` is when it was published (aware UTC);
    ``missed`` is how many items this subscriber lost to overflow just before this one.
    """

    seq: int
    at: datetime
    event: Event
    missed: int = 0


class SubscriptionClosed(Exception):
    """``get`` on a closed subscription with nothing left to deliver."""


class Subscription:
    """A subscriber's own bounded queue: ``async for d in sub`` or ``sub.get(timeout)``."""

    def __init__(self, bus: EventBus, name: str, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.name = name
        self.maxsize = maxsize
        self.dropped = 0  # items lost to overflow, in total
        self._bus = bus
        self._items: deque[Delivery] = deque()
        self._missed = 0  # lost since the last delivered item
        self._closed = False
        self._cond = threading.Condition(threading.Lock())
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._items)

    # --- producer side (the bus) ----------------------------------------------------------
    def _put(self, item: Delivery) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._items) >= self.maxsize:
                self._items.popleft()
                self._missed += 1
                self.dropped += 1
            self._items.append(item)
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_wake, future)

    # --- consumer side --------------------------------------------------------------------
    def _pop(self) -> Delivery:
        item = self._items.popleft()
        if self._missed:
            item, self._missed = replace(item, missed=self._missed), 0
        return item

    def get_nowait(self) -> Delivery | None:
        """The next item, or None when nothing is queued."""
        with self._cond:
            return self._pop() if self._items else None

    def drain(self) -> list[Delivery]:
        """Everything queued now, oldest first."""
        with self._cond:
            items = []
            while self._items:
                items.append(self._pop())
            return items

    def get(self, timeout: float | None = None) -> Delivery | None:
        """Wait up to ``timeout`` seconds for the next item (None: timed out).

        Raises :class:`SubscriptionClosed` once closed and empty.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._items or self._closed, timeout):
                return None
            if self._items:
                return self._pop()
            raise SubscriptionClosed(self.name)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Delivery:
        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                if self._items:
                    return self._pop()
                if self._closed:
                    raise StopAsyncIteration
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.append((loop, future))
            await future

    def close(self) -> None:
        """Stop receiving; waiting consumers wake up and stop (queued items stay readable)."""
        self._bus._remove(self)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_wake, future)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class EventBus:
    """Publish from any thread; every subscriber gets every event, in publication order."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._subs: tuple[Subscription, ...] = ()

    def publish(self, event: Event) -> None:
        """Queue ``event`` for every subscriber; never blocks on them, never raises."""
        try:
            with self._lock:  # one order for everyone: seq and queueing under one lock
                item = Delivery(next(self._seq), self._clock(), event)
                for sub in self._subs:
                    sub._put(item)
        except Exception:  # a bus fault must not break a payment
            _LOG.exception("event bus: could not publish %r", event)

    __call__ = publish  # usable wherever an ``on_event`` callback is expected

    def subscribe(self, name: str, *, maxsize: int = DEFAULT_MAXSIZE) -> Subscription:
        """A new subscriber queue; events published from now on are delivered to it."""
        sub = Subscription(self, name, maxsize)
        with self._lock:
            self._subs = (*self._subs, sub)
        return sub

    def listen(
        self,
        name: str,
        callback: Callable[[Delivery], object],
        *,
        maxsize: int = DEFAULT_MAXSIZE,
    ) -> Subscription:
        """Call ``callback`` for each delivery in a thread of its own (named ``name``).

        A callback that blocks holds up only its own queue (which overflows as described
        above); one that raises is logged and keeps receiving. ``close()`` the returned
        subscription to stop the thread.
        """
        sub = self.subscribe(name, maxsize=maxsize)

        def pump() -> None:
            while True:
                try:
                    item = sub.get()
                except SubscriptionClosed:
                    return
                if item is None:
                    continue
                try:
                    callback(item)
                except Exception:
                    _LOG.exception("event listener %s failed on %r", name, item.event)

        thread = threading.Thread(target=pump, name=f"posemu-listener-{name}", daemon=True)
        thread.start()
        return sub

    @property
    def subscribers(self) -> tuple[str, ...]:
        return tuple(s.name for s in self._subs)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)
