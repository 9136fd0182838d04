"""Settlement: close the batch when terminal and host agree on its totals.

0500 carries the journal's totals of the open batch. On 95 (the host counts differently)
every approved debit and refund of the batch is uploaded (0320, one per transaction, with
its original STAN) and the settlement is sent again marked "after upload"; the host then
closes the batch with what was uploaded. Only a 00 closes the terminal's batch, so an
unanswered settlement can simply be repeated.
"""

from __future__ import annotations

from dataclasses import replace

from iso8583.acquirer.model import Original, TxnKind
from terminal.core.journal import batch_totals
from terminal.engine.lookup import counted
from terminal.engine.results import TxnResult
from terminal.engine.runner import Runner

__all__ = ["settle"]


async def settle(runner: Runner) -> TxnResult:
    """Settle the open batch (the caller holds the runner's lock and made it ready)."""
    session, store = runner.session, runner.store
    batch = store.counters.batch()
    entries = store.journal.batch_entries(batch)
    totals = batch_totals(entries)
    response = await session.send(lambda _k: session.request(TxnKind.SETTLEMENT, totals=totals))
    uploaded = 0
    if response.response_code == "95":
        for entry in counted(entries):
            original = Original(
                kind=entry.kind,
                stan=entry.stan,
                local_time=entry.local_time,
                rrn=entry.rrn,
                auth_code=entry.auth_code,
                amount=entry.amount or 0,
                batch=entry.batch,
            )
            await session.send(
                lambda _k, o=original, a=entry.amount: session.request(
                    TxnKind.BATCH_UPLOAD, amount=a, original=o
                )
            )
            uploaded += 1
        response = await session.send(
            lambda _k: session.request(TxnKind.SETTLEMENT, totals=totals, after_upload=True)
        )
    if response.approved:
        store.counters.close_batch()
    result = runner.plain(TxnKind.SETTLEMENT, response)
    return replace(result, batch=batch, totals=totals, uploaded=uploaded)
