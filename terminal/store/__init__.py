"""The terminal's persistent state in one SQLite file: journal, SAF, counters, keys.

Implements the ports of :mod:`terminal.core.journal`. Open everything through
:class:`TerminalStore`; the schema and the lost-receipt queries are in ``docs/journal.md``.
"""

from __future__ import annotations

from terminal.store.counters import SqliteCounters
from terminal.store.db import SCHEMA_VERSION, Database, open_database
from terminal.store.errors import (
    BackupError,
    InvalidRecordError,
    RecordNotFoundError,
    SchemaVersionError,
    SensitiveDataError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreLockedError,
    StoreLostError,
    StoreMissingError,
    StoreReadOnlyError,
    VaultError,
)
from terminal.store.journal import SqliteJournal
from terminal.store.keys import SqliteKeyStore
from terminal.store.saf import SqliteSafQueue, request_from_record, request_to_record
from terminal.store.state import TerminalStore, default_data_dir
from terminal.store.vault import Vault

__all__ = [
    "SCHEMA_VERSION",
    "BackupError",
    "Database",
    "InvalidRecordError",
    "RecordNotFoundError",
    "SchemaVersionError",
    "SensitiveDataError",
    "SqliteCounters",
    "SqliteJournal",
    "SqliteKeyStore",
    "SqliteSafQueue",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
    "StoreLockedError",
    "StoreLostError",
    "StoreMissingError",
    "StoreReadOnlyError",
    "TerminalStore",
    "Vault",
    "VaultError",
    "default_data_dir",
    "open_database",
    "request_from_record",
    "request_to_record",
]
