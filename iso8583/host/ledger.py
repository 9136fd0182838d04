"""The host's authorisation ledger, in memory: what it approved, and what became of it.

Voids, refunds, completions, reversals and settlement are only as realistic as the host's
memory of earlier answers, so every approved authorisation is an :class:`Entry` here (RRN,
auth code, batch, amount, status) with the links a void or refund makes to its original.
PCI DSS: entries keep the masked PAN only; full PAN, track data and PIN blocks never reach
the ledger.

The engine mutates the ledger from the server's event loop while tests read it from their
own thread, so every method takes one lock and hands out frozen snapshots;
:class:`LedgerView` is the read-only face given to embedders.
"""

from __future__ import annotations

import os
import secrets
import string
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from iso8583.acquirer.model import Totals, TxnKind
from iso8583.masking import mask_pan

__all__ = [
    "DEBIT_KINDS",
    "Answer",
    "Entry",
    "Ledger",
    "LedgerView",
    "OrderState",
    "QrOrder",
    "Status",
]

#: Approved kinds that move money to the merchant (a paid MPM order is a QR_ORDER entry).
DEBIT_KINDS = frozenset({TxnKind.SALE, TxnKind.COMPLETION, TxnKind.QR_PAY, TxnKind.QR_ORDER})

_AUTH_ALPHABET = string.ascii_uppercase + string.digits
_ENTROPY_CHUNK = 4096  # bytes of os.urandom drawn at once for auth codes


class _Entropy(threading.local):
    """Per-thread buffer of ``os.urandom`` bytes: one system call per 1024 auth codes."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.buf = b""
        self.pos = 0

    def randbits31(self) -> int:
        """``secrets.randbits(31)``: the top 31 bits of 4 random bytes, big-endian."""
        pos = self.pos
        if pos + 4 > len(self.buf):
            self.buf = os.urandom(_ENTROPY_CHUNK)
            pos = 0
        self.pos = pos + 4
        return int.from_bytes(self.buf[pos : pos + 4], "big") >> 1


_ENTROPY = _Entropy()
if hasattr(os, "register_at_fork"):  # a forked child must not repeat the parent's codes
    os.register_at_fork(after_in_child=_ENTROPY.reset)

# RRN prefix of the current hour: (year, month, day, hour) -> year digit, day of year, hour.
_rrn_prefix: tuple[tuple[int, int, int, int], str] = ((0, 0, 0, 0), "")
_RRN_SEQ_SPACE = 1_000_000  # the 6-digit sequence after the hour prefix


class Status(StrEnum):
    APPROVED = "approved"
    VOIDED = "voided"
    REVERSED = "reversed"


@dataclass(frozen=True, slots=True)
class Entry:
    """One approved authorisation. ``ref_id`` links a void/refund/completion to its original."""

    id: int
    tid: str
    stan: str
    batch: str
    kind: TxnKind
    amount: int
    rrn: str
    auth_code: str
    masked_pan: str
    time: datetime
    status: Status = Status.APPROVED
    refunded: int = 0  # sales: amount refunded so far
    completed: bool = False  # preauths: a completion used it
    ref_id: int | None = None
    mid: str = ""  # merchant ID (field 42); "" for entries stored before it was kept

    @property
    def live(self) -> bool:
        return self.status is Status.APPROVED


@dataclass(frozen=True, slots=True)
class Answer:
    """What the host answered to one request, replayed for repeats (0221) of it."""

    code: str
    auth_code: str = ""
    rrn: str = ""


class OrderState(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # reversed by the terminal


@dataclass(frozen=True, slots=True)
class QrOrder:
    """A merchant-presented QR order waiting for the customer's wallet."""

    ref: str
    tid: str
    stan: str
    batch: str
    amount: int
    created: datetime
    state: OrderState = OrderState.PENDING
    code: str = "09"
    entry_id: int | None = None
    mid: str = ""  # merchant ID of the order; the paid entry carries it


SeenKey = tuple[str, str, str, TxnKind]  # TID, batch, STAN, kind


#: What changed since the last :meth:`Ledger.take_changes`: ("entry", id), ("seen", key),
#: ("closed", (tid, batch)), ("upload", (tid, batch)), ("order", ref), ("code", digest).
Change = tuple[str, Any]


