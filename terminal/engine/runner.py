"""The skeleton every journaled transaction follows, shared by all operations.

``open`` (journal entry, then queued reversal) -> ``connect`` (none: FAILED, nothing to
reverse) -> SENT -> ``send`` -> a usable answer (APPROVED/DECLINED, receipt, reversal
cleared) or none (TIMED_OUT, reversal delivered now or left queued). A :class:`Runner`
exists while the service runs; operations hold its lock so only one runs at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from iso8583.acquirer.codes import response_text
from iso8583.acquirer.model import Request, Response, TxnKind
from terminal.config import TerminalConfig
from terminal.core.errors import ConnectError, LinkClosed, LinkError, LinkProtocolError
from terminal.core.journal import JournalEntry, TxnState
from terminal.core.ports import TerminalStorage
from terminal.core.transactions import TxnEvent
from terminal.engine.bookkeeping import Bookkeeper
from terminal.engine.errors import HostProtocolError, HostUnavailableError, SignOnError
from terminal.engine.results import TxnResult
from terminal.engine.session import HostSession, RequestBuilder

__all__ = ["NO_ANSWER", "Runner"]

#: Failures after which the host's answer is unknown: the transaction must be reversed.
NO_ANSWER = (LinkError, HostProtocolError, SignOnError)


@dataclass(slots=True)
class Runner:
    config: TerminalConfig
    store: TerminalStorage
    session: HostSession
    books: Bookkeeper
    clock: Callable[[], datetime]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: MPM orders waiting for the customer: their queued reversal must not go out yet.
    live_orders: set[int] = field(default_factory=set)

    async def ready(self) -> None:
        """Deliver queued reversals (oldest first) and make sure keys are in force."""
        reason = await self.books.deliver(skip=self.live_orders)
        if reason:
            left = self.books.pending_count(self.live_orders)
            raise HostUnavailableError(f"{left} reversal(s) still waiting for the host: {reason}")
        await self.session.ensure_keys()

    def numbers(self) -> tuple[str, str, str, datetime]:
        """STAN, invoice, open batch and the local time of a new transaction."""
        counters = self.store.counters
        now = self.clock().replace(microsecond=0)
        return counters.next_stan(), counters.next_invoice(), counters.batch(), now

    @staticmethod
    def entry(request: Request, invoice: str, masked_pan: str, brand: str) -> JournalEntry:
        return JournalEntry(
            kind=request.kind,
            state=TxnState.CREATED,
            stan=request.stan,
            batch=request.batch,
            invoice=invoice,
            local_time=request.local_time,
            terminal_id=request.terminal_id,
            merchant_id=request.merchant_id,
            amount=request.amount,
            currency=request.currency,
            masked_pan=masked_pan,
            brand=brand,
            entry_mode=request.entry_mode,
        )

    async def transact(
        self,
        build: RequestBuilder,
        *,
        invoice: str,
        masked_pan: str = "",
        brand: str = "",
        pan: str | None = None,
        original: JournalEntry | None = None,
        **details: Any,
    ) -> TxnResult:
        """Run one journaled transaction from CREATED to its final state.

        ``details`` are further journal fields (``pin_verified``, ``qr_ref``...); ``pan`` is
        kept sealed by the store for a later void or refund, never in clear.
        """
        first = build(self.session.keys)
        entry = replace(self.entry(first, invoice, masked_pan, brand), **details)
        journal_id, saf_id = self.books.open(entry, first, pan=pan)
        outcome = await self.exchange(journal_id, saf_id, build)
        if isinstance(outcome, TxnResult):
            return outcome
        return self.finished(journal_id, outcome, saf_id, original=original)

    async def exchange(
        self, journal_id: int, saf_id: int | None, build: RequestBuilder
    ) -> Response | TxnResult:
        """Connect, mark SENT, exchange; a final result instead when no answer came."""
        try:
            await self.session.connect()
        except ConnectError as exc:
            return self.result(self.books.unsent(journal_id, saf_id, str(exc)), error=str(exc))
        self.books.advance(journal_id, TxnEvent.SENT)
        try:
            return await self.session.send(build)
        except SignOnError as exc:
            if exc.answer is None:
                return await self.no_answer(journal_id, saf_id, exc)
            declined = self.finished(journal_id, exc.answer, saf_id)  # A7/A0, with its slip
            return replace(declined, error=str(exc))
        except NO_ANSWER as exc:
            return await self.no_answer(journal_id, saf_id, exc)
        except asyncio.CancelledError:  # the operator gave up: the answer will never be read
            self.abandoned(journal_id, saf_id, "cancelled while waiting for the host")
            raise

    def abandoned(self, journal_id: int, saf_id: int | None, reason: str) -> None:
        """No answer will be read (cancelled); the queued reversal goes with the next call."""
        if saf_id is None:
            self.books.advance(journal_id, TxnEvent.ABANDONED, response_text="NO ANSWER")
        else:
            self.books.unanswered(journal_id, TxnEvent.TIMEOUT, reason)

    async def no_answer(self, journal_id: int, saf_id: int | None, exc: Exception) -> TxnResult:
        """TIMED_OUT and reverse now (or FAILED when there is nothing to reverse)."""
        reason = str(exc)
        if saf_id is None:  # a balance inquiry moves no money
            entry = self.books.advance(journal_id, TxnEvent.ABANDONED, response_text="NO ANSWER")
            return self.result(entry, error=reason)
        if isinstance(exc, HostProtocolError | LinkProtocolError):
            event = TxnEvent.BAD_MAC
        elif isinstance(exc, LinkClosed | ConnectError | SignOnError):
            event = TxnEvent.DISCONNECT
        else:
            event = TxnEvent.TIMEOUT
        self.books.unanswered(journal_id, event, reason)
        left = await self.books.deliver(only=journal_id)
        entry = self.store.journal.get(journal_id)
        return self.result(entry, error=reason, reversal_pending=bool(left))

    def finished(
        self,
        journal_id: int,
        response: Response,
        saf_id: int | None,
        *,
        original: JournalEntry | None = None,
    ) -> TxnResult:
        done = self.books.finish(
            journal_id, response, saf_id, original=original, balance=response.balance
        )
        return self.result(
            done.entry,
            receipt_text=done.receipt_text,
            customer_receipt_text=done.customer_receipt_text,
            balance=response.balance,
        )

    def plain(self, kind: TxnKind, response: Response) -> TxnResult:
        """The result of a message with no journal entry (sign-on, echo, settlement)."""
        code = response.response_code
        return TxnResult(
            kind=kind,
            approved=response.approved,
            response_code=code,
            response_text=response_text(code),
            stan=response.stan,
            currency=self.config.currency,
        )

    @staticmethod
    def result(
        entry: JournalEntry,
        *,
        error: str = "",
        reversal_pending: bool = False,
        receipt_text: str = "",
        customer_receipt_text: str = "",
        balance: int | None = None,
    ) -> TxnResult:
        return TxnResult(
            kind=entry.kind,
            approved=entry.state is TxnState.APPROVED,
            response_code=entry.response_code,
            response_text=entry.response_text,
            auth_code=entry.auth_code,
            rrn=entry.rrn,
            stan=entry.stan,
            masked_pan=entry.masked_pan,
            amount=entry.amount,
            currency=entry.currency,
            journal_id=entry.id,
            receipt_text=receipt_text,
            customer_receipt_text=customer_receipt_text,
            reversal_pending=reversal_pending,
            balance=balance,
            state=entry.state,
            error=error,
            batch=entry.batch,
            order_ref=entry.qr_ref if entry.kind is TxnKind.QR_ORDER else "",
        )
