"""The ports of the terminal: what the engine, the receipt service, the TUI and the agent
need from the outside world, and nothing about how it is done.

Adapters implement them: ``terminal.store`` (SQLite) and ``terminal.store.memory`` (in
memory, for contract tests) the storage ports, ``terminal.net`` the :class:`Link`,
``terminal.devices`` the :class:`ReceiptPrinter`. Callers are typed against these
protocols and catch only the errors of :mod:`terminal.core.errors` (``NotFoundError``,
``LinkError`` and its subclasses, ``PrinterError``), never an adapter's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from iso8583.acquirer.model import Request, SessionKeys
from terminal.core.journal import (
    JournalEntry,
    JournalQuery,
    PendingMessage,
    ReceiptCopyRecord,
)
from terminal.core.receipts import Copy, Receipt

__all__ = [
    "Counters",
    "JournalFeed",
    "JournalStore",
    "KeyStore",
    "Link",
    "PrintJob",
    "ReceiptPrinter",
    "SafQueue",
    "TerminalStorage",
]


# --- storage (what the engine writes) -----------------------------------------------------
class JournalStore(Protocol):
    """The journal as the engine and the receipt service write it.

    ``get`` raises :class:`~terminal.core.errors.NotFoundError` for an unknown id.
    """

    def add(self, entry: JournalEntry, *, pan: str | None = None) -> int: ...
    def update(self, journal_id: int, **changes: Any) -> JournalEntry: ...
    def get(self, journal_id: int) -> JournalEntry: ...
    def find(self, query: JournalQuery) -> list[JournalEntry]: ...
    def batch_entries(self, batch: str) -> list[JournalEntry]: ...
    def set_copy_status(self, journal_id: int, copy: ReceiptCopyRecord) -> None: ...
    def add_copy(self, journal_id: int, copy: ReceiptCopyRecord) -> None: ...
    def card_pan(self, journal_id: int) -> str | None: ...
    def changes_since(self, cursor: int, limit: int = 100) -> tuple[list[JournalEntry], int]: ...


class SafQueue(Protocol):
    """Persistent store-and-forward queue: delivered oldest first, before new transactions."""

    def push(self, journal_id: int, request: dict[str, Any]) -> int: ...
    def push_request(self, journal_id: int, request: Request) -> int: ...
    def pending(self) -> list[PendingMessage]: ...
    def request(self, message: PendingMessage) -> Request: ...
    def attempt(self, message_id: int) -> None: ...
    def done(self, message_id: int) -> None: ...
    def cancel(self, message_id: int, reason: str) -> None:
        """Out of the queue without being sent: the request it would undo never left."""
        ...


class Counters(Protocol):
    def next_stan(self) -> str: ...
    def next_invoice(self) -> str: ...
    def batch(self) -> str: ...
    def close_batch(self) -> str: ...


class KeyStore(Protocol):
    """Working keys as received at sign-on (encrypted under the TMK, never in clear)."""

    def save(self, keys: SessionKeys) -> None: ...
    def load(self) -> SessionKeys | None: ...


class TerminalStorage(Protocol):
    """Everything the terminal persists. ``data_dir`` (None in memory) is where the engine
    keeps its single-instance lock."""

    @property
    def data_dir(self) -> Path | None: ...
    @property
    def journal(self) -> JournalStore: ...
    @property
    def saf(self) -> SafQueue: ...
    @property
    def counters(self) -> Counters: ...
    @property
    def keys(self) -> KeyStore: ...
    def close(self) -> None: ...


# --- the journal feed (what other components read) ----------------------------------------
@runtime_checkable
class JournalFeed(Protocol):
    """Read-only journal for other components (TUI, agent, CLI): find lost receipts and
    follow changes without knowing the schema.

    ``find`` filters by time range, amount, STAN, RRN, state and print status
    (:class:`~terminal.core.journal.JournalQuery`), newest first. ``changes_since(cursor)``
    returns entries created or changed (state, print status...) after ``cursor``, oldest
    change first, and the cursor to pass next time; start with 0. An entry changed twice
    is returned once, in its latest form.
    """

    def get(self, journal_id: int) -> JournalEntry: ...
    def find(self, query: JournalQuery) -> list[JournalEntry]: ...
    def changes_since(self, cursor: int, limit: int = 100) -> tuple[list[JournalEntry], int]: ...


# --- the host link ------------------------------------------------------------------------
class Link(Protocol):
    """What the engine needs from a link to the acquirer. Failures are
    :class:`~terminal.core.errors.LinkError` subclasses (``ConnectError``: nothing sent)."""

    @property
    def endpoint(self) -> str: ...
    @property
    def connected(self) -> bool: ...
    async def connect(self) -> None: ...
    async def send(self, payload: bytes) -> None: ...
    async def receive(self, timeout: float) -> bytes: ...
    async def close(self) -> None: ...


# --- printers -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PrintJob:
    """One copy to print: the receipt model (already the right copy, marked DUPLICATE when
    it is a reprint), not text, so a text printer and an ESC/POS printer render the same
    slip their own way."""

    journal_id: int
    receipt: Receipt
    copy: Copy
    duplicate: bool = False
    width: int = 32


@runtime_checkable
class ReceiptPrinter(Protocol):
    """A printer. ``print_job`` blocks until the copy is out (call it off any UI loop) and
    raises :class:`~terminal.core.errors.PrinterError` with a ``reason`` when it is not."""

    name: str

    def print_job(self, job: PrintJob) -> None: ...