class Ledger:
    """In-memory ledger of one host; thread-safe, snapshots out.

    Every mutation is noted in a change set so that a store (``iso8583.host.state``) can write
    just what one request changed, inside the transaction that decided it.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: list[Entry] = []
        self._by_rrn: dict[str, int] = {}
        self._by_stan: dict[tuple[str, str], list[int]] = {}
        self._seen: dict[SeenKey, Answer] = {}
        self._closed: dict[tuple[str, str], Totals] = {}
        self._uploads: dict[tuple[str, str], dict[str, tuple[bool, int]]] = {}
        self._orders: dict[str, QrOrder] = {}
        self._codes: dict[str, int] = {}  # digest of a consumer payment code -> its entry id
        # A host without a state file remembers nothing of its previous runs, so each run starts
        # its sequence at a random point of the 6-digit space: two runs of n and m RRNs in the
        # same hour collide with probability about (n + m) / 1,000,000 (docs/host.md). A state
        # file replaces this start with the stored sequence, which never repeats.
        self._rrn_seq = secrets.randbelow(_RRN_SEQ_SPACE)
        self._changes: set[Change] = set()

    def take_changes(self) -> set[Change]:
        """The changes since the last call (and forget them)."""
        with self._lock:
            changes, self._changes = self._changes, set()
            return changes

    @property
    def rrn_seq(self) -> int:
        return self._rrn_seq

    def start_rrn_sequence_at(self, seq: int) -> None:
        """Never hand out a sequence number at or below ``seq`` again (restart safety)."""
        with self._lock:
            self._rrn_seq = max(self._rrn_seq, seq % _RRN_SEQ_SPACE)

    @classmethod
    def from_rows(
        cls,
        *,
        entries: list[Entry],
        seen: dict[SeenKey, Answer],
        closed: dict[tuple[str, str], Totals],
        uploads: dict[tuple[str, str], dict[str, tuple[bool, int]]],
        orders: list[QrOrder],
        codes: dict[str, int],
        rrn_seq: int,
    ) -> Ledger:
        """A ledger rebuilt from stored rows (entries must be numbered 0..n-1)."""
        ledger = cls()
        for i, entry in enumerate(sorted(entries, key=lambda e: e.id)):
            if entry.id != i:
                raise ValueError(f"ledger entry {i} is missing")
            ledger._entries.append(entry)
            ledger._by_rrn[entry.rrn] = entry.id
            ledger._by_stan.setdefault((entry.tid, entry.stan), []).append(entry.id)
        ledger._seen = dict(seen)
        ledger._closed = dict(closed)
        ledger._uploads = {k: dict(v) for k, v in uploads.items()}
        ledger._orders = {o.ref: o for o in orders}
        ledger._codes = dict(codes)
        ledger._rrn_seq = rrn_seq
        return ledger

    # --- identifiers ---------------------------------------------------------------------------
    def _new_rrn(self, now: datetime) -> str:
        """12 digits: year digit, day of year, hour, then a sequence; unique per host."""
        self._changes.add(("rrn", None))
        global _rrn_prefix
        hour = (now.year, now.month, now.day, now.hour)
        cached_hour, prefix = _rrn_prefix
        if hour != cached_hour:
            prefix = f"{now.year % 10}{now.timetuple().tm_yday:03d}{now.hour:02d}"
            _rrn_prefix = (hour, prefix)
        while True:
            self._rrn_seq = (self._rrn_seq + 1) % _RRN_SEQ_SPACE
            rrn = f"{prefix}{self._rrn_seq:06d}"
            if rrn not in self._by_rrn:
                return rrn

    @staticmethod
    def _new_auth_code() -> str:
        n = _ENTROPY.randbits31()  # one draw for six characters of a 36-letter alphabet
        alphabet = _AUTH_ALPHABET
        out = []
        for _ in range(6):
            n, i = divmod(n, 36)
            out.append(alphabet[i])
        return "".join(out)

    # --- entries -------------------------------------------------------------------------------
    def record(
        self,
        *,
        tid: str,
        stan: str,
        batch: str,
        kind: TxnKind,
        amount: int,
        pan: str | None,
        now: datetime,
        ref_id: int | None = None,
        mid: str = "",
        auth_code: str | None = None,
    ) -> Entry:
        """Record an approval with a fresh RRN and (unless given) auth code; only the masked
        PAN is kept."""
        with self._lock:
            entry = Entry(
                id=len(self._entries),
                tid=tid,
                stan=stan,
                batch=batch,
                kind=kind,
                amount=amount,
                rrn=self._new_rrn(now),
                auth_code=auth_code or self._new_auth_code(),
                masked_pan=mask_pan(pan) if pan else "",
                time=now,
                ref_id=ref_id,
                mid=mid,
            )
            self._entries.append(entry)
            self._changes.add(("entry", entry.id))
            self._by_rrn[entry.rrn] = entry.id
            self._by_stan.setdefault((tid, stan), []).append(entry.id)
            return entry

    @staticmethod
    def same_merchant(entry: Entry, mid: str) -> bool:
        """Field 42 of a follow-up matches the original's (unknown for pre-format-3 rows)."""
        return not entry.mid or entry.mid == mid

    def get(self, entry_id: int) -> Entry:
        with self._lock:
            return self._entries[entry_id]

    def _update(self, entry_id: int, **changes: Any) -> Entry:
        entry = replace(self._entries[entry_id], **changes)
        self._entries[entry_id] = entry
        self._changes.add(("entry", entry_id))
        return entry

    def by_rrn(self, rrn: str) -> Entry | None:
        with self._lock:
            i = self._by_rrn.get(rrn)
            return self._entries[i] if i is not None else None

    def by_stan(self, tid: str, stan: str) -> list[Entry]:
        """Entries of ``tid`` with ``stan`` in batches not yet settled, most recent first."""
        with self._lock:
            ids = self._by_stan.get((tid, stan), [])
            found = [self._entries[i] for i in reversed(ids)]
            return [e for e in found if (e.tid, e.batch) not in self._closed]

    def find_original(
        self, tid: str, *, stan: str = "", rrn: str = "", kinds: frozenset[TxnKind]
    ) -> Entry | None:
        """A live entry of ``kinds`` by RRN (any batch) or else by STAN (open batches)."""
        with self._lock:
            if rrn:
                entry = self.by_rrn(rrn)
                if entry is not None and entry.tid == tid and entry.kind in kinds and entry.live:
                    return entry
                return None
            if stan:
                for entry in self.by_stan(tid, stan):
                    if entry.kind in kinds and entry.live:
                        return entry
            return None

    def find_preauth(self, tid: str, *, auth_code: str = "", stan: str = "") -> Entry | None:
        """An open (live, not completed) preauth of ``tid`` by auth code, else by STAN."""
        with self._lock:
            for entry in reversed(self._entries):
                if entry.tid != tid or entry.kind is not TxnKind.PREAUTH:
                    continue
                if not entry.live or entry.completed:
                    continue
                if (auth_code and entry.auth_code == auth_code) or (
                    not auth_code and stan and entry.stan == stan
                ):
                    return entry
            return None

    def void(self, target: Entry, **record: Any) -> Entry:
        """Record a void of ``target`` and mark the target voided."""
        with self._lock:
            self._update(target.id, status=Status.VOIDED)
            return self.record(kind=TxnKind.VOID, ref_id=target.id, **record)

    def refund(self, target: Entry, **record: Any) -> Entry:
        with self._lock:
            current = self._entries[target.id]
            self._update(target.id, refunded=current.refunded + record["amount"])
            return self.record(kind=TxnKind.REFUND, ref_id=target.id, **record)

    def complete(self, preauth: Entry, **record: Any) -> Entry:
        with self._lock:
            self._update(preauth.id, completed=True)
            # A completion settles the pre-authorisation: it carries that approval code.
            return self.record(
                kind=TxnKind.COMPLETION, ref_id=preauth.id, auth_code=preauth.auth_code, **record
            )

    def reverse(self, entry: Entry) -> Entry:
        """Mark ``entry`` reversed and undo what it did to the entry it referred to."""
        with self._lock:
            entry = self._entries[entry.id]
            if not entry.live:
                return entry
            if entry.ref_id is not None:
                target = self._entries[entry.ref_id]
                if entry.kind is TxnKind.VOID and target.status is Status.VOIDED:
                    self._update(target.id, status=Status.APPROVED)
                elif entry.kind is TxnKind.REFUND:
                    self._update(target.id, refunded=max(0, target.refunded - entry.amount))
                elif entry.kind is TxnKind.COMPLETION:
                    self._update(target.id, completed=False)
            for order in self._orders.values():
                if order.entry_id == entry.id:
                    self._orders[order.ref] = replace(order, state=OrderState.CANCELLED)
                    self._changes.add(("order", order.ref))
            return self._update(entry.id, status=Status.REVERSED)

    # --- duplicates ----------------------------------------------------------------------------
    def seen(self, key: SeenKey) -> Answer | None:
        with self._lock:
            return self._seen.get(key)

    def remember(self, key: SeenKey, answer: Answer) -> None:
        with self._lock:
            self._seen[key] = answer
            self._changes.add(("seen", key))

    # --- consumer payment codes ----------------------------------------------------------------
    def code_used(self, digest: str) -> Entry | None:
        """The payment that used this payment code (by digest), unless it was reversed."""
        with self._lock:
            i = self._codes.get(digest)
            if i is None:
                return None
            entry = self._entries[i]
            return entry if entry.status is not Status.REVERSED else None

    def code_entry(self, digest: str) -> int:
        with self._lock:
            return self._codes[digest]

    def use_code(self, digest: str, entry: Entry) -> None:
        with self._lock:
            self._codes[digest] = entry.id
            self._changes.add(("code", digest))

    # --- batches -------------------------------------------------------------------------------
    def totals(self, tid: str, batch: str) -> Totals:
        """Host totals of an open or closed batch: live debits, credits not reversed."""
        with self._lock:
            dc = da = cc = ca = 0
            for e in self._entries:
                if e.tid != tid or e.batch != batch or not e.live:
                    continue
                if e.kind in DEBIT_KINDS:
                    dc, da = dc + 1, da + e.amount
                elif e.kind is TxnKind.REFUND:
                    cc, ca = cc + 1, ca + e.amount
            return Totals(dc, da, cc, ca)

    def closed_totals(self, tid: str, batch: str) -> Totals | None:
        with self._lock:
            return self._closed.get((tid, batch))

    def close_batch(self, tid: str, batch: str, totals: Totals) -> None:
        with self._lock:
            self._closed[(tid, batch)] = totals
            self._changes.add(("closed", (tid, batch)))

    def closed_batches(self) -> dict[tuple[str, str], Totals]:
        with self._lock:
            return dict(self._closed)

    def add_upload(self, tid: str, batch: str, key: str, *, credit: bool, amount: int) -> None:
        """One batch-upload record; a repeated upload of the same transaction replaces it."""
        with self._lock:
            self._uploads.setdefault((tid, batch), {})[key] = (credit, amount)
            self._changes.add(("upload", (tid, batch)))

    def upload_records(self, tid: str, batch: str) -> dict[str, tuple[bool, int]]:
        with self._lock:
            return dict(self._uploads.get((tid, batch), {}))

    def upload_totals(self, tid: str, batch: str) -> Totals:
        with self._lock:
            dc = da = cc = ca = 0
            for credit, amount in self._uploads.get((tid, batch), {}).values():
                if credit:
                    cc, ca = cc + 1, ca + amount
                else:
                    dc, da = dc + 1, da + amount
            return Totals(dc, da, cc, ca)

    # --- QR orders -----------------------------------------------------------------------------
    def add_order(self, order: QrOrder) -> None:
        with self._lock:
            self._orders[order.ref] = order
            self._changes.add(("order", order.ref))

    def order(self, ref: str) -> QrOrder | None:
        with self._lock:
            return self._orders.get(ref)

    def order_by_stan(self, tid: str, stan: str) -> QrOrder | None:
        with self._lock:
            for order in self._orders.values():
                if order.tid == tid and order.stan == stan:
                    return order
            return None

    def pay_order(self, ref: str, now: datetime) -> QrOrder:
        """The customer paid: the order becomes an approved QR_ORDER debit."""
        with self._lock:
            order = self._orders[ref]
            entry = self.record(
                tid=order.tid,
                stan=order.stan,
                batch=order.batch,
                kind=TxnKind.QR_ORDER,
                amount=order.amount,
                pan=None,
                now=now,
                mid=order.mid,
            )
            paid = replace(order, state=OrderState.PAID, code="00", entry_id=entry.id)
            self._orders[ref] = paid
            self._changes.add(("order", ref))
            return paid

    def set_order(self, ref: str, **changes: Any) -> QrOrder:
        with self._lock:
            order = replace(self._orders[ref], **changes)
            self._orders[ref] = order
            self._changes.add(("order", ref))
            return order

    # --- views ---------------------------------------------------------------------------------
    def entries(self, tid: str | None = None) -> list[Entry]:
        with self._lock:
            return [e for e in self._entries if tid is None or e.tid == tid]

    def orders(self) -> list[QrOrder]:
        with self._lock:
            return list(self._orders.values())


class LedgerView:
    """Read-only access to a running host's ledger (for tests and tools)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def entries(self, tid: str | None = None) -> list[Entry]:
        return self._ledger.entries(tid)

    def by_rrn(self, rrn: str) -> Entry | None:
        return self._ledger.by_rrn(rrn)

    def totals(self, tid: str, batch: str) -> Totals:
        return self._ledger.totals(tid, batch)

    def closed_batches(self) -> dict[tuple[str, str], Totals]:
        return self._ledger.closed_batches()

    def upload_records(self, tid: str, batch: str) -> dict[str, tuple[bool, int]]:
        with self._lock:
            return dict(self._uploads.get((tid, batch), {}))

    def upload_totals(self, tid: str, batch: str) -> Totals:
        return self._ledger.upload_totals(tid, batch)

    def orders(self) -> list[QrOrder]:
        return self._ledger.orders()
