"""The transaction journal on SQLite: :class:`terminal.core.journal.JournalStore`.

Receipt copies live in their own table (``receipt_copies``) so that another process, the
device agent, can read the journal concurrently and find receipts that were never printed
with one SQL query. Every write is validated first: the journal holds masked PANs only, and
a value that looks like a full PAN or track data is refused, never masked silently.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from iso8583.acquirer.model import TxnKind
from terminal.core.cards import validate_pan
from terminal.core.errors import CardDataError
from terminal.core.journal import (
    JournalEntry,
    JournalQuery,
    PrintStatus,
    ReceiptCopyRecord,
    TxnState,
)
from terminal.core.receipts import Receipt, ReceiptError, check_masked_pan
from terminal.store.db import (
    Database,
    local_time_from,
    local_time_key,
    local_time_offset,
    now,
    time_from_text,
    time_to_text,
)
from terminal.store.errors import (
    InvalidRecordError,
    RecordNotFoundError,
    SensitiveDataError,
    StoreError,
)
from terminal.store.retention import keeps_token
from terminal.store.vault import Vault, refuse_card_data

__all__ = ["COPY_NAMES", "SqliteJournal", "check_copy", "check_entry"]

COPY_NAMES: Final = ("merchant", "customer")
_MAX_AMOUNT: Final = 999_999_999_999
_TEXT_FIELDS: Final = (
    "stan",
    "batch",
    "invoice",
    "terminal_id",
    "merchant_id",
    "currency",
    "masked_pan",
    "brand",
    "entry_mode",
    "response_code",
    "response_text",
    "auth_code",
    "rrn",
    "qr_ref",
)
#: identifiers, not card data: a 15-digit merchant ID passes the Luhn check one time in ten.
_IDENTIFIERS: Final = frozenset({"merchant_id", "terminal_id"})
_CHANGEABLE: Final = frozenset(f.name for f in fields(JournalEntry)) - {
    "id",
    "updated_at",
    "copies",
}
_COLUMNS: Final = (
    "kind",
    "state",
    "stan",
    "batch",
    "invoice",
    "local_time",
    "local_utc_offset_us",
    "terminal_id",
    "merchant_id",
    "amount",
    "currency",
    "masked_pan",
    "brand",
    "entry_mode",
    "response_code",
    "response_text",
    "auth_code",
    "rrn",
    "original_id",
    "qr_ref",
    "pin_verified",
    "receipt",
)
_UNPRINTED_SQL: Final = (
    "receipt IS NOT NULL AND NOT EXISTS (SELECT 1 FROM receipt_copies c"
    " WHERE c.journal_id = journal.id AND c.status = 'printed')"
)
_E = TypeVar("_E", bound=StrEnum)


def _enum(enum: type[_E], value: object, field: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(m.value for m in enum)
        raise InvalidRecordError(f"{value!r} is not one of {known}", field=field) from None


def _enums(enum: type[_E], values: Iterable[object] | str, field: str) -> list[_E]:
    items = [values] if isinstance(values, str) else list(values)
    return [_enum(enum, v, field) for v in items]


def _check_text(entry: JournalEntry, name: str) -> None:
    value = getattr(entry, name)
    if not isinstance(value, str):
        raise InvalidRecordError(f"expected text, got {type(value).__name__}", field=name)
    if name not in _IDENTIFIERS:
        refuse_card_data(value, field=name)


def _check_optional_int(value: object, field: str, *, low: int = 0, high: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecordError(f"expected an int, got {type(value).__name__}", field=field)
    if not low <= value <= high:
        raise InvalidRecordError(f"{value} is outside {low}..{high}", field=field)


def _check_receipt(receipt: object) -> None:
    if receipt is None:
        return
    if not isinstance(receipt, dict):
        raise InvalidRecordError("expected Receipt.to_dict() output", field="receipt")
    refuse_card_data(receipt, field="receipt", skip=_IDENTIFIERS)
    try:
        Receipt.from_dict(receipt)
    except ReceiptError as exc:  # also catches an unmasked PAN written with spaces
        error = SensitiveDataError if "full PAN" in exc.reason else InvalidRecordError
        raise error(f"not a valid receipt ({exc})", field="receipt") from None


def check_copy(copy: ReceiptCopyRecord) -> ReceiptCopyRecord:
    """Validate one receipt copy record; the status may be given as its string value."""
    if not isinstance(copy, ReceiptCopyRecord):
        raise InvalidRecordError("expected a ReceiptCopyRecord", field="copies")
    if copy.copy not in COPY_NAMES:
        raise InvalidRecordError(f"{copy.copy!r} is not merchant or customer", field="copy.copy")
    if not isinstance(copy.duplicate, bool):
        raise InvalidRecordError("expected a bool", field="copy.duplicate")
    if copy.printed_at is not None and not isinstance(copy.printed_at, datetime):
        raise InvalidRecordError("expected a datetime", field="copy.printed_at")
    if not isinstance(copy.error, str):
        raise InvalidRecordError("expected text", field="copy.error")
    refuse_card_data(copy.error, field="copy.error")
    return replace(copy, status=_enum(PrintStatus, copy.status, "copy.status"))


def check_entry(entry: JournalEntry) -> JournalEntry:
    """Validate an entry before it is written; return it with enums normalised."""
    if not isinstance(entry, JournalEntry):
        raise InvalidRecordError(f"expected a JournalEntry, got {type(entry).__name__}")
    kind = _enum(TxnKind, entry.kind, "kind")
    state = _enum(TxnState, entry.state, "state")
    for name in _TEXT_FIELDS:
        _check_text(entry, name)
    if entry.masked_pan:
        try:
            check_masked_pan(entry.masked_pan)
        except ReceiptError as exc:
            # a full PAN is a security refusal; any other malformed masked PAN is just invalid
            error = SensitiveDataError if "full PAN" in exc.reason else InvalidRecordError
            raise error(exc.reason, field="masked_pan") from None
    if not isinstance(entry.local_time, datetime):
        raise InvalidRecordError("expected a datetime", field="local_time")
    _check_optional_int(entry.amount, "amount", high=_MAX_AMOUNT)
    _check_optional_int(entry.original_id, "original_id", low=1, high=2**63 - 1)
    if not isinstance(entry.pin_verified, bool):
        raise InvalidRecordError("expected a bool", field="pin_verified")
    _check_receipt(entry.receipt)
    if not isinstance(entry.copies, tuple | list):
        raise InvalidRecordError("expected a tuple of ReceiptCopyRecord", field="copies")
    copies = tuple(check_copy(c) for c in entry.copies)
    return replace(entry, kind=kind, state=state, copies=copies)


def _row_values(entry: JournalEntry) -> tuple[Any, ...]:
    return (
        entry.kind.value,
        entry.state.value,
        entry.stan,
        entry.batch,
        entry.invoice,
        local_time_key(entry.local_time),
        local_time_offset(entry.local_time),
        entry.terminal_id,
        entry.merchant_id,
        entry.amount,
        entry.currency,
        entry.masked_pan,
        entry.brand,
        entry.entry_mode,
        entry.response_code,
        entry.response_text,
        entry.auth_code,
        entry.rrn,
        entry.original_id,
        entry.qr_ref,
        int(entry.pin_verified),
        None if entry.receipt is None else json.dumps(entry.receipt, ensure_ascii=False),
    )


def _copy_from_row(row: sqlite3.Row) -> ReceiptCopyRecord:
    return ReceiptCopyRecord(
        copy=row["copy"],
        status=PrintStatus(row["status"]),
        duplicate=bool(row["duplicate"]),
        printed_at=time_from_text(row["printed_at"]),
        error=row["error"],
    )


def _entry_from_row(row: sqlite3.Row, copies: Sequence[ReceiptCopyRecord]) -> JournalEntry:
    receipt = row["receipt"]
    return JournalEntry(
        id=row["id"],
        kind=TxnKind(row["kind"]),
        state=TxnState(row["state"]),
        stan=row["stan"],
        batch=row["batch"],
        invoice=row["invoice"],
        local_time=local_time_from(row["local_time"], row["local_utc_offset_us"]),
        terminal_id=row["terminal_id"],
        merchant_id=row["merchant_id"],
        amount=row["amount"],
        currency=row["currency"],
        masked_pan=row["masked_pan"],
        brand=row["brand"],
        entry_mode=row["entry_mode"],
        response_code=row["response_code"],
        response_text=row["response_text"],
        auth_code=row["auth_code"],
        rrn=row["rrn"],
        original_id=row["original_id"],
        qr_ref=row["qr_ref"],
        pin_verified=bool(row["pin_verified"]),
        receipt=None if receipt is None else json.loads(receipt),
        copies=tuple(copies),
        updated_at=time_from_text(row["updated_at"]),
    )


class SqliteJournal:
    """JournalStore on the shared database; ``vault`` seals the card's PAN for voids/refunds."""

    def __init__(
        self,
        db: Database,
        vault: Vault | None = None,
        *,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._db = db
        self._vault = vault
        self._clock = clock

    # --- writes ---------------------------------------------------------------------------
    def add(self, entry: JournalEntry, *, pan: str | None = None) -> int:
        """Persist a new entry (and its copies) in one transaction; return its id.

        ``pan``, if given, is kept only sealed by the vault, so a later void or refund of
        this card can send it again (see :meth:`card_pan`), and only for kinds that can be
        voided or refunded (see :mod:`terminal.store.retention`).
        """
        if entry.id is not None:
            raise InvalidRecordError("is assigned by the store; pass id=None", field="id")
        entry = check_entry(entry)
        keep = pan is not None and keeps_token(entry.kind, entry.state)
        token = self._seal_pan(pan, entry.masked_pan) if keep and pan is not None else None
        stamp = time_to_text(self._clock())
        columns = ", ".join(_COLUMNS)
        marks = ", ".join("?" * (len(_COLUMNS) + 3))
        with self._db.write("adding a journal entry") as conn:
            cursor = conn.execute(
                f"INSERT INTO journal ({columns}, pan_token, created_at, updated_at)"
                f" VALUES ({marks})",
                (*_row_values(entry), token, stamp, stamp),
            )
            journal_id = int(cursor.lastrowid or 0)
            for copy in entry.copies:
                self._insert_copy(conn, journal_id, copy, stamp)
        return journal_id

    def update(self, journal_id: int, **changes: Any) -> JournalEntry:
        """Change some fields of an entry (state, response, receipt...); return the result."""
        unknown = sorted(set(changes) - _CHANGEABLE)
        if unknown:
            hint = " (use set_copy_status for copies)" if "copies" in unknown else ""
            raise InvalidRecordError(
                f"cannot change {', '.join(unknown)}{hint}", field=f"journal entry {journal_id}"
            )
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS)
        with self._db.write(f"updating journal entry {journal_id}") as conn:
            current = self._get(conn, journal_id)
            entry = check_entry(replace(current, **changes))
            keep = keeps_token(entry.kind, entry.state)  # else no void or refund can need it
            conn.execute(
                f"UPDATE journal SET {assignments}, updated_at = ?,"
                " pan_token = CASE WHEN ? THEN pan_token END WHERE id = ?",
                (*_row_values(entry), time_to_text(self._clock()), keep, journal_id),
            )
            return self._get(conn, journal_id)

    def set_copy_status(self, journal_id: int, copy: ReceiptCopyRecord) -> None:
        """Record a print attempt's outcome for ``copy`` (merchant/customer, original/dup).

        Updates the latest record of that copy unless it was already printed: a printed
        slip is history, so printing it again is a new record (see :meth:`add_copy`).
        """
        copy = check_copy(copy)
        stamp = time_to_text(self._clock())
        with self._db.write(f"setting a receipt copy of journal entry {journal_id}") as conn:
            self._require(conn, journal_id)
            latest = conn.execute(
                "SELECT id, status FROM receipt_copies WHERE journal_id = ? AND copy = ?"
                " AND duplicate = ? ORDER BY id DESC LIMIT 1",
                (journal_id, copy.copy, int(copy.duplicate)),
            ).fetchone()
            if latest is None or latest["status"] == PrintStatus.PRINTED.value:
                self._insert_copy(conn, journal_id, copy, stamp)
            else:
                conn.execute(
                    "UPDATE receipt_copies SET status = ?, printed_at = ?, error = ?,"
                    " updated_at = ? WHERE id = ?",
                    (
                        copy.status.value,
                        time_to_text(copy.printed_at),
                        copy.error,
                        stamp,
                        latest["id"],
                    ),
                )

    def add_copy(self, journal_id: int, copy: ReceiptCopyRecord) -> None:
        """Record one more copy (a reprint), whatever happened to the earlier ones."""
        copy = check_copy(copy)
        stamp = time_to_text(self._clock())
        with self._db.write(f"adding a receipt copy to journal entry {journal_id}") as conn:
            self._require(conn, journal_id)
            self._insert_copy(conn, journal_id, copy, stamp)

    # --- reads ----------------------------------------------------------------------------
    def get(self, journal_id: int) -> JournalEntry:
        with self._db.read(f"reading journal entry {journal_id}") as conn:
            return self._get(conn, journal_id)

    def find(self, query: JournalQuery) -> list[JournalEntry]:
        """Entries matching every given filter, newest (by local time) first.

        ``since``/``until`` are inclusive and compare the wall-clock time printed on the slip.
        """
        where, params = self._where(query)
        with self._db.read("searching the journal") as conn:
            return self._select(
                conn,
                f"{where} ORDER BY local_time DESC, id DESC LIMIT ?",
                (*params, query.limit),
            )

    def changes_since(self, cursor: int, limit: int = 100) -> tuple[list[JournalEntry], int]:
        """Entries created or changed after ``cursor`` (oldest change first) and the cursor
        to ask with next time; start with 0. See :class:`terminal.core.ports.JournalFeed`."""
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise InvalidRecordError(f"{cursor!r} is not a cursor (an int >= 0)", field="cursor")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidRecordError(f"{limit!r} is not a positive int", field="limit")
        with self._db.read("following the journal") as conn:
            rows = conn.execute(
                "SELECT id, change_seq FROM journal WHERE change_seq > ?"
                " ORDER BY change_seq LIMIT ?",
                (cursor, limit),
            ).fetchall()
            if not rows:
                return [], cursor
            marks = ", ".join("?" * len(rows))
            found = self._select(conn, f"WHERE id IN ({marks})", [r["id"] for r in rows])
        by_id = {e.id: e for e in found}
        return [by_id[r["id"]] for r in rows], int(rows[-1]["change_seq"])

    def batch_entries(self, batch: str) -> list[JournalEntry]:
        """Every entry of a batch in the order it was made: what settlement totals."""
        with self._db.read(f"reading batch {batch}") as conn:
            return self._select(conn, "WHERE batch = ? ORDER BY id", (batch,))

    def card_pan(self, journal_id: int) -> str | None:
        """The sealed PAN of the card used, for a void/refund to the same card, or None."""
        with self._db.read(f"reading journal entry {journal_id}") as conn:
            self._require(conn, journal_id)
            row = conn.execute("SELECT pan_token FROM journal WHERE id = ?", (journal_id,))
            token = row.fetchone()["pan_token"]
        return None if token is None else self._need_vault().open(token)

    # --- internals ------------------------------------------------------------------------
    def _need_vault(self) -> Vault:
        if self._vault is None:
            raise StoreError("no vault configured: card numbers cannot be sealed or opened")
        return self._vault

    def _seal_pan(self, pan: str, masked: str) -> str:
        try:
            validate_pan(pan, check_luhn=False)
        except CardDataError as exc:
            raise InvalidRecordError(exc.reason, field="pan") from None
        visible = masked.replace(" ", "")
        if visible and visible[-4:].isdigit() and visible[-4:] != pan[-4:]:
            raise InvalidRecordError("does not end like masked_pan", field="pan")
        return self._need_vault().seal(pan)

    def _insert_copy(
        self, conn: sqlite3.Connection, journal_id: int, copy: ReceiptCopyRecord, stamp: str | None
    ) -> None:
        conn.execute(
            "INSERT INTO receipt_copies (journal_id, copy, duplicate, status, printed_at,"
            " error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                journal_id,
                copy.copy,
                int(copy.duplicate),
                copy.status.value,
                time_to_text(copy.printed_at),
                copy.error,
                stamp,
                stamp,
            ),
        )

    def _require(self, conn: sqlite3.Connection, journal_id: int) -> None:
        if conn.execute("SELECT 1 FROM journal WHERE id = ?", (journal_id,)).fetchone() is None:
            raise RecordNotFoundError(f"journal entry {journal_id} not found", path=self._db.path)

    def _get(self, conn: sqlite3.Connection, journal_id: int) -> JournalEntry:
        found = self._select(conn, "WHERE id = ?", (journal_id,))
        if not found:
            raise RecordNotFoundError(f"journal entry {journal_id} not found", path=self._db.path)
        return found[0]

    def _select(
        self, conn: sqlite3.Connection, tail: str, params: Sequence[Any]
    ) -> list[JournalEntry]:
        rows = conn.execute(f"SELECT * FROM journal {tail}", params).fetchall()
        copies: dict[int, list[ReceiptCopyRecord]] = {row["id"]: [] for row in rows}
        ids = list(copies)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT * FROM receipt_copies WHERE journal_id IN ({marks}) ORDER BY id", chunk
            ):
                copies[row["journal_id"]].append(_copy_from_row(row))
        return [_entry_from_row(row, copies[row["id"]]) for row in rows]

    @staticmethod
    def _where(query: JournalQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for name, op in (("since", ">="), ("until", "<=")):
            value = getattr(query, name)
            if value is not None:
                if not isinstance(value, datetime):
                    raise InvalidRecordError("expected a datetime", field=f"query.{name}")
                clauses.append(f"local_time {op} ?")
                params.append(local_time_key(value))
        _check_optional_int(query.amount, "query.amount", high=_MAX_AMOUNT)
        _check_optional_int(query.original_id, "query.original_id", high=2**63 - 1)
        for column in ("amount", "stan", "rrn", "original_id"):
            value = getattr(query, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        for column, values in (
            ("state", _enums(TxnState, query.states, "query.states")),
            ("kind", _enums(TxnKind, query.kinds, "query.kinds")),
        ):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(v.value for v in values)
        if query.unprinted_only:
            clauses.append(_UNPRINTED_SQL)
        if isinstance(query.limit, bool) or not isinstance(query.limit, int) or query.limit < 1:
            raise InvalidRecordError(f"{query.limit!r} is not a positive int", field="query.limit")
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params
