"""The host simulator's brain: one request message in, one answer (or silence) out.

No sockets here: :meth:`HostEngine.handle` takes the ISO 8583 message bytes of one frame and
returns the reply bytes, how long to hold them back and whether to drop the connection, so
every rule can be tested in-process and the TCP server stays a thin transport.

Checks run in this order (docs/host.md): format (30), MAC (A7 no keys, A0 bad MAC), batch
already settled (77), duplicate (94), then per kind: card validity (14, 43, 54, 05), PIN (55),
references to earlier transactions (25, 13, 61, 64), and finally the cents of the amount.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from iso8583.acquirer.codes import response_text
from iso8583.acquirer.model import Original, Request, Response, SessionKeys, Totals, TxnKind
from iso8583.acquirer.profiles import profile_for
from iso8583.acquirer.security import (
    TEST_TMK,
    WorkingKeys,
    issue_session_keys,
    mac_field_for,
    pack_with_mac,
    verify_message_mac,
)
from iso8583.errors import CryptoError, DecodeError, Iso8583Error
from iso8583.host.ledger import DEBIT_KINDS, Answer, Entry, Ledger, OrderState, QrOrder
from iso8583.host.rules import (
    CENTS_KINDS,
    CardData,
    Decision,
    Rules,
    Timing,
    amount_decision,
    card_data,
    card_decision,
    default_rules,
    override_decision,
    pin_required,
)
from iso8583.host.validate import check_request
from iso8583.keys import Key
from iso8583.masking import mask_pan, scrub_sensitive
from iso8583.message import Message
from iso8583.pin import decrypt_pin_block
from iso8583.spec import Spec

if TYPE_CHECKING:
    from iso8583.host.state import HostStateStore

__all__ = ["HandleResult", "HostEngine"]

_APPROVE = Decision("00")
#: Kinds whose card must show a PIN when its service code asks for one.
_PIN_KINDS = frozenset({TxnKind.SALE, TxnKind.PREAUTH, TxnKind.BALANCE})
#: Kinds that must come with a card (field 2, track 2 or chip data).
_CARD_KINDS = frozenset({TxnKind.SALE, TxnKind.PREAUTH, TxnKind.BALANCE})
_AMOUNT_KINDS = frozenset(
    {
        TxnKind.SALE,
        TxnKind.PREAUTH,
        TxnKind.REFUND,
        TxnKind.COMPLETION,
        TxnKind.QR_PAY,
        TxnKind.QR_ORDER,
    }
)
#: Processing codes (first two digits) of batch-upload records that count in the totals.
_UPLOAD_DEBIT = frozenset({"00", ""})
_UPLOAD_CREDIT = frozenset({"20"})
_REQUEST_ERRORS = (DecodeError, ValueError, TypeError, KeyError, IndexError)
#: Terminals whose working keys are kept; the least recently active one beyond signs on again.
DEFAULT_MAX_TERMINALS = 10_000


@dataclass(frozen=True, slots=True)
class HandleResult:
    """What to do with one request: send ``reply`` after ``delay`` s (None: stay silent)."""

    reply: bytes | None
    delay: float = 0.0
    close: bool = False  # drop the connection (after replies already queued)
    summary: str = ""  # one masked log line


@dataclass(slots=True)  # private and never changed after it is made: no frozen-init cost
class _Outcome:
    code: str
    timing: Timing = Timing.NOW
    auth_code: str = ""
    rrn: str = ""
    balance: int | None = None
    keys: SessionKeys | None = None


_Handler = Callable[[Request, Message, datetime, WorkingKeys | None], _Outcome]


def _naive(now: datetime) -> datetime:
    """Message times are local and naive; compare like with like."""
    return now.astimezone().replace(tzinfo=None) if now.tzinfo is not None else now


def _code_digest(code: str) -> str:
    """What the ledger keeps of a consumer payment code: enough to spot a reuse, no more."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def _matching(target: Entry | None, orig: Original) -> Entry | None:
    """The entry found by RRN, unless the original data (field 90/56/61) names another one."""
    if target is None:
        return None
    if orig.stan and orig.rrn and target.stan != orig.stan:
        return None
    if orig.batch and target.batch != orig.batch:
        return None
    return target


