"""Store-and-forward on SQLite: reversals and advices wait here until the host takes them.

FIFO by insertion id (``AUTOINCREMENT`` ids only grow), delivered before new transactions.
Finished messages are marked ``done_at`` rather than deleted, so the record of what was sent
and when stays on the terminal for support. A queued request is stored as JSON without
secrets: track data and PIN blocks are refused outright, and the PAN, expiry and QR payment
code are sealed by the :class:`~terminal.store.vault.Vault`, never kept in clear.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from iso8583.acquirer.model import Original, Request, Totals, TxnKind
from terminal.core.journal import PendingMessage
from terminal.store.db import Database, now, time_from_text, time_to_text
from terminal.store.errors import (
    InvalidRecordError,
    RecordNotFoundError,
    SensitiveDataError,
    StoreError,
)
from terminal.store.retention import SAF_CLEAR_SQL
from terminal.store.vault import Vault, refuse_card_data

__all__ = [
    "RECORD_VERSION",
    "SqliteSafQueue",
    "check_record",
    "request_from_record",
    "request_to_record",
]

RECORD_VERSION: Final = 1
#: EMV tags that carry the PAN or track data (5A PAN, 57/9F6B track 2 equivalent, 56 track 1,
#: 9F1F/9F20 track discretionary data): never in a stored field 55.
FORBIDDEN_ICC_TAGS: Final = frozenset({"5A", "56", "57", "9F1F", "9F20", "9F6B"})
_RECORD_KEYS: Final = frozenset(
    {
        "version",
        "kind",
        "stan",
        "local_time",
        "terminal_id",
        "merchant_id",
        "amount",
        "currency",
        "pan_token",
        "expiry_token",
        "entry_mode",
        "icc",
        "batch",
        "original",
        "qr_token",
        "totals",
        "after_upload",
        "repeat",
        "merchant_name",
    }
)
_NOT_SCANNED: Final = frozenset({"merchant_id", "terminal_id", "icc"})


def _check_icc(icc: object, field: str = "request.icc") -> None:
    if not isinstance(icc, Mapping):
        raise InvalidRecordError("expected a mapping of hex tags to values", field=field)
    for tag, value in icc.items():
        where = f"{field}.{tag}"
        if not isinstance(tag, str):
            raise InvalidRecordError("tags must be hex text", field=where)
        if tag.upper() in FORBIDDEN_ICC_TAGS:
            raise SensitiveDataError("carries PAN or track data; leave it out", field=where)
        if isinstance(value, Mapping):
            _check_icc(value, where)
        elif not isinstance(value, str):
            raise InvalidRecordError("expected hex text or a template", field=where)


def _seal(vault: Vault | None, value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    if vault is None:
        raise StoreError(f"{field} must be sealed but no vault was given", field="request")
    return vault.seal(value)


def _open(vault: Vault | None, token: object, field: str) -> str | None:
    if token is None:
        return None
    if vault is None:
        raise StoreError(f"{field} is sealed but no vault was given", field="request")
    if not isinstance(token, str):
        raise InvalidRecordError("expected a vault token", field=f"request.{field}_token")
    return vault.open(token)


def request_to_record(req: Request, *, vault: Vault | None = None) -> dict[str, Any]:
    """JSON-able form of ``req`` for the queue; refuses track data and PIN blocks.

    The PAN, expiry and QR code are sealed with ``vault`` (required when any is present).
    """
    if not isinstance(req, Request):
        raise InvalidRecordError(f"expected a Request, got {type(req).__name__}")
    if req.track2:
        raise SensitiveDataError("track data is never stored; drop it", field="request.track2")
    if req.pin_block:
        raise SensitiveDataError("a PIN block is never stored; drop it", field="request.pin_block")
    original = req.original
    totals = req.totals
    record = {
        "version": RECORD_VERSION,
        "kind": TxnKind(req.kind).value,
        "stan": req.stan,
        "local_time": req.local_time.isoformat(),
        "terminal_id": req.terminal_id,
        "merchant_id": req.merchant_id,
        "amount": req.amount,
        "currency": req.currency,
        "pan_token": _seal(vault, req.pan, "pan"),
        "expiry_token": _seal(vault, req.expiry, "expiry"),
        "entry_mode": req.entry_mode,
        "icc": None if req.icc is None else dict(req.icc),
        "batch": req.batch,
        "original": None
        if original is None
        else {
            "kind": TxnKind(original.kind).value,
            "stan": original.stan,
            "local_time": original.local_time.isoformat(),
            "rrn": original.rrn,
            "auth_code": original.auth_code,
            "amount": original.amount,
            "batch": original.batch,
        },
        "qr_token": _seal(vault, req.qr, "qr"),
        "totals": None
        if totals is None
        else {
            "debit_count": totals.debit_count,
            "debit_amount": totals.debit_amount,
            "credit_count": totals.credit_count,
            "credit_amount": totals.credit_amount,
        },
        "after_upload": req.after_upload,
        "repeat": req.repeat,
        "merchant_name": req.merchant_name,
    }
    check_record(record)
    return record


def check_record(record: object) -> str:
    """Validate a queue record and return its JSON text: what the SAF table will hold."""
    if not isinstance(record, Mapping):
        raise InvalidRecordError("expected a mapping from request_to_record()", field="request")
    keys = set(record)
    if keys != _RECORD_KEYS:
        extra, missing = sorted(keys - _RECORD_KEYS), sorted(_RECORD_KEYS - keys)
        secret = {"pan", "expiry", "track2", "pin_block", "qr"} & set(extra)
        if secret:
            raise SensitiveDataError(
                f"holds {', '.join(sorted(secret))} in clear; use request_to_record()",
                field="request",
            )
        raise InvalidRecordError(
            f"unexpected keys {extra}, missing keys {missing}; use request_to_record()",
            field="request",
        )
    if record["version"] != RECORD_VERSION:
        raise InvalidRecordError(f"unsupported version {record['version']!r}", field="request")
    if record["icc"] is not None:
        _check_icc(record["icc"])
    refuse_card_data(dict(record), field="request", skip=_NOT_SCANNED)
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRecordError(f"not JSON-able ({exc})", field="request") from None


def request_from_record(record: Mapping[str, Any], *, vault: Vault | None = None) -> Request:
    """Rebuild the :class:`Request` a record was made from (secrets unsealed by ``vault``)."""
    check_record(record)
    try:
        original = record["original"]
        totals = record["totals"]
        return Request(
            kind=TxnKind(record["kind"]),
            stan=record["stan"],
            local_time=datetime.fromisoformat(record["local_time"]),
            terminal_id=record["terminal_id"],
            merchant_id=record["merchant_id"],
            amount=record["amount"],
            currency=record["currency"],
            pan=_open(vault, record["pan_token"], "pan"),
            expiry=_open(vault, record["expiry_token"], "expiry"),
            entry_mode=record["entry_mode"],
            icc=record["icc"],
            batch=record["batch"],
            original=None
            if original is None
            else Original(
                kind=TxnKind(original["kind"]),
                stan=original["stan"],
                local_time=datetime.fromisoformat(original["local_time"]),
                rrn=original["rrn"],
                auth_code=original["auth_code"],
                amount=original["amount"],
                batch=original["batch"],
            ),
            qr=_open(vault, record["qr_token"], "qr"),
            totals=None if totals is None else Totals(**totals),
            after_upload=record["after_upload"],
            repeat=record["repeat"],
            merchant_name=record["merchant_name"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidRecordError(f"damaged record ({type(exc).__name__}: {exc})") from None


class SqliteSafQueue:
    """SafQueue on the shared database; ``vault`` lets it take and give whole Requests."""

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

    def push(self, journal_id: int, request: dict[str, Any]) -> int:
        """Queue a record (see :func:`request_to_record`) behind every earlier one."""
        text = check_record(request)
        with self._db.write(f"queueing a message for journal entry {journal_id}") as conn:
            if conn.execute("SELECT 1 FROM journal WHERE id = ?", (journal_id,)).fetchone() is None:
                raise RecordNotFoundError(
                    f"journal entry {journal_id} not found", path=self._db.path
                )
            cursor = conn.execute(
                "INSERT INTO saf (journal_id, request, created_at) VALUES (?, ?, ?)",
                (journal_id, text, time_to_text(self._clock())),
            )
            return int(cursor.lastrowid or 0)

    def push_request(self, journal_id: int, request: Request) -> int:
        """Seal and queue a Request in one call."""
        return self.push(journal_id, request_to_record(request, vault=self._vault))

    def pending(self) -> list[PendingMessage]:
        """Undelivered messages, oldest first: the order they must reach the host."""
        with self._db.read("reading the SAF queue") as conn:
            rows = conn.execute(
                "SELECT id, journal_id, request, attempts, created_at FROM saf"
                " WHERE done_at IS NULL ORDER BY id"
            ).fetchall()
        return [
            PendingMessage(
                id=row[0],
                journal_id=row[1],
                request=json.loads(row[2]),
                attempts=row[3],
                created_at=time_from_text(row[4]) or datetime.min,
            )
            for row in rows
        ]

    def request(self, message: PendingMessage) -> Request:
        """The queued Request with its PAN unsealed, ready to be sent again."""
        return request_from_record(message.request, vault=self._vault)

    def count(self) -> int:
        with self._db.read("counting the SAF queue") as conn:
            return int(conn.execute("SELECT count(*) FROM saf WHERE done_at IS NULL").fetchone()[0])

    def attempt(self, message_id: int) -> None:
        """Count a send attempt before sending: a crash mid-send still shows it was tried."""
        self._mark(message_id, "attempts = attempts + 1, last_attempt_at = ?", "recording a try")

    def done(self, message_id: int) -> None:
        """The host acknowledged it: it leaves the queue (the row stays, marked done, without
        its sealed PAN, expiry or QR code: nothing will send it again)."""
        self._mark(message_id, f"done_at = ?, {SAF_CLEAR_SQL}", "marking delivered")

    def cancel(self, message_id: int, reason: str) -> None:
        """Take a message out of the queue without sending it (``note`` says why): a
        reversal of a request that never left the terminal."""
        refuse_card_data(reason, field="note", path=self._db.path)
        with self._db.write(f"SAF message {message_id}: cancelling") as conn:
            conn.execute(
                f"UPDATE saf SET note = ?, done_at = ?, {SAF_CLEAR_SQL}"
                " WHERE id = ? AND done_at IS NULL",
                (f"cancelled: {reason}", time_to_text(self._clock()), message_id),
            )

    def _mark(self, message_id: int, assignment: str, what: str) -> None:
        stamp = time_to_text(self._clock())
        with self._db.write(f"SAF message {message_id}: {what}") as conn:
            row = conn.execute("SELECT done_at FROM saf WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise RecordNotFoundError(f"SAF message {message_id} not found", path=self._db.path)
            if row[0] is not None:
                if assignment.startswith("done_at"):
                    return  # acknowledging twice is harmless
                raise InvalidRecordError(
                    f"SAF message {message_id} was already delivered", path=self._db.path
                )
            conn.execute(f"UPDATE saf SET {assignment} WHERE id = ?", (stamp, message_id))
