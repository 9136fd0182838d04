"""Merchant-presented QR: the payload the customer scans, and the wait for their payment.

Why a session object: between showing the QR and the customer paying, the UI needs a handle
to wait on or to cancel. (Playing the customer on a test host is not the terminal's job:
see :mod:`terminal.simulation`.) The order's
reversal stays queued until the order is paid or declined, so a terminal killed while the
customer hesitates cancels the order at its next start instead of losing a payment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from iso8583.acquirer.model import Request, TxnKind
from iso8583.acquirer.security import WorkingKeys
from terminal.core.errors import LinkTimeout
from terminal.core.events import Event, QrPending
from terminal.core.journal import TxnState
from terminal.core.qr.order import MPM_GUID, mpm_payload, order_reference
from terminal.core.transactions import TxnEvent, build_request
from terminal.engine.results import TxnResult
from terminal.engine.runner import NO_ANSWER, Runner


class OrderDesk(Protocol):
    """Who runs an order's wait and cancel under the operation lock (the service)."""

    async def _mpm_wait(self, mpm: MpmSession) -> TxnResult: ...
    async def _mpm_cancel(self, mpm: MpmSession) -> TxnResult: ...


__all__ = [
    "MPM_GUID",
    "MpmSession",
    "cancel_order",
    "mpm_payload",
    "order_reference",
    "poll_order",
    "start_order",
]

#: The host's answer while the customer has not paid yet ("request in progress").
PENDING = "09"


class MpmSession:
    """One order shown as a QR. ``wait`` polls the host until paid, declined or timed out."""

    def __init__(
        self,
        service: OrderDesk,
        *,
        payload: str,
        order_ref: str,
        amount: int,
        journal_id: int | None,
        saf_id: int | None = None,
        result: TxnResult | None = None,
    ) -> None:
        self._service = service
        self.payload = payload
        self.order_ref = order_ref
        self.amount = amount
        self.journal_id = journal_id
        self.saf_id = saf_id
        self.started = asyncio.get_running_loop().time()
        self._result = result

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> TxnResult | None:
        """The final result, once the order was paid, declined, cancelled or timed out."""
        return self._result

    async def wait(self) -> TxnResult:
        """Poll QR_QUERY every ``qr_poll_interval`` until a final answer or ``qr_timeout``."""
        if self._result is None:
            self._result = await self._service._mpm_wait(self)
        return self._result

    async def cancel(self) -> TxnResult:
        """Give up on the order: it is reversed (cancelled at the host) like an unanswered one."""
        if self._result is None:
            self._result = await self._service._mpm_cancel(self)
        return self._result

    def __repr__(self) -> str:
        state = "done" if self.done else "pending"
        return f"MpmSession(order_ref={self.order_ref!r}, amount={self.amount}, {state})"


# --- flows (run by the service under its operation lock) -------------------------------


async def start_order(runner: Runner, service: OrderDesk, amount: int) -> MpmSession:
    """Send QR_ORDER; the session is pending on 09, final on any other outcome."""
    config = runner.config
    stan, invoice, batch, now = runner.numbers()
    ref = order_reference(config, batch, stan)

    def build(_keys: WorkingKeys | None) -> Request:
        return build_request(
            TxnKind.QR_ORDER, config, stan=stan, local_time=now, batch=batch, amount=amount, qr=ref
        )

    first = build(None)
    entry = replace(runner.entry(first, invoice, "", "QR"), qr_ref=ref)
    journal_id, saf_id = runner.books.open(entry, first)
    session = MpmSession(
        service,
        payload=mpm_payload(config, amount, ref),
        order_ref=ref,
        amount=amount,
        journal_id=journal_id,
        saf_id=saf_id,
    )
    outcome = await runner.exchange(journal_id, saf_id, build)
    if isinstance(outcome, TxnResult):
        session._result = outcome
    elif outcome.response_code == PENDING:
        runner.books.advance(journal_id, TxnEvent.PENDING)
        runner.live_orders.add(journal_id)
    else:
        session._result = runner.finished(journal_id, outcome, saf_id)
    return session


async def poll_order(runner: Runner, mpm: MpmSession, emit: Callable[[Event], None]) -> TxnResult:
    """QR_QUERY until a final answer; past ``qr_timeout`` the order is reversed."""
    assert mpm.journal_id is not None
    config, session = runner.config, runner.session
    loop = asyncio.get_running_loop()
    deadline = mpm.started + config.qr_timeout
    try:
        while (remaining := deadline - loop.time()) > 0:
            await asyncio.sleep(min(config.qr_poll_interval, remaining))
            try:
                response = await session.send(
                    lambda _k: session.request(TxnKind.QR_QUERY, qr=mpm.order_ref)
                )
            except NO_ANSWER:
                continue  # a lost poll is not a lost payment: ask again
            if response.response_code == PENDING:
                emit(QrPending(mpm.order_ref, loop.time() - mpm.started))
                continue
            return runner.finished(mpm.journal_id, response, mpm.saf_id)
        timeout = LinkTimeout(f"not paid within {config.qr_timeout:g} s")
        return await runner.no_answer(mpm.journal_id, mpm.saf_id, timeout)
    except asyncio.CancelledError:
        runner.abandoned(mpm.journal_id, mpm.saf_id, "cancelled while waiting for payment")
        raise
    finally:
        runner.live_orders.discard(mpm.journal_id)


async def cancel_order(runner: Runner, mpm: MpmSession) -> TxnResult:
    assert mpm.journal_id is not None
    runner.live_orders.discard(mpm.journal_id)
    reason = LinkTimeout("cancelled by the operator")
    if runner.store.journal.get(mpm.journal_id).state is TxnState.TIMED_OUT:
        # A cancelled wait() already gave the order up: only its reversal is left to deliver.
        left = await runner.books.deliver(only=mpm.journal_id)
        entry = runner.store.journal.get(mpm.journal_id)
        return runner.result(entry, error=str(reason), reversal_pending=bool(left))
    return await runner.no_answer(mpm.journal_id, mpm.saf_id, reason)