def _is_request_mti(mti: object) -> bool:
    """Even message function digit: request, advice, notification, instruction."""
    return isinstance(mti, str) and len(mti) == 4 and mti.isdigit() and int(mti[2]) % 2 == 0


class HostEngine:
    """Decides answers for one dialect; holds the per-terminal working keys and the ledger."""

    def __init__(
        self,
        spec: Spec,
        rules: Rules | None = None,
        *,
        tmk: Key = TEST_TMK,
        ledger: Ledger | None = None,
        max_terminals: int = DEFAULT_MAX_TERMINALS,
    ) -> None:
        self.spec = spec
        self.profile = profile_for(spec)
        self.rules = rules if rules is not None else default_rules()
        self.ledger = ledger if ledger is not None else Ledger()
        self._tmk = tmk
        # Per-terminal state is bounded: a flood of sign-ons with made-up TIDs cannot grow it.
        self.max_terminals = max_terminals
        self._keys: OrderedDict[str, WorkingKeys] = OrderedDict()
        self._key_changes: set[str] = set()
        self.store: HostStateStore | None = None
        self._card_memo: tuple[Request, CardData | None] | None = None
        self._handlers: dict[TxnKind, _Handler] = {
            TxnKind.SALE: self._authorise,
            TxnKind.PREAUTH: self._authorise,
            TxnKind.QR_PAY: self._authorise,
            TxnKind.BALANCE: self._authorise,
            TxnKind.REFUND: self._refund,
            TxnKind.VOID: self._void,
            TxnKind.COMPLETION: self._completion,
            TxnKind.REVERSAL: self._reversal,
            TxnKind.SETTLEMENT: self._settlement,
            TxnKind.BATCH_UPLOAD: self._upload,
            TxnKind.QR_ORDER: self._qr_order,
            TxnKind.QR_QUERY: self._qr_query,
            TxnKind.QR_SIMULATE: self._qr_simulate,
        }

    @property
    def tmk(self) -> Key:
        return self._tmk

    def has_keys(self, terminal_id: str) -> bool:
        return terminal_id in self._keys

    def keys_snapshot(self) -> dict[str, WorkingKeys]:
        return dict(self._keys)

    def working_keys(self, terminal_id: str) -> WorkingKeys | None:
        return self._keys.get(terminal_id)

    def take_key_changes(self) -> set[str]:
        """Terminal IDs whose keys changed since the last call (for the state store)."""
        changes, self._key_changes = self._key_changes, set()
        return changes

    def adopt(self, ledger: Ledger, keys: dict[str, WorkingKeys]) -> None:
        """Take over a ledger and keys read from a state store."""
        if not isinstance(ledger, Ledger) or not isinstance(keys, dict):
            raise TypeError("not a host state")
        self.ledger = ledger
        self._keys = OrderedDict(keys)
        while len(self._keys) > self.max_terminals:
            self._keys.popitem(last=False)

    restore = adopt

    def attach(self, store: HostStateStore) -> None:
        """Decide every request inside a transaction of ``store`` (shared between processes)."""
        with store.transaction(self):
            pass  # loads the stored state
        self.store = store

    def _set_keys(self, terminal_id: str, keys: WorkingKeys) -> None:
        self._keys[terminal_id] = keys
        self._keys.move_to_end(terminal_id)
        self._key_changes.add(terminal_id)
        while len(self._keys) > self.max_terminals:
            evicted, _ = self._keys.popitem(last=False)
            self._key_changes.add(evicted)  # and from the store: it signs on again

    def _keys_of(self, terminal_id: str) -> WorkingKeys | None:
        keys = self._keys.get(terminal_id)
        if keys is not None:
            self._keys.move_to_end(terminal_id)
        return keys

    # --- entry point ---------------------------------------------------------------------------
    def handle(
        self, payload: bytes, *, now: datetime | None = None, summarize: bool = True
    ) -> HandleResult:
        """Answer one unframed message; never raises (an internal fault closes the link).

        ``summarize=False`` skips building the log line of a decided message (``summary`` is
        then empty): the server passes it when its logger would drop the line anyway.
        """
        when = _naive(now if now is not None else datetime.now())
        try:
            store = self.store
            if store is None:
                return self._handle(bytes(payload), when, summarize)
            with store.transaction(self):
                return self._handle(bytes(payload), when, summarize)
        except Exception as exc:  # last line of defence: the host must keep serving
            reason = scrub_sensitive(f"{type(exc).__name__}: {exc}")
            return HandleResult(None, close=True, summary=f"internal error ({reason}) -> close")
        finally:
            self._card_memo = None  # card data lives no longer than its request

    def _card(self, req: Request) -> CardData | None:
        """``card_data(req)``, worked out once per request (card checks, ledger, log line)."""
        memo = self._card_memo
        if memo is not None and memo[0] is req:
            return memo[1]
        card = card_data(req)
        self._card_memo = (req, card)
        return card

    def _handle(self, payload: bytes, now: datetime, summarize: bool = True) -> HandleResult:
        try:
            msg = self.spec.codec.unpack(payload)
        except DecodeError as exc:
            return self._format_error(exc.partial, exc)
        try:
            req = self.profile.request_from_message(msg, now)
            check_request(msg, req.kind, self.profile)
        except _REQUEST_ERRORS as exc:
            return self._format_error(msg, exc)
        outcome, mac_key = self._decide(req, msg, now, payload)
        resp = Response(
            kind=req.kind,
            stan=req.stan,
            response_code=outcome.code,
            auth_code=outcome.auth_code,
            rrn=outcome.rrn,
            balance=outcome.balance,
            keys=outcome.keys,
            host_time=now,
        )
        out = self.profile.response_to_message(msg, resp)
        if mac_key is not None:
            reply = pack_with_mac(out, self.spec, mac_key)
        else:
            reply = self.spec.codec.pack(out)
        summary = self._summary(msg, req, out.mti, outcome) if summarize else ""
        if outcome.timing is Timing.SILENT:
            return HandleResult(None, summary=summary)
        delay = self.rules.late_delay if outcome.timing is Timing.LATE else 0.0
        return HandleResult(reply, delay=delay, summary=summary)

    def _format_error(self, partial: object, exc: Exception) -> HandleResult:
        """Answer 30 with whatever identifying fields could be read, or give up on the link."""
        reason = scrub_sensitive(str(exc))
        if not isinstance(partial, Message) or not _is_request_mti(partial.mti):
            return HandleResult(None, close=True, summary=f"undecodable ({reason}) -> close")
        resp = Response(kind=TxnKind.SALE, stan=str(partial.get(11, "")), response_code="30")
        bare = Message(partial.mti, {n: partial.fields[n] for n in (11, 41) if n in partial})
        for request in (partial, bare):
            try:
                out = self.profile.response_to_message(request, resp)
                reply = self.spec.codec.pack(out)
            except Iso8583Error:
                continue
            return HandleResult(
                reply, summary=f"{partial.mti} format error ({reason}) -> {out.mti} 30 FORMAT ERROR"
            )
        summary = f"{partial.mti} format error ({reason}) -> close"
        return HandleResult(None, close=True, summary=summary)

    # --- common checks -------------------------------------------------------------------------
    def _decide(
        self, req: Request, msg: Message, now: datetime, raw: bytes
    ) -> tuple[_Outcome, Key | None]:
        kind, tid = req.kind, req.terminal_id
        if kind is TxnKind.SIGNON:
            working, wire = issue_session_keys(self._tmk)
            self._set_keys(tid, working)
            return _Outcome("00", keys=wire), None
        if kind is TxnKind.ECHO:
            return _Outcome("00"), None
        keys = self._keys_of(tid)
        needs_mac = kind.financial or kind is TxnKind.REVERSAL
        has_mac = isinstance(msg.fields.get(mac_field_for(msg)), bytes)
        mac_key = keys.mac_key if keys is not None and (needs_mac or has_mac) else None
        if needs_mac and keys is None:
            return _Outcome("A7"), None
        if mac_key is not None:
            try:
                verify_message_mac(msg, self.spec, mac_key, raw=raw)
            except CryptoError:
                return _Outcome("A0"), mac_key
        if not kind.financial:
            return self._handlers[kind](req, msg, now, keys), mac_key
        if self.ledger.closed_totals(tid, req.batch) is not None:
            return _Outcome("77"), mac_key
        seen_key = (tid, req.batch, req.stan, kind)
        prior = self.ledger.seen(seen_key)
        if prior is not None:
            if req.repeat:
                return _Outcome(prior.code, auth_code=prior.auth_code, rrn=prior.rrn), mac_key
            return _Outcome("94"), mac_key
        outcome = self._amount_check(req) or self._handlers[kind](req, msg, now, keys)
        self.ledger.remember(seen_key, Answer(outcome.code, outcome.auth_code, outcome.rrn))
        return outcome, mac_key

    @staticmethod
    def _amount_check(req: Request) -> _Outcome | None:
        if req.kind not in _AMOUNT_KINDS:
            return None
        if req.amount is None:
            return _Outcome("30")
        if req.amount <= 0:
            return _Outcome("13")
        return None

    def _card_and_pin(self, req: Request, now: datetime, keys: WorkingKeys | None) -> str | None:
        """Card validity, then the PIN: a response code, or None when both pass."""
        card = self._card(req)
        if card is None:
            return "30" if req.kind in _CARD_KINDS else None
        code = card_decision(card, now, self.rules)
        if code is not None:
            return code
        if req.pin_block is not None:
            if keys is None:
                return "A7"
            if not card.pan:
                return "55"
            try:
                pin = decrypt_pin_block(req.pin_block, card.pan, keys.pin_key)
            except CryptoError:
                return "55"
            if not hmac.compare_digest(pin.encode(), self.rules.pin.encode()):
                return "55"
        elif req.kind in _PIN_KINDS and pin_required(card):
            return "55"
        return None

    def _issuer(self, req: Request, now: datetime, keys: WorkingKeys | None) -> Decision:
        """Override, approve-all, or card + PIN then the cents table."""
        override = override_decision(req.kind, self.rules)
        if override is not None:
            return override
        if self.rules.approve_all:
            return _APPROVE
        if req.kind is not TxnKind.QR_PAY:
            code = self._card_and_pin(req, now, keys)
            if code is not None:
                return Decision(code)
        if req.kind in CENTS_KINDS:
            return amount_decision(req.amount, self.rules)
        return _APPROVE

    def _record(self, req: Request, now: datetime) -> dict[str, Any]:
        """Ledger fields of an approval; the PAN goes in only to be masked."""
        card = self._card(req)
        return {
            "tid": req.terminal_id,
            "mid": req.merchant_id,
            "stan": req.stan,
            "batch": req.batch,
            "amount": req.amount or 0,
            "pan": card.pan if card is not None else None,
            "now": now,
        }

    @staticmethod
    def _approved(entry: Entry, timing: Timing) -> _Outcome:
        return _Outcome("00", timing, auth_code=entry.auth_code, rrn=entry.rrn)

    # --- kinds ---------------------------------------------------------------------------------
    def _authorise(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        if req.kind is TxnKind.QR_PAY and req.qr and self.ledger.code_used(_code_digest(req.qr)):
            return _Outcome("94")  # a consumer payment code pays once
        decision = self._issuer(req, now, keys)
        if decision.code != "00":
            return _Outcome(decision.code)
        if req.kind is TxnKind.BALANCE:
            return _Outcome("00", decision.timing, balance=self.rules.balance)
        entry = self.ledger.record(kind=req.kind, **self._record(req, now))
        if req.kind is TxnKind.QR_PAY and req.qr:
            self.ledger.use_code(_code_digest(req.qr), entry)
        return self._approved(entry, decision.timing)

    def _refund(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        orig = req.original
        amount = req.amount or 0
        target = None
        if orig is not None and orig.rrn:
            target = self.ledger.find_original(req.terminal_id, rrn=orig.rrn, kinds=DEBIT_KINDS)
            target = _matching(target, orig)
        if target is not None and not self.ledger.same_merchant(target, req.merchant_id):
            return _Outcome("03")
        decision = override_decision(req.kind, self.rules)
        if decision is None:
            code = None if self.rules.approve_all else self._card_and_pin(req, now, keys)
            if code is not None:
                return _Outcome(code)
            # No reference at all is a refund to the card, which acquirers take (cents rules);
            # a reference must match an original, and the refunds stay within it.
            if target is None and orig is not None:
                return _Outcome("25")
            if target is not None and amount > target.amount:
                return _Outcome("13")
            if target is not None and target.refunded + amount > target.amount:
                return _Outcome("61")
            decision = amount_decision(amount, self.rules)
        if decision.code != "00":
            return _Outcome(decision.code)
        record = self._record(req, now)
        if target is not None and target.refunded + amount <= target.amount:
            entry = self.ledger.refund(target, **record)
        else:
            entry = self.ledger.record(kind=TxnKind.REFUND, **record)
        return self._approved(entry, decision.timing)

    def _void(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        orig = req.original
        target = None
        if orig is not None:
            target = self.ledger.find_original(
                req.terminal_id, stan=orig.stan, rrn=orig.rrn, kinds=DEBIT_KINDS
            )
            target = _matching(target, orig)
            if (
                target is not None
                and self.ledger.closed_totals(target.tid, target.batch) is not None
            ):
                target = None  # settled: too late to void, refund it instead
        if target is not None and not self.ledger.same_merchant(target, req.merchant_id):
            return _Outcome("03")
        decision = override_decision(req.kind, self.rules)
        if decision is None:
            if target is None:
                return _Outcome("25")
            if req.amount is not None and req.amount != target.amount:
                return _Outcome("64")
            if target.refunded:
                return _Outcome("12")  # refunds were paid out: a void would credit twice
            decision = _APPROVE
        if decision.code != "00":
            return _Outcome(decision.code)
        record = self._record(req, now)
        if req.amount is None and target is not None:
            record["amount"] = target.amount
        if target is not None:
            entry = self.ledger.void(target, **record)
        else:
            entry = self.ledger.record(kind=TxnKind.VOID, **record)
        return self._approved(entry, decision.timing)

    def _completion(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        orig = req.original
        preauth = None
        if orig is not None:
            preauth = self.ledger.find_preauth(
                req.terminal_id, auth_code=orig.auth_code, stan=orig.stan
            )
        if preauth is not None and not self.ledger.same_merchant(preauth, req.merchant_id):
            return _Outcome("03")
        amount = req.amount or 0
        decision = override_decision(req.kind, self.rules)
        if decision is None:
            if preauth is None:
                return _Outcome("25")
            if amount > preauth.amount:
                return _Outcome("13")
            decision = _APPROVE
        if decision.code != "00":
            return _Outcome(decision.code)
        record = self._record(req, now)
        if preauth is not None and amount <= preauth.amount:
            entry = self.ledger.complete(preauth, **record)
        else:
            entry = self.ledger.record(kind=TxnKind.COMPLETION, **record)
        return self._approved(entry, decision.timing)

    def _reversal(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        """Idempotent: 00 whether or not the original was found (or already reversed).

        Refused, with nothing reversed, when the original belongs to another merchant (03)
        or field 4 is not the original's amount (64): a reversal undoes the whole original;
        and when a refund or completion already stands on the original (12).
        """
        tid = req.terminal_id
        stans = [s for s in ((req.original.stan if req.original else ""), req.stan) if s]
        for stan in dict.fromkeys(stans):
            entry = next((e for e in self.ledger.by_stan(tid, stan) if e.live), None)
            if entry is not None:
                if not self.ledger.same_merchant(entry, req.merchant_id):
                    return _Outcome("03")
                if req.amount is not None and req.amount != entry.amount:
                    return _Outcome("64")
                if entry.refunded or entry.completed:
                    return _Outcome("12")  # a refund or completion already relies on it
                self.ledger.reverse(entry)
                break
            order = self.ledger.order_by_stan(tid, stan)
            if order is not None and order.state is OrderState.PENDING:
                if order.mid and order.mid != req.merchant_id:
                    return _Outcome("03")
                if req.amount is not None and req.amount != order.amount:
                    return _Outcome("64")
                self.ledger.set_order(order.ref, state=OrderState.CANCELLED)
                break
        return _Outcome("00")

    def _settlement(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        tid, batch = req.terminal_id, req.batch
        totals = req.totals or Totals()
        closed = self.ledger.closed_totals(tid, batch)
        if closed is not None:  # a repeated settlement whose answer the terminal missed
            return _Outcome("00" if closed == totals or req.after_upload else "95")
        if req.after_upload:
            self.ledger.close_batch(tid, batch, self.ledger.upload_totals(tid, batch))
            return _Outcome("00")
        if self.ledger.totals(tid, batch) != totals:
            return _Outcome("95")
        self.ledger.close_batch(tid, batch, totals)
        return _Outcome("00")

    def _upload(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        """One transaction of the terminal's batch; sales count as debits, refunds as credits."""
        pc = str(msg.get(3, ""))[:2]
        if pc in _UPLOAD_DEBIT or pc in _UPLOAD_CREDIT:
            key = req.original.stan if req.original is not None and req.original.stan else req.stan
            self.ledger.add_upload(
                req.terminal_id,
                req.batch,
                key,
                credit=pc in _UPLOAD_CREDIT,
                amount=req.amount or 0,
            )
        return _Outcome("00")

    def _qr_order(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        if not req.qr:
            return _Outcome("30")
        decision = self._issuer(req, now, keys)
        if decision.code != "00":
            return _Outcome(decision.code)
        if self.ledger.order(req.qr) is not None:
            return _Outcome("94")
        self.ledger.add_order(
            QrOrder(
                ref=req.qr,
                tid=req.terminal_id,
                stan=req.stan,
                batch=req.batch,
                amount=req.amount or 0,
                created=now,
                mid=req.merchant_id,
            )
        )
        return _Outcome("09", decision.timing)

    def _qr_query(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        order = self.ledger.order(req.qr or "")
        if order is None or order.tid != req.terminal_id:
            return _Outcome("25")
        waited = (now - order.created).total_seconds()
        if order.state is OrderState.PENDING and waited >= self.rules.mpm_pay_delay:
            order = self.ledger.pay_order(order.ref, now)
        if order.state is OrderState.PAID and order.entry_id is not None:
            entry = self.ledger.get(order.entry_id)
            return _Outcome("00", auth_code=entry.auth_code, rrn=entry.rrn)
        if order.state is OrderState.DECLINED:
            return _Outcome(order.code)
        if order.state is OrderState.CANCELLED:
            return _Outcome("25")
        return _Outcome("09")

    def _qr_simulate(
        self, req: Request, msg: Message, now: datetime, keys: WorkingKeys | None
    ) -> _Outcome:
        """Test hook: ``PAY:<ref>`` or ``DECLINE:<ref>:<code>`` for a pending MPM order."""
        text = req.qr or ""
        code = ""
        if text.startswith("PAY:"):
            ref = text[4:]
        elif text.startswith("DECLINE:") and text.count(":") >= 2:
            ref, code = text[8:].rsplit(":", 1)
            if not (len(code) == 2 and code.isascii() and code.isalnum()) or code == "00":
                return _Outcome("30")
        else:
            return _Outcome("30")
        order = self.ledger.order(ref)
        if order is None:
            return _Outcome("25")
        if order.state is not OrderState.PENDING:
            return _Outcome("12")
        if code:
            self.ledger.set_order(ref, state=OrderState.DECLINED, code=code.upper())
        else:
            self.ledger.pay_order(ref, now)
        return _Outcome("00")

    # --- logging -------------------------------------------------------------------------------
    def _summary(self, msg: Message, req: Request, reply_mti: str, outcome: _Outcome) -> str:
        parts = [msg.mti, req.kind.value, f"tid={req.terminal_id}", f"stan={req.stan}"]
        if req.amount is not None:
            parts.append(f"amount={req.amount}")
        card = self._card(req)
        if card is not None and card.pan:
            parts.append(f"pan={mask_pan(card.pan)}")
        if req.pin_block is not None:
            parts.append("pin=yes")
        if req.qr and req.kind in (TxnKind.QR_ORDER, TxnKind.QR_QUERY, TxnKind.QR_SIMULATE):
            parts.append(f"qr={scrub_sensitive(req.qr)}")  # order references; CPM codes stay out
        parts += ["->", reply_mti, outcome.code, response_text(outcome.code)]
        if outcome.auth_code:
            parts.append(f"auth={outcome.auth_code}")
        if outcome.rrn:
            parts.append(f"rrn={outcome.rrn}")
        if outcome.timing is Timing.LATE:
            parts.append(f"(late: after {self.rules.late_delay:g}s)")
        elif outcome.timing is Timing.SILENT:
            parts.append("(silent: no reply)")
        return " ".join(parts)
