"""Journal and store-and-forward bookkeeping: the order of writes that makes crashes safe.

Why the order matters (the process may be killed, or the disk fill up, between any two
lines):

1. the journal entry is written (CREATED), then its reversal is queued; the link is opened;
   then SENT ("sending": the request may leave from now on) is written, durably, before a
   byte of the request is sent. So the entry's state says whether the request could have
   been sent: only SENT (or a later unanswered state) leads to a reversal. A CREATED entry
   never left the terminal; its queued reversal is cancelled, never delivered, and the
   entry ends FAILED (:meth:`Bookkeeper.recover`, and :meth:`Bookkeeper.deliver` before
   anything goes out). A write that fails (disk full) before SENT leaves exactly that.
2. a usable answer is written to the journal first, then the queued reversal is cleared.
   Killed in between: the reversal still goes out at the next start, the host undoes the
   transaction and the entry ends REVERSED; the customer never saw a receipt.
3. no usable answer: the entry goes TIMED_OUT and its reversal is tried at once (0400, then
   0401 repeats); whatever is left is delivered, oldest first, before the next transaction.

Every state change goes through :func:`terminal.core.transactions.next_state`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime

from iso8583.acquirer.codes import response_text
from iso8583.acquirer.model import Request, Response, TxnKind
from terminal.config import TerminalConfig
from terminal.core.errors import LinkError
from terminal.core.events import (
    Event,
    LinkFailed,
    ReceiptReady,
    ReversalDelivered,
    ReversalQueued,
)
from terminal.core.journal import (
    JournalEntry,
    JournalQuery,
    PendingMessage,
    PrintStatus,
    ReceiptCopyRecord,
    TxnState,
)
from terminal.core.ports import TerminalStorage
from terminal.core.receipts import Copy, render_text
from terminal.core.transactions import (
    IllegalTransitionError,
    TxnEvent,
    build_receipt,
    build_reversal,
    next_state,
)
from terminal.engine.errors import EngineError, KeysRejectedError
from terminal.engine.session import HostSession

__all__ = ["RETRY_CODES", "Bookkeeper", "Finished"]

_LOG = logging.getLogger("posemu.terminal")

#: Answers to a reversal that do not acknowledge it: try again later.
RETRY_CODES = frozenset({"91", "96", "A0", "A7"})
#: States in which the request cannot have left the terminal: nothing to reverse.
NEVER_SENT = frozenset({TxnState.CREATED, TxnState.FAILED})
_RECOVERY_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Finished:
    """A journal entry after its answer, with the receipt texts built for it."""

    entry: JournalEntry
    receipt_text: str = ""
    customer_receipt_text: str = ""


class Bookkeeper:
    """Writes journal entries and SAF messages in the crash-safe order described above."""

    def __init__(
        self,
        config: TerminalConfig,
        store: TerminalStorage,
        session: HostSession,
        emit: Callable[[Event], None],
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.journal = store.journal
        self.saf = store.saf
        self.session = session
        self._emit = emit
        self._clock = clock

    # --- opening and moving entries -------------------------------------------------------
    def open(
        self, entry: JournalEntry, request: Request, *, pan: str | None = None
    ) -> tuple[int, int | None]:
        """Persist the entry, then (for reversible kinds) queue its reversal."""
        journal_id = self.journal.add(entry, pan=pan)
        saf_id = None
        if request.kind.reversible:
            saf_id = self.saf.push_request(journal_id, build_reversal(request))
        return journal_id, saf_id

    def advance(self, journal_id: int, event: TxnEvent, **changes: object) -> JournalEntry:
        current = self.journal.get(journal_id)
        return self.journal.update(journal_id, state=next_state(current.state, event), **changes)

    def unsent(self, journal_id: int, saf_id: int | None, reason: str) -> JournalEntry:
        """No connection: nothing left the terminal, so nothing needs reversing."""
        entry = self.advance(journal_id, TxnEvent.SEND_FAILED, response_text="NO CONNECTION")
        if saf_id is not None:  # killed before this: FAILED is NEVER_SENT, deliver cancels it
            self.saf.cancel(saf_id, f"not sent: {reason}")
        _LOG.info("journal %s: not sent (%s)", journal_id, reason)
        return entry

    def finish(
        self,
        journal_id: int,
        response: Response,
        saf_id: int | None,
        *,
        original: JournalEntry | None = None,
        balance: int | None = None,
    ) -> Finished:
        """Record a usable answer with its receipt, then clear the queued reversal."""
        current = self.journal.get(journal_id)
        code = response.response_code
        event = TxnEvent.APPROVED if response.approved else TxnEvent.DECLINED
        draft = replace(
            current,
            state=next_state(current.state, event),
            response_code=code,
            response_text=response_text(code),
            auth_code=response.auth_code,
            rrn=response.rrn,
            pin_verified=current.pin_verified and response.approved,
        )
        merchant = build_receipt(draft, self.config, original=original, balance=balance)
        entry = self.journal.update(
            journal_id,
            state=draft.state,
            response_code=draft.response_code,
            response_text=draft.response_text,
            auth_code=draft.auth_code,
            rrn=draft.rrn,
            pin_verified=draft.pin_verified,
            receipt=merchant.to_dict(),
        )
        if response.approved and entry.kind is TxnKind.VOID and original is not None:
            self.advance(original.id or 0, TxnEvent.VOIDED)
        if saf_id is not None:
            self.saf.done(saf_id)
        copies = [("merchant", render_text(merchant, self.config.receipt_width))]
        if self.config.customer_copy:
            customer = build_receipt(
                draft, self.config, copy=Copy.CUSTOMER, original=original, balance=balance
            )
            copies.append(("customer", render_text(customer, self.config.receipt_width)))
        for name, _text in copies:
            self.journal.set_copy_status(journal_id, ReceiptCopyRecord(name, PrintStatus.PENDING))
            self._emit(ReceiptReady(journal_id, name))
        return Finished(
            self.journal.get(journal_id),
            copies[0][1],
            copies[1][1] if len(copies) > 1 else "",
        )

    def unanswered(self, journal_id: int, event: TxnEvent, reason: str) -> JournalEntry:
        """No usable answer (timeout, disconnect, bad MAC): TIMED_OUT, reversal announced."""
        entry = self.advance(journal_id, event, response_text="NO ANSWER")
        self._emit(ReversalQueued(journal_id, entry.stan, reason))
        _LOG.info("journal %s stan %s: %s; reversal queued", journal_id, entry.stan, reason)
        return entry

    # --- store-and-forward ----------------------------------------------------------------
    async def deliver(
        self, *, only: int | None = None, skip: Collection[int] = (), attempts: int | None = None
    ) -> str:
        """Deliver queued reversals oldest first; '' when all went, else why one did not.

        A reversal whose transaction never reached SENT is cancelled instead: its request
        never left, and a reversal of it would only puzzle the host.
        """
        for message in self.saf.pending():
            if message.journal_id in skip or (only is not None and message.journal_id != only):
                continue
            if self.journal.get(message.journal_id).state in NEVER_SENT:
                self.never_sent(message.journal_id, message.id)
                continue
            reason = await self._deliver_one(message, attempts or self.config.reversal_attempts)
            if reason:
                return reason
        return ""

    def pending_count(self, skip: Collection[int] = ()) -> int:
        return sum(1 for m in self.saf.pending() if m.journal_id not in skip)

    async def _deliver_one(self, message: PendingMessage, attempts: int) -> str:
        request = self.saf.request(message)
        tried = message.attempts
        reason = ""
        for _ in range(attempts):
            attempt = replace(request, repeat=tried > 0)
            self.saf.attempt(message.id)  # counted before sending: a crash mid-send is a try
            tried += 1
            try:
                response = await self.session.send(lambda _keys, r=attempt: r)
            except KeysRejectedError as exc:  # another TMK: retrying only burns sign-ons
                reason = str(exc)
                break
            except (EngineError, LinkError) as exc:
                reason = str(exc)
                continue
            if response.response_code in RETRY_CODES:
                reason = f"reversal answered {response.response_code}"
                continue
            self._acknowledged(message, response)
            return ""
        self._emit(LinkFailed(self.session.endpoint, reason))
        return reason or "reversal not acknowledged"

    def _acknowledged(self, message: PendingMessage, response: Response) -> None:
        entry = self.journal.get(message.journal_id)
        try:
            self.advance(entry.id or 0, TxnEvent.REVERSAL_ACKED)
        except IllegalTransitionError:
            _LOG.warning("journal %s: reversal acked in state %s", entry.id, entry.state.value)
        if entry.kind is TxnKind.VOID and entry.original_id is not None:
            original = self.journal.get(entry.original_id)
            if original.state is TxnState.VOIDED:
                self.advance(original.id or 0, TxnEvent.VOID_REVERSED)
        self.saf.done(message.id)
        self._emit(ReversalDelivered(message.journal_id, entry.stan, response.response_code))

    def never_sent(self, journal_id: int, saf_id: int | None) -> None:
        """The request never left (the entry is not SENT): FAILED, its reversal cancelled.

        Either step may be the last before a crash: a FAILED entry's reversal is cancelled
        by :meth:`deliver`, a CREATED one's by :meth:`recover`, so the order is safe as is.
        """
        entry = self.journal.get(journal_id)
        if entry.state is TxnState.CREATED:
            self.advance(journal_id, TxnEvent.SEND_FAILED, response_text="NOT SENT")
        if saf_id is not None:
            self.saf.cancel(saf_id, "the request never left the terminal")
        _LOG.info("journal %s stan %s: never sent, nothing to reverse", journal_id, entry.stan)

    # --- recovery -------------------------------------------------------------------------
    def recover(self, skip: Collection[int] = ()) -> int:
        """Close entries a crash (or a failed write) left open: nothing to undo there.

        CREATED never left the terminal (FAILED, its queued reversal cancelled); SENT
        without a queued reversal is a non-reversible request whose answer was lost (FAILED
        as well). SENT with a queued reversal is left to :meth:`deliver`.
        """
        queued = {m.journal_id: m.id for m in self.saf.pending()}
        fixed = 0
        for state in (TxnState.CREATED, TxnState.SENT):
            query = JournalQuery(states=(state,), limit=_RECOVERY_LIMIT)
            for entry in self.journal.find(query):
                if entry.id is None or entry.id in skip:
                    continue
                if state is TxnState.CREATED:
                    self.never_sent(entry.id, queued.get(entry.id))
                elif entry.id not in queued:
                    self.advance(entry.id, TxnEvent.ABANDONED, response_text="INTERRUPTED")
                else:
                    continue
                fixed += 1
        return fixed
