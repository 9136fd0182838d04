"""``TerminalRuntime``: the one place that builds a terminal from a config and runs it.

It owns the store, the event bus, the receipt service, the devices and the engine, and
offers ``start``, ``stop`` and ``restart(new_config)``. Front ends (the TUI, ``posemu
pay``, later the device agent and the firmware installer) hold the runtime and its
``engine`` handle; both survive restarts, so a parameter download or an A/B switch does
not invalidate what they hold. Everything that happens is published on ``bus``.

Why a thread of its own: the engine, its SQLite writes (fsync'd) and its host link run on
the runtime's event loop in one I/O thread, never on the caller's loop: the TUI stays
responsive while a sale makes its durable writes. Callers ``await runtime.engine.sale(...)``
from any event loop; cancelling that await cancels the operation in the engine (which then
reverses whatever may have reached the host).

``async with runtime.idle():`` waits until no transaction is in flight and holds new ones
off while inside (they wait, they are not refused); ``restart`` does the same around the
swap, so a restart under load finishes the transaction in flight first, and a reversal
queued before it is delivered by the engine that starts after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from iso8583 import get_spec
from iso8583.spec import Spec
from terminal.config import TerminalConfig
from terminal.core.events import (
    Event,
    EventBus,
    Lifecycle,
    LifecyclePhase,
    LinkState,
    LinkStateChanged,
    TxnFinished,
    TxnStarted,
    link_state_of,
)
from terminal.core.ports import JournalFeed, Link, ReceiptPrinter, TerminalStorage
from terminal.core.receipting import ReceiptService
from terminal.devices import NoPrinter
from terminal.engine import CardInput, MpmSession, TerminalService, TxnRef, TxnResult
from terminal.engine.errors import ServiceStateError
from terminal.firmware import apply_firmware
from terminal.net.link import link_for
from terminal.store import TerminalStore

__all__ = ["Devices", "EngineHandle", "Hook", "MpmHandle", "TerminalRuntime"]

_LOG = logging.getLogger("posemu.runtime")
_T = TypeVar("_T")

#: An extra start/stop step (the agent, a serial device): a coroutine function, run on the
#: runtime's loop, after the engine starts / before it stops.
Hook = Callable[[], Awaitable[None]]
LinkFactory = Callable[[TerminalConfig, Spec], Link]
StoreFactory = Callable[[], TerminalStorage]


@dataclass(slots=True)
class Devices:
    """The terminal's devices: the printer the receipt service uses, and any others a
    plug-in registers by name (readers, scanners)."""

    printer: ReceiptPrinter
    others: dict[str, object] = field(default_factory=dict)


class TerminalRuntime:
    """Build with a config, ``await start()``, use ``engine``/``receipts``/``journal``,
    ``await stop()``; ``close()`` releases the store and the I/O thread at the end."""

    def __init__(
        self,
        config: TerminalConfig,
        *,
        data_dir: Path | str | None = None,
        spec: Spec | None = None,
        bus: EventBus | None = None,
        printer: ReceiptPrinter | None = None,
        store: StoreFactory | None = None,
        link_factory: LinkFactory | None = None,
        clock: Callable[[], datetime] = datetime.now,
        lock_timeout: float = 15.0,
    ) -> None:
        self.config = config
        self.bus = bus or EventBus()
        self._spec = spec if spec is not None else get_spec(config.spec)
        self._clock = clock
        self._lock_timeout = lock_timeout
        self._link_factory = link_factory or (lambda cfg, spec: link_for(cfg, spec=spec))
        self.store: TerminalStorage = store() if store is not None else TerminalStore(data_dir)
        self.journal: JournalFeed = self.store.journal
        self.devices = Devices(printer or NoPrinter())
        self.receipts = ReceiptService(
            self.store.journal,
            _DevicePrinter(self.devices),
            publish=self.bus.publish,
            width=config.receipt_width,
            clock=clock,
        )
        self.engine = EngineHandle(self)
        self.service = self._build_service(config)
        self._hooks: list[tuple[str, Hook | None, Hook | None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._loop_lock = threading.Lock()
        self._closed = False
        self._inflight = 0
        self._held = 0
        self._cond: asyncio.Condition | None = None
        self._link_state = LinkState.UNKNOWN

    # --- wiring ---------------------------------------------------------------------------
    @property
    def spec(self) -> Spec:
        return self._spec

    def _build_service(self, config: TerminalConfig) -> TerminalService:
        data_dir = getattr(self.store, "data_dir", None)
        if data_dir is not None:  # the installed firmware's parameters (receipt footer...)
            config = apply_firmware(config, data_dir)
        spec = self._spec
        return TerminalService(
            config,
            self.store,
            lambda: self._link_factory(config, spec),
            on_event=self._engine_event,
            spec=spec,
            clock=self._clock,
            lock_timeout=self._lock_timeout,
        )

    def add_hook(self, name: str, *, start: Hook | None = None, stop: Hook | None = None) -> None:
        """Run ``start`` after the engine starts (and after every restart), ``stop`` before
        it stops; on the runtime's loop. A failing hook is logged, never fatal."""
        self._hooks.append((name, start, stop))

    def add_device(self, name: str, device: object) -> None:
        """Register a device (a serial reader, a scanner) for others to find by name; it
        reports its state on the bus as :class:`~terminal.core.events.DeviceEvent`."""
        self.devices.others[name] = device

    def set_printer(self, printer: ReceiptPrinter) -> None:
        """Swap the printer (a serial printer plugged in); the next copy uses it."""
        self.devices.printer = printer

    def _engine_event(self, event: Event) -> None:
        """The engine's events go on the bus, each link state change right after its cause."""
        self.bus.publish(event)
        state = link_state_of(event)
        if state is not None and state is not self._link_state:
            self._link_state = state
            detail = getattr(event, "reason", "")
            self.bus.publish(LinkStateChanged(state, self.config.host, detail))

    @property
    def link_state(self) -> LinkState:
        return self._link_state

    # --- the I/O thread -------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._closed:
                raise ServiceStateError("the terminal runtime is closed")
            if self._loop is None:
                self._loop = self._start_thread()
            return self._loop

    def _start_thread(self) -> asyncio.AbstractEventLoop:
        """The runtime's loop, in a thread of its own ("posemu-engine")."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="posemu-engine", daemon=True)
        self._thread.start()
        ready.wait()
        return loop

    async def _on_loop(self, make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        """Run ``make()`` on the runtime's loop and await it from the caller's loop."""
        loop = self._ensure_loop()
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is loop:
            return await make()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(make(), loop))

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    # --- lifecycle ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.service.running

    async def start(self) -> None:
        """Start the engine (load keys, recover, try queued reversals once) and the hooks."""
        await self._on_loop(self._start)

    async def _start(self) -> None:
        if self.service.running:
            return
        self.bus.publish(Lifecycle(LifecyclePhase.STARTING))
        await self.service.start()
        await self._run_hooks(start=True)
        self.bus.publish(Lifecycle(LifecyclePhase.STARTED, self.service.config.host))

    async def stop(self) -> None:
        """Stop after the transaction in flight; queued reversals stay queued."""
        if self._loop is None:
            return
        await self._on_loop(self._stop)

    async def _stop(self) -> None:
        if not self.service.running:
            return
        self.bus.publish(Lifecycle(LifecyclePhase.STOPPING))
        async with self._quiet():
            await self._run_hooks(start=False)
            await self.service.stop()
        self.bus.publish(Lifecycle(LifecyclePhase.STOPPED))

    async def restart(self, new_config: TerminalConfig | None = None) -> None:
        """Finish the transaction in flight, stop, take ``new_config``, start again."""
        await self._on_loop(lambda: self._restart(new_config))

    async def _restart(self, new_config: TerminalConfig | None) -> None:
        self.bus.publish(Lifecycle(LifecyclePhase.RESTARTING))
        async with self._quiet():
            was_running = self.service.running
            if was_running:
                await self._run_hooks(start=False)
                await self.service.stop()
            if new_config is not None:
                if new_config.spec != self._spec.name:
                    self._spec = get_spec(new_config.spec)
                self.config = new_config
                self.receipts.width = new_config.receipt_width
            self.service = self._build_service(self.config)
            self._link_state = LinkState.UNKNOWN
            try:
                await self.service.start()
            except Exception as exc:  # a broken store: stopped, and say why
                self.bus.publish(Lifecycle(LifecyclePhase.STOPPED, str(exc)))
                raise
            await self._run_hooks(start=True)
        self.bus.publish(Lifecycle(LifecyclePhase.STARTED, self.config.host))

    async def _run_hooks(self, *, start: bool) -> None:
        hooks = self._hooks if start else list(reversed(self._hooks))
        for name, on_start, on_stop in hooks:
            hook = on_start if start else on_stop
            if hook is None:
                continue
            try:
                await hook()
            except Exception:
                _LOG.exception("runtime hook %s failed on %s", name, "start" if start else "stop")

    def close(self) -> None:
        """Stop the engine if it runs, end the I/O thread and close the store (once)."""
        with self._loop_lock:
            if self._closed:
                return
            self._closed = True
            loop, self._loop = self._loop, None
        if loop is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._stop_quietly(), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(10)
            loop.close()
        self.store.close()

    async def _stop_quietly(self) -> None:
        with contextlib.suppress(Exception):
            await self._stop()

    # --- idle: no transaction in flight ---------------------------------------------------
    @contextlib.asynccontextmanager
    async def idle(self) -> AsyncIterator[None]:
        """Wait for the transaction in flight to finish; new ones wait while inside."""
        await self._on_loop(self._hold)
        try:
            yield
        finally:
            await self._on_loop(self._release)

    @contextlib.asynccontextmanager
    async def _quiet(self) -> AsyncIterator[None]:
        await self._hold()
        try:
            yield
        finally:
            await self._release()

    async def _hold(self) -> None:
        cond = self._condition()
        async with cond:
            self._held += 1
            await cond.wait_for(lambda: self._inflight == 0)

    async def _release(self) -> None:
        cond = self._condition()
        async with cond:
            self._held -= 1
            cond.notify_all()

    async def _enter_txn(self, operation: str, amount: int | None) -> None:
        cond = self._condition()
        async with cond:
            await cond.wait_for(lambda: self._held == 0)
            self._inflight += 1
        self.bus.publish(TxnStarted(operation, amount))

    async def _leave_txn(self) -> None:
        cond = self._condition()
        async with cond:
            self._inflight -= 1
            cond.notify_all()

    async def transaction(
        self,
        operation: str,
        amount: int | None,
        call: Callable[[TerminalService], Coroutine[Any, Any, _T]],
        *,
        keep_open: Callable[[_T], bool] = lambda _r: False,
    ) -> _T:
        """Run one engine operation on the runtime's loop, counted as in flight and
        published as TxnStarted/TxnFinished. ``keep_open(result)``: the transaction goes on
        after the call (a QR order); then its session ends it."""

        async def run() -> _T:
            await self._enter_txn(operation, amount)
            finished = True
            try:
                result = await call(self.service)
                finished = not keep_open(result)
                if finished:
                    self._publish_result(operation, result)
                return result
            except BaseException as exc:
                self.bus.publish(TxnFinished(operation, error=str(exc) or type(exc).__name__))
                raise
            finally:
                if finished:
                    await self._leave_txn()

        return await self._on_loop(run)

    def _publish_result(self, operation: str, result: object) -> None:
        if isinstance(result, MpmSession) and result.result is not None:
            result = result.result  # a QR order that ended at once (declined, host down)
        if isinstance(result, TxnResult):
            self.bus.publish(
                TxnFinished(
                    operation,
                    kind=result.kind,
                    approved=result.approved,
                    response_code=result.response_code,
                    journal_id=result.journal_id,
                    stan=result.stan,
                    amount=result.amount,
                    state=result.state.value if result.state is not None else "",
                    reversal_pending=result.reversal_pending,
                    error=result.error,
                )
            )
        else:
            self.bus.publish(TxnFinished(operation))


class _DevicePrinter:
    """Whatever printer the devices hold right now (it may be swapped while running)."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices

    @property
    def name(self) -> str:
        return self._devices.printer.name

    def print_job(self, job: Any) -> None:
        self._devices.printer.print_job(job)


