"""The TUI's app logic: runs engine operations in workers and reports back with messages.

Why here and not in screens: every slow call (host exchanges, journal queries) runs in a
Textual worker so the UI never freezes; results and engine events come back as
:mod:`terminal.tui.messages` posted to the App. No widget is touched here, and nothing that
goes wrong in the engine, the network or the store escapes as a traceback: it becomes an
:class:`~terminal.tui.outcome.Outcome` or a notice.

The (emulated) built-in printer also lives here: receipts the engine announces are "printed"
to the receipt pane and their copy status recorded in the journal, unless the paper is out,
which is how a lost receipt is made on purpose for the journal's reprint flow. Recording is
a durable SQLite write (``synchronous=FULL``: an fsync), so it is never done on the UI's
loop, but by one printer thread, in order.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from textual.message import Message
from textual.worker import Worker

from terminal.core.errors import TerminalError
from terminal.core.journal import (
    JournalEntry,
    JournalQuery,
    PrintStatus,
    ReceiptCopyRecord,
    TxnState,
)
from terminal.core.receipts import Copy, Receipt, render_text
from terminal.engine.errors import HostUnavailableError
from terminal.engine.events import (
    ReceiptReady,
    ReversalDelivered,
    ReversalQueued,
    TerminalEvent,
)
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
        self._cancel_seen = False
        self.paper_ok = True
        self.faults: list[str] = []  # raised/cleared device faults, oldest first
        self.link_state = LinkState.UNKNOWN
        self.last_receipt: ReceiptPrinted | None = None
        #: Copies printed by the operation in flight, recorded when the engine is done with
        #: it (None: no operation, record at once).
        self._copies: list[tuple[int, ReceiptCopyRecord]] | None = None
        self._printer = ThreadPoolExecutor(1, thread_name_prefix="posemu-printer")
        self._unsubscribe = services.events.subscribe(self._on_event)

    # --- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Stop listening; copies still being recorded are recorded before this returns."""
        self._unsubscribe()
        self._printer.shutdown(wait=True)

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

    def cancel(self) -> bool:
        """Cancel the operation in flight; the engine reverses what may have reached the host."""
        if not self.busy:
            return False
        assert self._txn is not None
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
        self._copies = []
        try:
            outcome = await self._outcome(op, call)
        finally:
            copies, self._copies = self._copies, None
            if copies:  # the journal knows what was printed by the time the result shows
                await asyncio.wrap_future(self._in_printer(self._record, copies))
        self._mpm = None
        self._post(TxnFinished(outcome))

    async def _outcome(self, op: Operation, call: Coroutine[Any, Any, TxnResult]) -> Outcome:
        try:
            result = await call
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
        try:
            left = await self.services.backend.deliver_pending()
        except Exception as exc:
            return cancelled_outcome(op, f"Reversal not delivered yet: {exc}")
        if self._reversal.startswith("Reversal delivered"):
            return cancelled_outcome(op, self._reversal)
        if left:
            return cancelled_outcome(op, "Reversal queued: it goes before the next transaction")
        return cancelled_outcome(
            op, self._reversal or "Nothing reached the host: nothing to reverse"
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
        """Test hook of the host: the customer pays (or declines) the QR order on screen."""
        session = self._mpm
        if session is None:
            return False

        async def act() -> None:
            try:
                outcome = session.simulate_pay() if pay else session.simulate_decline(code)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:
                self._post(TxnProgress(f"Simulation failed: {exc}"))

        self._host.run_worker(act(), name="qr-simulate", group="qr-sim", exit_on_error=False)
        return True

    # --- engine events --------------------------------------------------------------------
    def _link(self, state: LinkState, detail: str) -> None:
        if state is not self.link_state:
            self.link_state = state
            self._post(HostStatus(state, detail))

    def _on_event(self, event: TerminalEvent) -> None:
        """Called synchronously by the engine: translate and post, never raise."""
        state = link_state_of(event)
        if state is not None:
            self._link(state, getattr(event, "reason", ""))
        if isinstance(event, ReceiptReady):
            self._print(event.journal_id, event.copy, event.text)
            return
        line = describe_event(event)
        if isinstance(event, ReversalQueued):
            self._reversal = f"Reversal queued: {event.reason}"
            self._post(ReversalUpdate(event.journal_id, event.stan, self._reversal, False))
        elif isinstance(event, ReversalDelivered):
            self._reversal = f"Reversal delivered (answer {event.response_code})"
            self._post(ReversalUpdate(event.journal_id, event.stan, self._reversal, True))
        self._post(TxnProgress(line))

    # --- the emulated printer -------------------------------------------------------------
    def set_paper(self, ok: bool) -> None:
        """Run the emulated printer's paper out (a fault) or refill it (fault cleared)."""
        if ok == self.paper_ok:
            return
        self.paper_ok = ok
        stamp = self._now().strftime("%H:%M:%S")
        verb = "CLEARED" if ok else "RAISED"
        self.faults.append(f"{stamp} {verb}  printer: paper out")

    def _print(self, journal_id: int, copy: str, text: str, *, duplicate: bool = False) -> bool:
        """Print to the receipt pane and record the copy; paper out leaves it unprinted.

        During an operation the copy is recorded once the engine is done, before the result
        is shown; otherwise (a reprint, the customer copy on request) at once, and the slip
        comes out when its copy is recorded. Either way, in the printer thread.
        """
        if self.paper_ok:
            record = ReceiptCopyRecord(
                copy, PrintStatus.PRINTED, duplicate=duplicate, printed_at=self._now()
            )
            message: ReceiptPrinted | None = ReceiptPrinted(journal_id, copy, text, duplicate)
            self.last_receipt = message
        else:
            record = ReceiptCopyRecord(copy, PrintStatus.FAILED, duplicate, error="paper out")
            message = None
        if self._copies is not None:
            self._copies.append((journal_id, record))
            self._printed(copy, message)
        else:
            self._in_printer(self._record_and_print, (journal_id, record), copy, message)
        return message is not None

    def _in_printer(self, work: Callable[..., None], *args: Any) -> Future[None]:
        """Run ``work`` in the printer thread (at once, here, once the App is closing)."""
        try:
            return self._printer.submit(work, *args)
        except RuntimeError:  # shut down
            done: Future[None] = Future()
            work(*args)
            done.set_result(None)
            return done

    def _printed(self, copy: str, message: ReceiptPrinted | None) -> None:
        if message is None:
            self._post(TxnProgress(f"Printer: paper out, {copy} copy not printed"))
        else:
            self._post(message)

    def _record(self, copies: Sequence[tuple[int, ReceiptCopyRecord]]) -> None:
        """Record copy statuses (in the printer thread); a failure is reported, not raised."""
        for journal_id, record in copies:
            try:
                self.services.journal.set_copy_status(journal_id, record)
            except Exception as exc:
                self._post(TxnProgress(f"Could not record the receipt copy: {exc}"))

    def _record_and_print(
        self, copy: tuple[int, ReceiptCopyRecord], name: str, message: ReceiptPrinted | None
    ) -> None:
        self._record([copy])
        self._printed(name, message)

    def _receipt_of(self, journal_id: int) -> tuple[JournalEntry, Receipt]:
        entry = self.services.journal.get(journal_id)
        if entry.receipt is None:
            raise TerminalError(f"journal entry {journal_id} has no receipt")
        return entry, Receipt.from_dict(entry.receipt)

    def print_customer_copy(self, journal_id: int) -> str:
        """Print the customer copy of an entry; returns '' or why it was not printed."""
        try:
            _, receipt = self._receipt_of(journal_id)
            customer = replace(receipt, copy=Copy.CUSTOMER)
            text = render_text(customer, self.services.config.receipt_width)
        except Exception as exc:
            return str(exc)
        return "" if self._print(journal_id, "customer", text) else "paper out"

    def reprint(self, journal_id: int) -> str:
        """Print a DUPLICATE of the merchant copy (the lost-receipt flow); '' or why not."""
        try:
            _, receipt = self._receipt_of(journal_id)
            duplicate = receipt.as_duplicate(self._now().replace(microsecond=0))
            text = render_text(duplicate, self.services.config.receipt_width)
        except Exception as exc:
            return str(exc)
        ok = self._print(journal_id, "merchant", text, duplicate=True)
        return "" if ok else "paper out"

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
