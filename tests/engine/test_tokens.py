"""Through the engine: only an approved sale keeps its card's sealed PAN."""

from __future__ import annotations

from terminal.core.journal import TxnState
from terminal.engine import CardInput


async def test_only_approved_sales_keep_a_token(terminal, store):
    approved = await terminal.sale(1000, CardInput.test_card("visa-approve"))
    declined = await terminal.sale(1000, CardInput.test_card("visa-decline"))
    reversed_ = await terminal.sale(1268, CardInput.test_card("visa-approve"))  # answer too late
    balance = await terminal.balance(CardInput.test_card("visa-approve"))
    assert approved.approved
    assert not declined.approved
    assert reversed_.state is TxnState.REVERSED
    kept = store.db.conn.execute("SELECT id FROM journal WHERE pan_token IS NOT NULL")
    assert [row[0] for row in kept] == [approved.journal_id]
    assert store.journal.card_pan(approved.journal_id) is not None
    for result in (declined, reversed_, balance):
        assert store.journal.card_pan(result.journal_id) is None
    leftovers = store.db.conn.execute(
        "SELECT count(*) FROM saf WHERE done_at IS NOT NULL AND request LIKE '%v1:%'"
    )
    assert leftovers.fetchone()[0] == 0  # delivered reversals keep no sealed PAN
