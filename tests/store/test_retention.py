"""A sealed PAN is kept only while a void or refund to the same card may need it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from iso8583.acquirer.model import TxnKind
from terminal.core.journal import TxnState
from terminal.store import TerminalStore
from terminal.store.retention import REFUND_WINDOW
from tests.store.helpers import FULL_PAN, entry
from tests.store.test_saf import reversal


@pytest.fixture
def store(tmp_path):
    with TerminalStore(tmp_path) as opened:
        yield opened


def tokens(store) -> dict[int, bool]:
    rows = store.db.conn.execute("SELECT id, pan_token IS NOT NULL FROM journal ORDER BY id")
    return {row[0]: bool(row[1]) for row in rows}


def test_a_sale_keeps_its_token_while_it_can_be_voided_or_refunded(store):
    sale = store.journal.add(entry(state=TxnState.CREATED), pan=FULL_PAN)
    store.journal.update(sale, state=TxnState.SENT)
    store.journal.update(sale, state=TxnState.APPROVED)
    assert store.journal.card_pan(sale) == FULL_PAN


@pytest.mark.parametrize(
    "final",
    [TxnState.DECLINED, TxnState.REVERSED, TxnState.FAILED, TxnState.TIMED_OUT, TxnState.VOIDED],
)
def test_the_token_goes_when_no_void_or_refund_can_follow(store, final):
    sale = store.journal.add(entry(state=TxnState.SENT), pan=FULL_PAN)
    store.journal.update(sale, state=final)
    assert tokens(store) == {sale: False}
    assert store.journal.card_pan(sale) is None


@pytest.mark.parametrize("kind", [TxnKind.BALANCE, TxnKind.REFUND, TxnKind.VOID])
def test_kinds_that_are_never_voided_or_refunded_keep_no_token(store, kind):
    journal_id = store.journal.add(entry(kind=kind, state=TxnState.CREATED), pan=FULL_PAN)
    assert tokens(store) == {journal_id: False}


def test_the_sweep_purges_settled_sales_past_the_refund_window(store):
    now = datetime.now().astimezone().replace(microsecond=0)
    old = store.journal.add(
        entry(local_time=(now - REFUND_WINDOW - timedelta(days=1)).replace(tzinfo=None)),
        pan=FULL_PAN,
    )
    recent = store.journal.add(entry(local_time=now.replace(tzinfo=None)), pan=FULL_PAN)
    assert store.purge_tokens() == 0  # both still in the open batch: voidable
    store.counters.close_batch()
    assert store.purge_tokens() == 1
    assert tokens(store) == {old: False, recent: True}


def test_a_delivered_reversal_loses_its_sealed_pan(store):
    journal_id = store.journal.add(entry(state=TxnState.TIMED_OUT))
    delivered = store.saf.push_request(journal_id, reversal(stan="000001"))
    waiting = store.saf.push_request(journal_id, reversal(stan="000002"))
    store.saf.done(delivered)
    rows = dict(store.db.conn.execute("SELECT id, request FROM saf").fetchall())
    assert json.loads(rows[delivered])["pan_token"] is None
    assert json.loads(rows[delivered])["expiry_token"] is None
    assert json.loads(rows[waiting])["pan_token"] is not None
    (pending,) = store.saf.pending()
    assert store.saf.request(pending).pan == FULL_PAN  # still deliverable
