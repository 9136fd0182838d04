"""HostEngine without sockets: message bytes in, reply bytes out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iso8583 import Message, get_spec, spec_names
from iso8583.acquirer import (
    Request,
    TxnKind,
    apply_mac,
    open_session_keys,
    profile_for,
    verify_message_mac,
)
from iso8583.host import HostEngine, Ledger, Status, rules_from_mapping
from iso8583.pin import encrypt_pin_block
from terminal.core.testcards import CATALOGUE, get_card

NOW = datetime(2025, 6, 15, 12, 0, 0)
TID = "TERM0001"
MID = "MERCHANT0000001"


class Terminal:
    """Drives an engine directly with packed messages."""

    def __init__(self, engine: HostEngine, tid: str = TID) -> None:
        self.engine = engine
        self.spec = engine.spec
        self.profile = profile_for(engine.spec)
        self.tid = tid
        self.keys = None
        self.stan = 0

    def req(self, kind: TxnKind, **kw) -> Request:
        self.stan += 1
        kw.setdefault("stan", f"{self.stan:06d}")
        return Request(kind, local_time=NOW, terminal_id=self.tid, merchant_id=MID, **kw)

    def send(self, req: Request, *, mac: bool = True):
        msg = self.profile.request_to_message(req)
        if mac and self.keys is not None and (req.kind.financial or req.kind is TxnKind.REVERSAL):
            msg = apply_mac(msg, self.spec, self.keys.mac_key)
        result = self.engine.handle(self.spec.codec.pack(msg), now=NOW)
        if result.reply is None:
            return result, None, None
        reply = self.spec.codec.unpack(result.reply)
        return result, reply, self.profile.response_from_message(reply, req.kind)

    def signon(self) -> None:
        _, _, resp = self.send(self.req(TxnKind.SIGNON))
        self.keys = open_session_keys(resp.keys)


@pytest.fixture
def term() -> Terminal:
    t = Terminal(HostEngine(get_spec("iso87ascii"), rules_from_mapping({"late_delay": 7})))
    t.signon()
    return t


def test_sale_is_approved_mac_verified_and_recorded(term: Terminal):
    card = get_card("visa-approve")
    result, reply, resp = term.send(
        term.req(TxnKind.SALE, amount=1000, track2=card.track2_data().for_iso8583(), batch="000001")
    )
    assert result.delay == 0
    assert not result.close
    assert reply.mti == "0210"
    assert resp.response_code == "00"
    verify_message_mac(reply, term.spec, term.keys.mac_key)
    assert len(resp.rrn) == 12
    assert resp.rrn.isdigit()
    assert len(resp.auth_code) == 6
    assert resp.auth_code.isalnum()
    [entry] = term.engine.ledger.entries()
    assert entry.status is Status.APPROVED
    assert entry.amount == 1000
    assert entry.masked_pan == "476173******0010"
    assert card.pan not in repr(entry)
    assert card.pan not in result.summary
    assert "476173******0010" in result.summary


def test_late_and_silent_results(term: Terminal):
    result, _, resp = term.send(term.req(TxnKind.SALE, amount=1068, pan="4761739001010010"))
    assert result.delay == 7
    assert resp.response_code == "00"
    result, reply, _ = term.send(term.req(TxnKind.SALE, amount=1099, pan="4761739001010010"))
    assert result.reply is None
    assert reply is None
    assert not result.close
    assert "silent" in result.summary


def test_missing_keys_and_bad_mac(term: Terminal):
    other = Terminal(term.engine, tid="TERM0002")
    _, _, resp = other.send(other.req(TxnKind.SALE, amount=1000, pan="4761739001010010"))
    assert resp.response_code == "A7"
    _, _, resp = term.send(term.req(TxnKind.SALE, amount=1000, pan="4761739001010010"), mac=False)
    assert resp.response_code == "A0"


def test_pin_block_checked_with_the_pin_key(term: Terminal):
    card = get_card("debit-pin")
    track2 = card.track2_data().for_iso8583()
    good = encrypt_pin_block("1234", card.pan, term.keys.pin_key)
    bad = encrypt_pin_block("4321", card.pan, term.keys.pin_key)
    for block, code in ((good, "00"), (bad, "55"), (None, "55"), (b"\x00" * 8, "55")):
        _, _, resp = term.send(term.req(TxnKind.SALE, amount=1000, track2=track2, pin_block=block))
        assert resp.response_code == code


def test_format_error_echoes_stan_and_tid(term: Terminal):
    msg = term.profile.request_to_message(term.req(TxnKind.SALE, amount=1000, stan="123456"))
    raw = term.spec.codec.pack(msg)
    result = term.engine.handle(raw[:-3], now=NOW)  # truncated in the last field
    reply = term.spec.codec.unpack(result.reply)
    assert reply.mti == "0210"
    assert reply.fields[39] == "30"
    assert reply.fields[11] == "123456"
    assert reply.fields[41] == TID


def test_unknown_request_mti_gets_a_format_error_and_responses_close(term: Terminal):
    raw = term.spec.codec.pack(Message("0900", {11: "000001", 41: TID}))
    reply = term.spec.codec.unpack(term.engine.handle(raw, now=NOW).reply)
    assert (reply.mti, reply.fields[39]) == ("0910", "30")
    raw = term.spec.codec.pack(Message("0210", {11: "000001", 39: "00"}))
    result = term.engine.handle(raw, now=NOW)
    assert result.reply is None
    assert result.close


def test_not_iso_at_all_closes(term: Terminal):
    result = term.engine.handle(b"GET / HTTP/1.1\r\n\r\n", now=NOW)
    assert result.reply is None
    assert result.close


def test_aware_clock_is_accepted(term: Terminal):

    req = term.req(TxnKind.SALE, amount=1000, pan="4761739001010010")
    msg = apply_mac(term.profile.request_to_message(req), term.spec, term.keys.mac_key)
    result = term.engine.handle(term.spec.codec.pack(msg), now=datetime.now(UTC))
    assert result.reply is not None


def test_ledger_never_holds_full_pan_track_or_pin(term: Terminal):
    card = get_card("debit-pin")
    block = encrypt_pin_block("1234", card.pan, term.keys.pin_key)
    term.send(
        term.req(
            TxnKind.SALE, amount=1000, track2=card.track2_data().for_iso8583(), pin_block=block
        )
    )
    ledger: Ledger = term.engine.ledger
    dump = repr(ledger.entries()) + repr(ledger.orders())
    assert card.pan not in dump
    assert "=3012" not in dump
    assert block.hex() not in dump.lower()


# --- property tests ----------------------------------------------------------------------------

_cards = st.sampled_from(sorted(CATALOGUE))
_amounts = st.integers(min_value=1, max_value=10**12 - 1)
_stans = st.integers(min_value=0, max_value=999_999).map(lambda n: f"{n:06d}")


@pytest.mark.parametrize("spec_name", spec_names())
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(card=_cards, amount=_amounts, stan=_stans, manual=st.booleans(), pin=st.booleans())
def test_random_valid_sales_always_get_a_reply(spec_name, card, amount, stan, manual, pin):
    engine = HostEngine(get_spec(spec_name))
    t = Terminal(engine)
    t.signon()
    c = get_card(card)
    fields = (
        {"pan": c.pan, "expiry": c.expiry.yymm}
        if manual
        else {"track2": c.track2_data().for_iso8583()}
    )
    if pin:
        fields["pin_block"] = encrypt_pin_block("1234", c.pan, t.keys.pin_key)
    result, reply, resp = t.send(t.req(TxnKind.SALE, amount=amount, stan=stan, **fields))
    assert not result.close
    if result.reply is None:  # only the x.99 rule keeps quiet
        assert amount % 100 == 99
        assert "silent" in result.summary
        return
    assert reply is not None
    assert len(resp.response_code) == 2
    if resp.response_code != "30":
        verify_message_mac(reply, t.spec, t.keys.mac_key)


@pytest.mark.parametrize("spec_name", spec_names())
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300))
def test_garbage_never_raises(spec_name, data):
    engine = HostEngine(get_spec(spec_name))
    result = engine.handle(data, now=NOW)
    assert result.reply is None or isinstance(result.reply, bytes)
    if result.reply is not None:
        assert engine.spec.codec.unpack(result.reply).mti[2] in "13579"


@pytest.mark.parametrize("spec_name", spec_names())
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mutated_sales_never_raise(spec_name, data):
    """Valid messages with random bytes flipped: nearer misses than pure garbage."""
    engine = HostEngine(get_spec(spec_name))
    t = Terminal(engine)
    msg = t.profile.request_to_message(
        t.req(
            TxnKind.SALE, amount=1000, track2=get_card("visa-approve").track2_data().for_iso8583()
        )
    )
    raw = bytearray(t.spec.codec.pack(msg))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    result = engine.handle(bytes(raw), now=NOW)
    assert result.reply is None or isinstance(result.reply, bytes)
