"""A storage fault between creating a journal row and marking it SENT sends nothing, and
reverses nothing: the row's state says whether the request could have left.

The fault is injected in SQLite itself (an authorizer refusing the SENT update on the
store's real connection), so the write fails where a full disk would make it fail.
"""

from __future__ import annotations

import sqlite3

import pytest

from terminal.core.journal import JournalQuery, TxnState
from terminal.engine import CardInput, ReversalDelivered
from terminal.store import StoreError

VISA = CardInput.test_card("visa-approve")


class FailingUpdate:
    """Refuse, while armed, statements that change ``table.column`` (not triggers' own
    bookkeeping), as a full disk would refuse the write."""

    def __init__(self, conn: sqlite3.Connection, table: str, column: str) -> None:
        self.table, self.column, self.armed, self.refused = table, column, False, 0
        conn.set_authorizer(self)

    def __call__(
        self, action: int, table: str | None, column: str | None, _db: object, trigger: object
    ) -> int:
        if (
            self.armed
            and action == sqlite3.SQLITE_UPDATE
            and (table, column) == (self.table, self.column)
            and trigger is None
        ):
            self.refused += 1
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK


async def test_a_failed_sent_write_sends_nothing_and_reverses_nothing(
    terminal, store, host, events
):
    fault = FailingUpdate(store.db.conn, "journal", "state")
    fault.armed = True
    with pytest.raises(StoreError):
        await terminal.sale(1000, VISA)
    fault.armed = False
    assert fault.refused >= 1
    (lost,) = store.journal.find(JournalQuery())
    assert lost.state is TxnState.CREATED  # the row says: never sent
    assert not [e for e in host.ledger.entries() if e.stan == lost.stan]  # and it was not

    result = await terminal.sale(2000, VISA)  # the next command
    assert result.approved
    assert not [e for e in events if isinstance(e, ReversalDelivered)]
    assert store.journal.get(lost.id).state is TxnState.FAILED
    assert store.saf.pending() == []
    note = store.db.conn.execute("SELECT note FROM saf WHERE journal_id = ?", (lost.id,))
    assert note.fetchone()[0].startswith("cancelled: ")


async def test_a_request_that_may_have_left_is_still_reversed(terminal, store, host, events):
    """The other side of the rule: once SENT, a lost answer is reversed as before."""
    fault = FailingUpdate(store.db.conn, "journal", "state")
    result = await terminal.sale(1268, VISA)  # x.68: the host answers too late
    assert result.state is TxnState.REVERSED
    assert [e.stan for e in events if isinstance(e, ReversalDelivered)] == [result.stan]
    assert fault.refused == 0
