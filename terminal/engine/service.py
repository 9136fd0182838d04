"""``TerminalService``: the one orchestrator that does I/O for the terminal.

It wires the pure core (cards, transactions, receipts, QR) to the store and the host link,
and is the only place where those meet. Every operation runs alone (one link, one
transaction at a time), first delivers any queued reversal, signs on when there are no
working keys, and returns a :class:`~terminal.engine.results.TxnResult`.

Failures come in three shapes: bad input raises an :class:`~terminal.engine.errors.InputError`
(or a core ``TerminalError`` such as ``CardDataError``) before anything is written or sent;
an unreachable host before a journal entry exists raises ``HostUnavailableError``; once an
entry exists, the result says what happened (``state``, ``error``, ``reversal_pending``).

The service is restartable in-process: ``start``/``stop``/``start`` reloads the keys from
the store and delivers whatever was queued. One service at a time may run on a data
directory (``engine.lock``); a second one waits up to ``lock_timeout`` seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from iso8583 import get_spec
from iso8583.acquirer.model import Original, Request, TxnKind
from iso8583.acquirer.security import WorkingKeys
from iso8583.pin import encrypt_pin_block
from iso8583.spec import Spec
from terminal.config import TerminalConfig
from terminal.core.errors import LinkError
from terminal.core.events import Event
from terminal.core.journal import JournalEntry, TxnState
from terminal.core.ports import Link, TerminalStorage
from terminal.core.qr import NumericPaymentCode, parse_payment_code
from terminal.core.qr.spent import PaymentCodeLedger
from terminal.core.transactions import build_request, check_amount
from terminal.engine import qrsession, settlement
from terminal.engine.bookkeeping import Bookkeeper
from terminal.engine.cardinput import CardInput
from terminal.engine.errors import HostUnavailableError, NotAllowedError, ServiceStateError
from terminal.engine.exclusive import EngineLock
from terminal.engine.lookup import DEBITS, as_ref, checked_pin, find_original
from terminal.engine.qrsession import MpmSession
from terminal.engine.results import TxnRef, TxnResult
from terminal.engine.runner import NO_ANSWER, Runner
from terminal.engine.session import HostSession
from terminal.net.link import link_for

__all__ = ["EventCallback", "LinkFactory", "TerminalService"]

LinkFactory = Callable[[], Link]
EventCallback = Callable[[Event], None]


class TerminalService:
    """The terminal engine: ``async with TerminalService(config, store) as terminal: ...``."""

    def __init__(
        self,
        config: TerminalConfig,
        store: TerminalStorage,
        link_factory: LinkFactory | None = None,
        *,
        on_event: EventCallback | None = None,
        spec: Spec | None = None,
        clock: Callable[[], datetime] = datetime.now,
        lock_timeout: float = 15.0,
    ) -> None:
        self.config = config
        self.store = store
        self.spec = spec if spec is not None else get_spec(config.spec)
        self._link_factory = link_factory or (lambda: link_for(config, spec=self.spec))
        self._on_event = on_event
        self._clock = clock
        self._runner: Runner | None = None
        folder = getattr(store, "data_dir", None)
        self._exclusive = EngineLock(Path(folder), lock_timeout) if folder is not None else None

    # --- lifecycle ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self, *, deliver: bool = True) -> None:
        """Load keys, close what a crash left open, and try once to deliver queued reversals.

        An unreachable host is not an error here (the next operation tries again, and fails
        if it still cannot deliver); a broken store is.
        """
        if self._runner is not None:
            return
        if self._exclusive is not None:
            await self._exclusive.acquire()
        try:
            runner = self._make_runner()
            self._runner = runner
            runner.books.recover()
            if deliver and runner.books.pending_count():
                async with runner.lock:
                    with contextlib.suppress(*NO_ANSWER):
                        await runner.books.deliver(attempts=1)
        except BaseException:
            await self.stop()
            raise

    def _make_runner(self) -> Runner:
        store, emit = self.store, self._emit
        session = HostSession(
            self.config, self.spec, self._link_factory(), store.keys, store.counters, emit,
            self._clock,
        )  # fmt: skip
        books = Bookkeeper(self.config, store, session, emit, self._clock)
        return Runner(self.config, store, session, books, self._clock)

    async def stop(self) -> None:
        """Close the link and forget the clear keys; queued reversals stay queued."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.session.close()
        if self._exclusive is not None:
            self._exclusive.release()

    async def __aenter__(self) -> TerminalService:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _emit(self, event: Event) -> None:
        if self._on_event is not None:
            with contextlib.suppress(Exception):  # a UI bug must not break a payment
                self._on_event(event)

    def _running(self) -> Runner:
        if self._runner is None:
            raise ServiceStateError("the terminal service is not started")
        return self._runner

    @contextlib.asynccontextmanager
    async def _operation(self, *, ready: bool = True) -> AsyncIterator[Runner]:
        """Hold the operation lock; link failures leave as HostUnavailableError."""
        runner = self._running()
        async with runner.lock:
            try:
                if ready:
                    await runner.ready()
                yield runner
            except LinkError as exc:
                raise HostUnavailableError(str(exc)) from exc

    # --- network management ---------------------------------------------------------------
    async def signon(self) -> TxnResult:
        """Fetch fresh working keys (then deliver queued reversals)."""
        async with self._operation(ready=False) as runner:
            response = await runner.session.signon()
            await runner.ready()
            return runner.plain(TxnKind.SIGNON, response)

    async def echo(self) -> TxnResult:
        async with self._operation() as runner:
            session = runner.session
            response = await session.send(lambda _k: session.request(TxnKind.ECHO), mac=False)
            return runner.plain(TxnKind.ECHO, response)

    async def deliver_pending(self) -> int:
        """Try to deliver every queued reversal now; return how many are still queued."""
        async with self._operation(ready=False) as runner:
            await runner.books.deliver(skip=runner.live_orders)
            return runner.books.pending_count(runner.live_orders)

    def pending_reversals(self) -> int:
        """Reversals waiting in store-and-forward (whether or not the service runs)."""
        return len(self.store.saf.pending())

    # --- card transactions ----------------------------------------------------------------
    async def sale(self, amount: int, card: CardInput, pin: str | None = None) -> TxnResult:
        return await self._card(TxnKind.SALE, amount, card, pin)

    async def preauth(self, amount: int, card: CardInput, pin: str | None = None) -> TxnResult:
        return await self._card(TxnKind.PREAUTH, amount, card, pin)

    async def balance(self, card: CardInput, pin: str | None = None) -> TxnResult:
        return await self._card(TxnKind.BALANCE, None, card, pin)

    async def _card(
        self, kind: TxnKind, amount: int | None, card: CardInput, pin: str | None
    ) -> TxnResult:
        if amount is not None:
            check_amount(amount)
        read = card.read(chip_capable=self.config.chip_capable)
        pin = checked_pin(read, pin)
        async with self._operation() as runner:
            stan, invoice, batch, now = runner.numbers()

            def build(keys: WorkingKeys | None) -> Request:
                block = None
                if pin is not None:
                    assert keys is not None  # the runner made sure of them
                    block = encrypt_pin_block(pin, read.pan, keys.pin_key)
                return build_request(
                    kind, self.config, stan=stan, local_time=now, batch=batch,
                    amount=amount, card=read, pin_block=block,
                )  # fmt: skip

            return await runner.transact(
                build, invoice=invoice, masked_pan=read.masked_pan, brand=read.brand.value,
                pan=read.pan, pin_verified=pin is not None,
            )  # fmt: skip

    async def void(self, ref: TxnRef | int) -> TxnResult:
        """Void an approved debit of the open batch."""
        ref = as_ref(ref)
        self._original(ref, DEBITS, for_void=True)  # bad input fails before the host is tried
        async with self._operation() as runner:
            original = self._original(ref, DEBITS, for_void=True)
            return await self._referenced(runner, TxnKind.VOID, original, original.amount)

    async def refund(self, ref_or_card: TxnRef | int | CardInput, amount: int) -> TxnResult:
        """Refund (part of) an approved debit of any batch, or refund to a card."""
        check_amount(amount)
        if isinstance(ref_or_card, CardInput):
            return await self._card_refund(ref_or_card, amount)
        ref = as_ref(ref_or_card)
        self._original(ref, DEBITS, amount=amount)
        async with self._operation() as runner:
            original = self._original(ref, DEBITS, amount=amount)
            return await self._referenced(runner, TxnKind.REFUND, original, amount)

    async def _card_refund(self, card: CardInput, amount: int) -> TxnResult:
        read = card.read(chip_capable=self.config.chip_capable)
        async with self._operation() as runner:
            stan, invoice, batch, now = runner.numbers()

            def build(_keys: WorkingKeys | None) -> Request:
                return build_request(
                    TxnKind.REFUND, self.config, stan=stan, local_time=now, batch=batch,
                    amount=amount, card=read,
                )  # fmt: skip

            return await runner.transact(
                build, invoice=invoice, masked_pan=read.masked_pan, brand=read.brand.value,
                pan=read.pan,
            )  # fmt: skip

    async def completion(self, ref: TxnRef | int, amount: int) -> TxnResult:
        """Complete an approved pre-authorisation for at most its amount."""
        check_amount(amount)
        ref = as_ref(ref)
        self._original(ref, (TxnKind.PREAUTH,), amount=amount)
        async with self._operation() as runner:
            original = self._original(ref, (TxnKind.PREAUTH,), amount=amount)
            return await self._referenced(runner, TxnKind.COMPLETION, original, amount)

    async def _referenced(
        self, runner: Runner, kind: TxnKind, original: JournalEntry, amount: int | None
    ) -> TxnResult:
        stan, invoice, batch, now = runner.numbers()
        reference = Original(
            kind=original.kind,
            stan=original.stan,
            local_time=original.local_time,
            rrn=original.rrn,
            auth_code=original.auth_code,
            amount=original.amount or 0,
            batch=original.batch,
        )

        def build(_keys: WorkingKeys | None) -> Request:
            return build_request(
                kind, self.config, stan=stan, local_time=now, batch=batch, amount=amount,
                original=reference,
            )  # fmt: skip

        return await runner.transact(
            build,
            invoice=invoice,
            masked_pan=original.masked_pan,
            brand=original.brand,
            original=original,
            original_id=original.id,
            qr_ref=original.qr_ref,
            entry_mode=original.entry_mode,  # the slip shows how the card was read
        )

    def _original(
        self,
        ref: TxnRef,
        kinds: tuple[TxnKind, ...],
        *,
        amount: int | None = None,
        for_void: bool = False,
    ) -> JournalEntry:
        store = self.store
        return find_original(
            store.journal, store.counters, ref, kinds, amount=amount, for_void=for_void
        )

    # --- QR ---------------------------------------------------------------------------------
    async def qr_cpm(self, amount: int, code: str) -> TxnResult:
        """Charge the customer's payment code (validated before anything is sent)."""
        check_amount(amount)
        parsed = parse_payment_code(code)
        if isinstance(parsed, NumericPaymentCode):
            masked, wallet = parsed.masked, parsed.scheme.value.upper()
        else:
            masked, wallet = (parsed.pan.masked if parsed.pan else ""), "EMV CPM"
        used = self._used_codes()
        async with self._operation() as runner:
            before = used.seen(code) if used is not None else None
            if before is not None:
                raise NotAllowedError(
                    f"payment code {masked} was already presented (journal id {before}): a "
                    "wallet code pays once; ask the customer for a fresh one"
                )
            stan, invoice, batch, now = runner.numbers()

            def build(_keys: WorkingKeys | None) -> Request:
                return build_request(
                    TxnKind.QR_PAY, self.config, stan=stan, local_time=now, batch=batch,
                    amount=amount, qr=code.strip(),
                )  # fmt: skip

            result = await runner.transact(build, invoice=invoice, brand=wallet, qr_ref=masked)
            # A code that may have reached the host is spent, whatever the answer.
            spent = result.journal_id is not None and result.state is not TxnState.FAILED
            if used is not None and spent:
                assert result.journal_id is not None
                used.add(code, result.journal_id)
            return result

    def _used_codes(self) -> PaymentCodeLedger | None:
        """The store's record of spent wallet codes, if it keeps one."""
        return getattr(self.store, "used_codes", None)

    async def qr_mpm(self, amount: int) -> MpmSession:
        """Send the order; show ``session.payload`` as a QR, then ``await session.wait()``."""
        check_amount(amount)
        async with self._operation() as runner:
            return await qrsession.start_order(runner, self, amount)

    async def _mpm_wait(self, mpm: MpmSession) -> TxnResult:
        async with self._operation(ready=False) as runner:
            return await qrsession.poll_order(runner, mpm, self._emit)

    async def _mpm_cancel(self, mpm: MpmSession) -> TxnResult:
        async with self._operation(ready=False) as runner:
            return await qrsession.cancel_order(runner, mpm)

    # --- settlement and receipts ----------------------------------------------------------
    async def settle(self) -> TxnResult:
        """Close the batch: 0500 with the journal's totals; on 95 upload the batch and retry."""
        async with self._operation() as runner:
            return await settlement.settle(runner)
