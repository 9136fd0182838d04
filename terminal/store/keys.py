"""Working keys from the last sign-on, kept exactly as the host sent them.

They arrive encrypted under the terminal master key and stay that way here: the store never
sees a clear key, so a copied database gives nothing away. Only the latest sign-on is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from iso8583.acquirer.model import SessionKeys
from terminal.store.db import Database, now, time_from_text, time_to_text
from terminal.store.errors import InvalidRecordError

__all__ = ["SqliteKeyStore"]


class SqliteKeyStore:
    """KeyStore protocol plus the sign-on time (a terminal re-signs on after a while)."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = now) -> None:
        self._db = db
        self._clock = clock

    def save(self, keys: SessionKeys) -> None:
        """Replace the stored keys with those of a new sign-on."""
        if not isinstance(keys, SessionKeys):
            raise InvalidRecordError(f"expected SessionKeys, got {type(keys).__name__}")
        values = (keys.pin_key, keys.pin_kcv, keys.mac_key, keys.mac_kcv)
        for name, value in zip(("pin_key", "pin_kcv", "mac_key", "mac_kcv"), values, strict=True):
            if not isinstance(value, bytes | bytearray):
                raise InvalidRecordError("expected bytes", field=f"keys.{name}")
        with self._db.write("saving the session keys") as conn:
            conn.execute(
                "INSERT OR REPLACE INTO session_keys"
                " (id, pin_key, pin_kcv, mac_key, mac_kcv, signed_on_at)"
                " VALUES (1, ?, ?, ?, ?, ?)",
                (*(bytes(v) for v in values), time_to_text(self._clock())),
            )

    def load(self) -> SessionKeys | None:
        """The keys of the last sign-on, or None if the terminal never signed on."""
        with self._db.read("loading the session keys") as conn:
            row = conn.execute(
                "SELECT pin_key, pin_kcv, mac_key, mac_kcv FROM session_keys WHERE id = 1"
            ).fetchone()
        return None if row is None else SessionKeys(*(bytes(v) for v in row))

    def signed_on_at(self) -> datetime | None:
        """When the stored keys were received."""
        with self._db.read("loading the sign-on time") as conn:
            row = conn.execute("SELECT signed_on_at FROM session_keys WHERE id = 1").fetchone()
        return None if row is None else time_from_text(row[0])

    def clear(self) -> None:
        """Forget the keys (e.g. the host asked for a new sign-on)."""
        with self._db.write("clearing the session keys") as conn:
            conn.execute("DELETE FROM session_keys")