class MpmHandle:
    """A QR order shown to the customer, usable from any loop; ends the transaction when
    paid, declined, timed out or cancelled."""

    def __init__(self, runtime: TerminalRuntime, session: MpmSession) -> None:
        self._runtime = runtime
        self._session = session
        self._open = not session.done

    @property
    def payload(self) -> str:
        return self._session.payload

    @property
    def order_ref(self) -> str:
        return self._session.order_ref

    @property
    def done(self) -> bool:
        return self._session.done

    @property
    def result(self) -> TxnResult | None:
        return self._session.result

    async def wait(self) -> TxnResult:
        return await self._end(self._session.wait)

    async def cancel(self) -> TxnResult:
        return await self._end(self._session.cancel)

    async def _end(self, call: Callable[[], Coroutine[Any, Any, TxnResult]]) -> TxnResult:
        runtime = self._runtime

        async def run() -> TxnResult:
            try:
                result = await call()
            except BaseException as exc:
                if self._open:
                    runtime.bus.publish(TxnFinished("qr_mpm", error=str(exc) or "cancelled"))
                raise
            else:
                if self._open:
                    runtime._publish_result("qr_mpm", result)
                return result
            finally:
                if self._open:  # paid, declined, timed out, cancelled or abandoned
                    self._open = False
                    await runtime._leave_txn()

        return await runtime._on_loop(run)


