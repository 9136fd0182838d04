"""How long a sealed PAN is kept: only while a void or refund to the same card may need it.

A token is a liability (the data key sits beside the database), so it is kept only on an
approved (or still in-flight) sale or pre-authorisation, and only while that transaction can
still be voided (its batch is open) or refunded (within :data:`REFUND_WINDOW` of its local
time). Declined sales, balance inquiries, reversed, voided, failed and timed-out entries
never need the card again: their tokens are deleted as soon as the entry reaches that state,
and a sweep (:func:`purge_tokens`) removes the ones that have aged out. Delivered SAF
messages lose their tokens when they are acknowledged.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Final

from iso8583.acquirer.model import TxnKind
from terminal.core.journal import TxnState
from terminal.store.db import local_time_key

__all__ = ["REFUND_WINDOW", "TOKEN_KINDS", "TOKEN_STATES", "keeps_token", "purge_tokens"]

#: A refund to the original card is accepted this long after the sale (and always while
#: its batch is open).
REFUND_WINDOW: Final = timedelta(days=30)
TOKEN_KINDS: Final = frozenset({TxnKind.SALE, TxnKind.PREAUTH})
#: CREATED/SENT: the answer is not known yet and may be an approval.
TOKEN_STATES: Final = frozenset({TxnState.CREATED, TxnState.SENT, TxnState.APPROVED})
SAF_TOKEN_KEYS: Final = ("pan_token", "expiry_token", "qr_token")
_SAF_CLEAR: Final = ", ".join(f"'$.{k}', NULL" for k in SAF_TOKEN_KEYS)
SAF_CLEAR_SQL: Final = f"request = json_set(request, {_SAF_CLEAR})"


def keeps_token(kind: TxnKind | str, state: TxnState | str) -> bool:
    """May an entry of this kind in this state still be voided or refunded to its card?"""
    return TxnKind(kind) in TOKEN_KINDS and TxnState(state) in TOKEN_STATES


def purge_tokens(conn: sqlite3.Connection, open_batch: str, now: datetime) -> int:
    """Delete every token no longer needed (call inside a write transaction); return how
    many journal entries lost theirs."""
    kinds = ", ".join(f"'{k.value}'" for k in TOKEN_KINDS)
    states = ", ".join(f"'{s.value}'" for s in TOKEN_STATES)
    cutoff = local_time_key((now - REFUND_WINDOW).replace(tzinfo=None))
    cursor = conn.execute(
        "UPDATE journal SET pan_token = NULL WHERE pan_token IS NOT NULL AND NOT ("
        f" kind IN ({kinds}) AND state IN ({states}) AND (batch = ? OR local_time >= ?))",
        (open_batch, cutoff),
    )
    purged = cursor.rowcount
    tokens = " OR ".join(f"json_extract(request, '$.{k}') IS NOT NULL" for k in SAF_TOKEN_KEYS)
    conn.execute(f"UPDATE saf SET {SAF_CLEAR_SQL} WHERE done_at IS NOT NULL AND ({tokens})")
    return purged
