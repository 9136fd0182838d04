"""Trace (STAN), invoice and batch numbers that survive restarts and never repeat.

Each increment is one SQLite write transaction (a single ``UPDATE ... RETURNING``), so two
processes sharing the terminal's database can never draw the same STAN: the host would treat
the second as a duplicate, or match a reversal to the wrong transaction.
"""

from __future__ import annotations

from typing import Final

from terminal.store.db import Database

__all__ = ["COUNTER_MAX", "SqliteCounters"]

#: Field 11 is n6; 000000 is never used, so 999999 wraps to 000001.
COUNTER_MAX: Final = 999_999


class SqliteCounters:
    """Counters protocol: ``next_stan``, ``next_invoice``, ``batch``, ``close_batch``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _advance(self, name: str) -> str:
        with self._db.write(f"advancing the {name} counter") as conn:
            (value,) = conn.execute(
                f"UPDATE counters SET value = value % {COUNTER_MAX} + 1 WHERE name = ?"
                " RETURNING value",
                (name,),
            ).fetchone()
        return f"{value:06d}"

    def next_stan(self) -> str:
        """The next trace number, 000001..999999 then 000001 again."""
        return self._advance("stan")

    def next_invoice(self) -> str:
        """The next invoice number printed on the slip; same range as the STAN."""
        return self._advance("invoice")

    def batch(self) -> str:
        """The open batch: the one new transactions belong to."""
        with self._db.read("reading the batch number") as conn:
            (value,) = conn.execute("SELECT value FROM counters WHERE name = 'batch'").fetchone()
        return f"{value:06d}"

    def close_batch(self) -> str:
        """Settlement succeeded: open the next batch and return its number.

        STAN and invoice numbers run on across batches.
        """
        return self._advance("batch")