class EngineHandle:
    """The engine's operations, callable from any event loop; survives restarts."""

    def __init__(self, runtime: TerminalRuntime) -> None:
        self._rt = runtime

    @property
    def running(self) -> bool:
        return self._rt.running

    @property
    def config(self) -> TerminalConfig:
        return self._rt.config

    async def start(self) -> None:
        await self._rt.start()

    async def stop(self) -> None:
        await self._rt.stop()

    def pending_reversals(self) -> int:
        return len(self._rt.store.saf.pending())

    async def signon(self) -> TxnResult:
        return await self._rt.transaction("signon", None, lambda s: s.signon())

    async def echo(self) -> TxnResult:
        return await self._rt.transaction("echo", None, lambda s: s.echo())

    async def sale(self, amount: int, card: CardInput, pin: str | None = None) -> TxnResult:
        return await self._rt.transaction("sale", amount, lambda s: s.sale(amount, card, pin))

    async def preauth(self, amount: int, card: CardInput, pin: str | None = None) -> TxnResult:
        return await self._rt.transaction("preauth", amount, lambda s: s.preauth(amount, card, pin))

    async def balance(self, card: CardInput, pin: str | None = None) -> TxnResult:
        return await self._rt.transaction("balance", None, lambda s: s.balance(card, pin))

    async def void(self, ref: TxnRef | int) -> TxnResult:
        return await self._rt.transaction("void", None, lambda s: s.void(ref))

    async def refund(self, ref_or_card: TxnRef | int | CardInput, amount: int) -> TxnResult:
        return await self._rt.transaction("refund", amount, lambda s: s.refund(ref_or_card, amount))

    async def completion(self, ref: TxnRef | int, amount: int) -> TxnResult:
        return await self._rt.transaction("completion", amount, lambda s: s.completion(ref, amount))

    async def qr_cpm(self, amount: int, code: str) -> TxnResult:
        return await self._rt.transaction("qr_cpm", amount, lambda s: s.qr_cpm(amount, code))

    async def qr_mpm(self, amount: int) -> MpmHandle:
        session = await self._rt.transaction(
            "qr_mpm", amount, lambda s: s.qr_mpm(amount), keep_open=lambda m: not m.done
        )
        return MpmHandle(self._rt, session)

    async def settle(self) -> TxnResult:
        return await self._rt.transaction("settle", None, lambda s: s.settle())

    async def deliver_pending(self) -> int:
        """Deliver queued reversals now (not counted as a transaction: it is the tail of
        one, e.g. after the cashier cancelled)."""
        return await self._rt._on_loop(lambda: self._rt.service.deliver_pending())
