"""The store's errors: one family under ``TerminalError`` so the CLI prints one line.

::

    StoreError
    ├── StoreMissingError    no database where one was expected
    ├── StoreCorruptError    the file is not a healthy SQLite database
    │   └── StoreLostError   the store existed here but its file is now missing or empty
    ├── StoreReadOnlyError   the data directory (or file) cannot be written: read-only
    ├── StoreFullError       the disk (or quota) is full
    ├── SchemaVersionError   written by a newer posemu, or not a posemu store at all
    ├── StoreLockedError     another process kept the database locked past the busy timeout
    ├── RecordNotFoundError  no journal entry / SAF message with that id
    ├── InvalidRecordError   a value of the wrong type or shape
    ├── SensitiveDataError   card data the journal must never hold (full PAN, track, PIN block)
    ├── VaultError           the data key is missing, unreadable or too open; a token is not ours
    └── BackupError          a backup or restore could not be made

Messages name the database or key file and the field, never the card data itself.
"""

from __future__ import annotations

from pathlib import Path

from terminal.core.errors import NotFoundError, TerminalError

__all__ = [
    "BackupError",
    "InvalidRecordError",
    "RecordNotFoundError",
    "SchemaVersionError",
    "SensitiveDataError",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
    "StoreLockedError",
    "StoreLostError",
    "StoreMissingError",
    "StoreReadOnlyError",
    "VaultError",
]


class StoreError(TerminalError):
    """Base of every persistence failure; ``path`` is the file, ``field`` the value at fault."""

    def __init__(
        self, reason: str, *, path: Path | str | None = None, field: str | None = None
    ) -> None:
        self.reason = reason
        self.path = None if path is None else Path(path)
        self.field = field
        message = f"{field}: {reason}" if field else reason
        super().__init__(f"{path}: {message}" if path is not None else message)


class StoreMissingError(StoreError):
    """Read-only commands must not create an empty store where the merchant expects data."""


class StoreCorruptError(StoreError):
    """The file exists but is not a SQLite database, or fails its integrity check."""


class StoreLostError(StoreCorruptError):
    """A store that existed is gone or empty: never silently replaced by a new, empty one
    (the trace counter would restart and the host would refuse repeated STANs)."""


class StoreReadOnlyError(StoreError):
    """A write was refused because the directory, file or filesystem is read-only."""


class StoreFullError(StoreError):
    """A write failed because the filesystem (or the user's quota) has no space left."""


class SchemaVersionError(StoreError):
    """Opening a newer (or foreign) database would risk silently damaging it."""


class StoreLockedError(StoreError):
    """Another process held the write lock longer than the busy timeout."""


class RecordNotFoundError(StoreError, NotFoundError):
    """No row with the given id: the caller's reference is stale or wrong."""


class InvalidRecordError(StoreError, ValueError):
    """A value of the wrong type or shape would be unreadable later."""


class SensitiveDataError(StoreError, ValueError):
    """PCI DSS: full PANs, track data and PIN blocks never reach the disk in clear."""


class VaultError(StoreError):
    """The terminal data key cannot be used, or a token was not sealed with it."""


class BackupError(StoreError):
    """A backup could not be written, or a restore source is unusable."""
