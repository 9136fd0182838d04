"""The TUI's app logic: runs engine operations in workers and reports back with messages.

Why here and not in screens: every slow call (host exchanges, journal queries, printing)
runs off the UI: operations on the runtime's I/O thread (awaited from a Textual worker),
journal queries and the receipt service in thread workers. Results and events come back
as :mod:`terminal.tui.messages` posted to the App. No widget is touched here, and nothing
that goes wrong in the engine, the network or the store escapes as a traceback: it becomes
an :class:`~terminal.tui.outcome.Outcome` or a notice.

Events arrive on the terminal's bus (one subscription, read on the App's loop). Receipts
go through the receipt service to the built-in (pane) printer, which records each copy's
status in the journal; with the paper out a copy fails and stays findable as unprinted,
which is how a lost receipt is made on purpose for the journal's reprint flow.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from textual.message import Message
from textual.worker import Worker

from terminal.core.errors import TerminalError
from terminal.core.events import (
    Connecting,
    Delivery,
    DeviceCondition,
    DeviceEvent,
    Event,
    Lifecycle,
    LifecyclePhase,
    LinkFailed,
    QrPending,
    ReceiptCopyFailed,
    ReceiptCopyPrinted,
    ReceiptReady,
    Received,
    ReversalDelivered,
    ReversalQueued,
    Sent,
    SignedOn,
    Waiting,
)
from terminal.core.journal import JournalEntry, JournalQuery, TxnState
from terminal.core.ports import PrintJob
from terminal.core.receipts import Receipt, render_text
from terminal.engine.errors import HostUnavailableError
from terminal.engine.results import TxnResult
from terminal.tui.messages import (
    HostStatus,
    JournalLoaded,
    Notice,
    QrOrderReady,
    ReceiptPrinted,
    ReversalUpdate,
    TxnFinished,
    TxnProgress,
    TxnStarted,
)
from terminal.tui.outcome import (
    BY_CASHIER,
    LinkState,
    Operation,
    Outcome,
    TxnDraft,
    cancelled_outcome,
    describe_event,
    error_outcome,
    link_state_of,
    outcome_from_result,
)
from terminal.tui.services import MpmSessionLike, PosServices

__all__ = ["PosController", "WorkerHost", "receipt_preview"]

TXN_GROUP = "txn"
_RECANCEL_AFTER = 0.25  # seconds
_EVENT_QUEUE = 2000  # deliveries the TUI may fall behind by (the oldest go first)
#: Engine events shown as progress lines on the processing screen.
_PROGRESS = (
    Connecting, LinkFailed, Sent, Waiting, Received, ReversalQueued, ReversalDelivered,
    SignedOn, QrPending, ReceiptReady,
)  # fmt: skip
_CLEARING = (DeviceCondition.ONLINE, DeviceCondition.RECOVERED)


class WorkerHost(Protocol):
    """What the controller needs from the App: workers and a message queue."""

    def run_worker(
        self,
        work: Any,
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[Any]: ...

    def post_message(self, message: Message) -> bool: ...


def receipt_preview(entry: JournalEntry, width: int = 32) -> str:
    """The merchant copy as it was printed (not marked duplicate), or '' when none."""
    if entry.receipt is None:
        return ""
    try:
        return render_text(Receipt.from_dict(entry.receipt), width)
    except TerminalError:
        return ""


class PosController:
    """Starts operations, relays engine events, prints receipts, searches the journal."""

    def __init__(self, services: PosServices, host: WorkerHost) -> None:
        self.services = services
        self._host = host
        self._txn: Worker[None] | None = None
        self._reversal = ""  # what became of the reversal of the operation in flight
        self._mpm: MpmSessionLike | None = None
        self._cancel_requested = False
        self._cancel_reason = BY_CASHIER
        self._cancel_seen = False
        self.faults: list[str] = []  # raised/cleared device faults, oldest first
        self.link_state = LinkState.UNKNOWN
        self.last_receipt: ReceiptPrinted | None = None
        self._slips: dict[tuple[int, str, bool], str] = {}  # printed text, by copy
        self._slips_lock = threading.Lock()
        self._restarting = False  # between RESTARTING and STARTED
        self._events = services.events.subscribe("tui", maxsize=_EVENT_QUEUE)
        services.printer.sink = self._slip

    # --- lifecycle ------------------------------------------------------------------------
    async def follow_events(self) -> None:
        """Handle the bus's events as they come (run as a worker of the App)."""
        async for delivery in self._events:
            self._deliver(delivery)

    def close(self) -> None:
        """Stop listening to the bus and to the printer."""
        self._events.close()
        self.services.printer.sink = None

    @property
    def paper_ok(self) -> bool:
        return self.services.printer.paper_ok

    @property
    def busy(self) -> bool:
        return self._txn is not None and self._txn.is_running

    def _post(self, message: Message) -> None:
        self._host.post_message(message)

    def _now(self) -> datetime:
        return self.services.clock()

    # --- operations -----------------------------------------------------------------------
    def run(self, draft: TxnDraft) -> bool:
        """Start ``draft`` in the transaction worker; False when one is already running."""
        if self.busy:
            return False
        if draft.op is Operation.QR_MPM:
            return self._start(draft, self._mpm_flow(draft))
        return self._start(draft, self._call(draft))

    def _start(self, draft: TxnDraft, call: Coroutine[Any, Any, TxnResult]) -> bool:
        self._reversal = ""
        self._post(TxnStarted(draft.op, draft.amount, draft.masked_pan))
        self._txn = self._host.run_worker(
            self._perform(draft.op, call),
            name=f"txn-{draft.op.value}",
            group=TXN_GROUP,
            exclusive=True,
            exit_on_error=False,
        )
        return True

    async def background_signon(self) -> None:
        """Sign on at boot without taking the screen; problems become a notice."""
        try:
            result = await self.services.backend.signon()
        except Exception as exc:
            if isinstance(exc, HostUnavailableError):
                self._link(LinkState.OFFLINE, "")
            self._post(Notice(f"Sign-on failed: {exc}", "warning"))
            return
        if result.approved:
            self._post(Notice("Signed on: working keys loaded"))
        else:
            self._post(Notice(f"Sign-on refused: {result.response_code}", "warning"))

    def cancel(self, reason: str = BY_CASHIER) -> bool:
        """Cancel the operation in flight; the engine reverses what may have reached the host.
        ``reason`` is what the result screen says (the cashier, or a customer walking away)."""
        if not self.busy:
            return False
        assert self._txn is not None
        self._cancel_reason = reason
        self._cancel_requested = True
        self._cancel_seen = False
        self._txn.cancel()
        asyncio.get_running_loop().call_later(_RECANCEL_AFTER, self._recancel)
        return True

    def _recancel(self) -> None:
        """Cancel again if the first one was lost: on Python 3.11 ``asyncio.wait_for`` drops
        a cancellation that arrives just as the awaited frame is ready (CPython gh-86296)."""
        if self._cancel_requested and not self._cancel_seen and self.busy:
            assert self._txn is not None
            self._txn.cancel()
            asyncio.get_running_loop().call_later(_RECANCEL_AFTER, self._recancel)

    async def _perform(self, op: Operation, call: Coroutine[Any, Any, TxnResult]) -> None:
        outcome = await self._outcome(op, call)
        if outcome.journal_id is not None and outcome.receipt_text:
            # printed (or failed) and recorded before the result shows
            await self._print(lambda: self.services.receipts.print_pending(outcome.journal_id))
        self._mpm = None
        self._post(TxnFinished(outcome))

    async def _outcome(self, op: Operation, call: Coroutine[Any, Any, TxnResult]) -> Outcome:
        try:
            result = await call
            self._pump()  # the operation's events (reversal queued...) before the outcome
        except asyncio.CancelledError:
            if not self._cancel_requested:
                raise  # the App is closing: nothing to show
            self._cancel_seen = True
            _uncancel()
            outcome = await self._after_cancel(op)
        except Exception as exc:  # engine, network, store: a readable outcome, never a traceback
            if isinstance(exc, HostUnavailableError):
                self._link(LinkState.OFFLINE, exc.reason)
            outcome = error_outcome(op, exc)
        else:
            if result.state is TxnState.FAILED and result.error:  # never left the terminal
                self._link(LinkState.OFFLINE, result.error)
            outcome = outcome_from_result(op, result)
            if self._reversal and not outcome.reversal:
                outcome = replace(outcome, reversal=self._reversal)
        finally:
            self._cancel_requested = False
        return outcome

    async def _after_cancel(self, op: Operation) -> Outcome:
        """Deliver the reversal the engine queued for what may have reached the host (a
        card request, or a QR order the customer walked away from); say what happened."""
        why = self._cancel_reason
        try:
            left = await self.services.backend.deliver_pending()
        except Exception as exc:
            return cancelled_outcome(op, f"Reversal not delivered yet: {exc}", why)
        self._pump()
        if self._reversal.startswith("Reversal delivered"):
            return cancelled_outcome(op, self._reversal, why)
        if left:
            return cancelled_outcome(
                op, "Reversal queued: it goes before the next transaction", self._cancel_reason
            )
        return cancelled_outcome(
            op,
            self._reversal or "Nothing reached the host: nothing to reverse",
            self._cancel_reason,
        )

    def _call(self, draft: TxnDraft) -> Coroutine[Any, Any, TxnResult]:
        backend = self.services.backend
        op, amount, card, pin = draft.op, draft.amount or 0, draft.card, draft.pin
        match op:
            case Operation.SALE if card is not None:
                return backend.sale(amount, card, pin)
            case Operation.PREAUTH if card is not None:
                return backend.preauth(amount, card, pin)
            case Operation.BALANCE if card is not None:
                return backend.balance(card, pin)
            case Operation.VOID if draft.ref is not None:
                return backend.void(draft.ref)
            case Operation.REFUND if draft.ref is not None or card is not None:
                target = draft.ref if draft.ref is not None else card
                assert target is not None
                return backend.refund(target, amount)
            case Operation.COMPLETION if draft.ref is not None:
                return backend.completion(draft.ref, amount)
            case Operation.QR_CPM if draft.code:
                return backend.qr_cpm(amount, draft.code)
            case Operation.SETTLEMENT:
                return backend.settle()
            case Operation.SIGNON:
                return backend.signon()
            case Operation.ECHO:
                return backend.echo()
        return _refuse(f"{op.label}: missing card, amount or reference")

    async def _mpm_flow(self, draft: TxnDraft) -> TxnResult:
        amount = draft.amount or 0
        session = await self.services.backend.qr_mpm(amount)
        self._mpm = session
        timeout = self.services.config.qr_timeout
        self._post(QrOrderReady(session.payload, amount, timeout, session.order_ref))
        return await session.wait()

    def simulate_customer(self, *, pay: bool, code: str = "05") -> bool:
        """On a test host: the customer pays (or declines) the QR order on screen."""
        session, customer = self._mpm, self.services.customer
        if session is None or customer is None:
            return False
        ref = session.order_ref

        async def act() -> None:
            try:
                await (customer.pay(ref) if pay else customer.decline(ref, code))
            except Exception as exc:
                self._post(TxnProgress(f"Simulation failed: {exc}"))

        self._host.run_worker(act(), name="qr-simulate", group="qr-sim", exit_on_error=False)
        return True

    # --- events from the bus -------------------------------------------------------------
    def _link(self, state: LinkState, detail: str) -> None:
        if state is not self.link_state:
            self.link_state = state
            self._post(HostStatus(state, detail))

    def _pump(self) -> None:
        """Handle what is queued now (the consumer worker may not have run yet)."""
        for delivery in self._events.drain():
            self._deliver(delivery)

    def _deliver(self, delivery: Delivery) -> None:
        if delivery.missed:  # the bus dropped our oldest events rather than wait for us
            self._post(Notice(f"{delivery.missed} terminal events were not shown", "warning"))
        self._handle(delivery.event)

    def _handle(self, event: Event) -> None:
        """Translate one event into state and messages; never raises."""
        state = link_state_of(event)
        if state is not None:
            self._link(state, getattr(event, "reason", ""))
        if isinstance(event, DeviceEvent):
            verb = "CLEARED" if event.condition in _CLEARING else "RAISED"
            stamp = self._now().strftime("%H:%M:%S")
            detail = event.detail or event.condition.value.replace("_", " ")
            self.faults.append(f"{stamp} {verb}  {event.role.value}: {detail}")
            return
        if isinstance(event, Lifecycle):
            self._lifecycle(event)
            return
        if isinstance(event, ReceiptCopyPrinted):
            self._printed(event)
            return
        if isinstance(event, ReceiptCopyFailed):
            self._post(TxnProgress(f"Printer: {event.reason}, {event.copy} copy not printed"))
            return
        if not isinstance(event, _PROGRESS):
            return
        if isinstance(event, ReversalQueued):
            self._reversal = f"Reversal queued: {event.reason}"
            self._post(ReversalUpdate(event.journal_id, event.stan, self._reversal, False))
        elif isinstance(event, ReversalDelivered):
            self._reversal = f"Reversal delivered (answer {event.response_code})"
            self._post(ReversalUpdate(event.journal_id, event.stan, self._reversal, True))
        self._post(TxnProgress(describe_event(event)))

    def _lifecycle(self, event: Lifecycle) -> None:
        """A restart (new parameters, a remote command, an update) shows, and its config
        takes over what the screens show."""
        if event.phase is LifecyclePhase.RESTARTING:
            self._restarting = True
            self._post(Notice("Terminal restarting (after the transaction in flight)"))
            self._link(LinkState.UNKNOWN, "")
        elif event.phase is LifecyclePhase.STARTED and self._restarting:
            self._restarting = False
            current = self.services.current_config
            if current is not None:
                self.services.config = current()
            self._post(Notice(f"Terminal restarted: host {self.services.config.host}"))

    # --- the emulated printer -------------------------------------------------------------
    def set_paper(self, ok: bool) -> None:
        """Run the built-in printer's paper out (a fault) or refill it (fault cleared)."""
        self.services.printer.set_paper(ok)
        self._pump()  # the device event is in the fault list before this returns

    def _slip(self, job: PrintJob, text: str) -> None:
        """The pane printer's output (in the printing thread), shown once it is recorded
        as printed (see :meth:`_printed`): whoever asked for it, the TUI or the agent."""
        key = (job.journal_id, job.copy.name.lower(), job.duplicate)
        with self._slips_lock:
            self._slips[key] = text

    def _printed(self, event: ReceiptCopyPrinted) -> None:
        with self._slips_lock:
            text = self._slips.pop((event.journal_id, event.copy, event.duplicate), "")
        if text:  # printed on the pane (not on another printer)
            message = ReceiptPrinted(event.journal_id, event.copy, text, event.duplicate)
            self.last_receipt = message
            self._post(message)

    async def _print(self, work: Callable[[], object]) -> None:
        """Run the receipt service in a thread; what printed shows, what did not is said
        (both from the bus, handled here before the caller goes on)."""
        try:
            await asyncio.to_thread(work)
        except Exception as exc:
            self._post(TxnProgress(f"Receipt not printed: {exc}"))
        self._pump()

    def _print_later(self, work: Callable[[], object], name: str) -> str:
        """Print in a worker; '' or why it cannot print now (the journal records it)."""
        self._host.run_worker(self._print(work), name=name, group="print", exit_on_error=False)
        return "" if self.paper_ok else "paper out"

    def print_customer_copy(self, journal_id: int) -> str:
        """Print the customer copy of an entry; returns '' or why it was not printed."""
        receipts = self.services.receipts
        return self._print_later(lambda: receipts.print_copy(journal_id, "customer"), "print")

    def reprint(self, journal_id: int) -> str:
        """Print a DUPLICATE of the merchant copy (the lost-receipt flow); '' or why not."""
        receipts = self.services.receipts
        return self._print_later(lambda: receipts.reprint(journal_id, "merchant"), "reprint")

    # --- journal --------------------------------------------------------------------------
    def search_journal(self, query: JournalQuery) -> None:
        """Query the journal in a thread worker; the answer comes as JournalLoaded."""

        def find() -> None:
            try:
                entries = tuple(self.services.journal.find(query))
            except Exception as exc:
                self._post(JournalLoaded(query, (), str(exc)))
                return
            self._post(JournalLoaded(query, entries))

        self._host.run_worker(
            find,
            name="journal",
            group="journal",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )


def _uncancel() -> None:
    """Consume the cancellation we asked for, so the reversal that follows can time out."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


async def _refuse(reason: str) -> TxnResult:
    raise TerminalError(reason)
