"""Facts the store keeps about itself (``store_meta``): its id and the data key's check value.

The data key's check value is its key id (a hash of the key, never the key): recorded when
the first token is sealed, it lets the vault tell a replaced or damaged key file from the
right one instead of silently making a new key that cannot open the old tokens.
"""

from __future__ import annotations

from typing import Final

from terminal.store.db import Database

__all__ = ["KEY_ID", "STORE_ID", "SqliteKeyLedger", "get_meta", "set_meta"]

STORE_ID: Final = "store_id"
KEY_ID: Final = "data_key_id"


def get_meta(db: Database, name: str) -> str | None:
    with db.read(f"reading {name}") as conn:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_meta'"
        ).fetchone():
            return None  # a schema-1 store opened read-only (not migrated)
        row = conn.execute("SELECT value FROM store_meta WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(db: Database, name: str, value: str | None) -> None:
    with db.write(f"recording {name}") as conn:
        if value is None:
            conn.execute("DELETE FROM store_meta WHERE name = ?", (name,))
        else:
            conn.execute(
                "INSERT INTO store_meta (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )


class SqliteKeyLedger:
    """What the vault asks the database: which key sealed this store's tokens."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def expected_key_id(self) -> str | None:
        """The recorded check value, else the key id found in any stored token."""
        recorded = get_meta(self._db, KEY_ID)
        if recorded is not None:
            return recorded
        with self._db.read("looking for sealed tokens") as conn:
            row = conn.execute(
                "SELECT pan_token FROM journal WHERE pan_token LIKE 'v1:%' LIMIT 1"
            ).fetchone()
            if row is None:
                row = conn.execute(
                    "SELECT coalesce(json_extract(request, '$.pan_token'),"
                    " json_extract(request, '$.expiry_token'), json_extract(request, '$.qr_token'))"
                    " FROM saf WHERE done_at IS NULL AND request LIKE '%v1:%' LIMIT 1"
                ).fetchone()
        token = None if row is None else row[0]
        if not isinstance(token, str) or token.count(":") != 2:
            return None
        return token.split(":")[1]

    def tokens_left(self) -> int:
        """How many journal entries and queued messages still hold a sealed value."""
        with self._db.read("counting sealed tokens") as conn:
            entries = conn.execute(
                "SELECT count(*) FROM journal WHERE pan_token IS NOT NULL"
            ).fetchone()[0]
            queued = conn.execute(
                "SELECT count(*) FROM saf WHERE done_at IS NULL AND request LIKE '%\"v1:%'"
            ).fetchone()[0]
        return int(entries) + int(queued)

    def record_key_id(self, key_id: str) -> None:
        if not self._db.read_only:
            set_meta(self._db, KEY_ID, key_id)
