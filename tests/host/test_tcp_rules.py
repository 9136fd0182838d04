"""Every default rule over real loopback TCP against the embedded host."""

from __future__ import annotations

import time

import pytest

from iso8583.acquirer import TxnKind
from iso8583.host import EmbeddedHost, Status, rules_from_mapping
from tests.host.client import HostClient, NoReply


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (1000, "00"),
        (1005, "05"),
        (1014, "14"),
        (1051, "51"),
        (1054, "54"),
        (1055, "55"),
        (1091, "91"),
        (1037, "00"),
    ],
)
def test_cents_pick_the_response_code(client: HostClient, host: EmbeddedHost, amount, code):
    req, resp = client.sale(amount)
    assert resp.response_code == code
    assert resp.stan == req.stan
    recorded = [e for e in host.ledger.entries() if e.stan == req.stan]
    if code == "00":
        assert [e.rrn for e in recorded] == [resp.rrn]
        assert resp.auth_code
    else:
        assert recorded == []
        assert not resp.rrn


def test_x68_answers_after_late_delay(client: HostClient, host: EmbeddedHost):
    req = client.request(TxnKind.SALE, amount=1068, **client.card_fields("visa-approve"))
    sent = client.send(req)
    started = time.monotonic()
    with pytest.raises(NoReply):
        client.read_response(req, sent, timeout=0.2)  # the terminal would time out here
    resp = client.read_response(req, sent, timeout=3)
    assert resp.response_code == "00"
    assert time.monotonic() - started >= 0.6 - 0.25
    assert host.ledger.by_rrn(resp.rrn) is not None


def test_x99_never_answers_but_keeps_the_connection(client: HostClient):
    req = client.request(TxnKind.SALE, amount=1099, **client.card_fields("visa-approve"))
    sent = client.send(req)
    with pytest.raises(NoReply):
        client.read_response(req, sent, timeout=0.4)
    _, resp = client.sale(1000)  # same connection still served
    assert resp.response_code == "00"


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("visa-approve", "00"),
        ("mc-approve", "00"),
        ("amex-approve", "00"),
        ("chip-visa", "00"),
        ("luhn-bad", "14"),
        ("visa-blocked", "43"),
        ("visa-expired", "54"),
        ("visa-decline", "05"),
    ],
)
@pytest.mark.parametrize("manual", [False, True])
def test_card_checks(client: HostClient, card, code, manual):
    _, resp = client.sale(1000, card, manual=manual)
    assert resp.response_code == code


def test_card_checks_come_before_the_cents(client: HostClient):
    _, resp = client.sale(1051, "visa-blocked")
    assert resp.response_code == "43"
    _, resp = client.sale(1005, "visa-expired")
    assert resp.response_code == "54"


@pytest.mark.parametrize("card", ["debit-pin", "unionpay-debit-pin"])
def test_pin_cards(client: HostClient, card):
    assert client.sale(1000, card, pin="1234")[1].response_code == "00"
    assert client.sale(1000, card, pin="9999")[1].response_code == "55"
    assert client.sale(1000, card)[1].response_code == "55"  # service code x0x demands a PIN
    # A PIN on a card that does not need one is still checked.
    assert client.sale(1000, "visa-approve", pin="1234")[1].response_code == "00"
    assert client.sale(1000, "visa-approve", pin="0000")[1].response_code == "55"
    # PIN checks come before the cents: a right PIN then meets the x.51 rule.
    assert client.sale(1051, card, pin="9999")[1].response_code == "55"
    assert client.sale(1051, card, pin="1234")[1].response_code == "51"


def test_no_signon_means_key_exchange_required(host: EmbeddedHost):
    with HostClient(host.address, host.spec, tid="NOKEYS01") as fresh:
        _, resp = fresh.sale(1000)
        assert resp.response_code == "A7"
        fresh.signon()
        assert fresh.sale(1000)[1].response_code == "00"


def test_bad_or_missing_mac(client: HostClient, host: EmbeddedHost):
    req = client.request(TxnKind.SALE, amount=1000, **client.card_fields("visa-approve"))
    msg = client.build(req)
    msg.fields[64] = bytes(b ^ 0xFF for b in msg.fields[64])
    client.send_raw(client.frame(client.spec.codec.pack(msg)))
    assert client.read_response(req, msg).response_code == "A0"
    req = client.request(TxnKind.SALE, amount=1000, **client.card_fields("visa-approve"))
    assert client.exchange(req, mac=False).response_code == "A0"
    # A tampered amount under a valid MAC is caught too.
    req = client.request(TxnKind.SALE, amount=1000, **client.card_fields("visa-approve"))
    msg = client.build(req)
    msg.fields[4] = "000000000001"
    client.send_raw(client.frame(client.spec.codec.pack(msg)))
    assert client.read_response(req, msg).response_code == "A0"
    assert host.ledger.entries() == []


def test_mac_is_checked_before_the_card(client: HostClient):
    req = client.request(TxnKind.SALE, amount=1000, **client.card_fields("visa-blocked"))
    assert client.exchange(req, mac=False).response_code == "A0"


def test_balance_inquiry(client: HostClient, host: EmbeddedHost):
    req = client.request(TxnKind.BALANCE, **client.card_fields("debit-pin", pin="1234"))
    resp = client.exchange(req)
    assert resp.response_code == "00"
    assert resp.balance == 100_000
    req = client.request(TxnKind.BALANCE, **client.card_fields("visa-expired"))
    assert client.exchange(req).response_code == "54"
    assert host.ledger.entries() == []


def test_preauth_is_recorded_as_preauth(client: HostClient, host: EmbeddedHost):
    _req, resp = client.sale(5000, kind=TxnKind.PREAUTH)
    assert resp.response_code == "00"
    [entry] = host.ledger.entries()
    assert entry.kind is TxnKind.PREAUTH
    assert entry.status is Status.APPROVED
    assert client.sale(5051, kind=TxnKind.PREAUTH)[1].response_code == "51"


def test_approve_all_and_kind_overrides():
    rules = rules_from_mapping(
        {"approve_all": True, "kinds": {"refund": "00", "preauth": "91"}, "balance": 42}
    )
    with EmbeddedHost("iso87ascii", rules) as h, HostClient(h.address, h.spec) as c:
        c.signon()
        assert c.sale(1051, "visa-blocked")[1].response_code == "00"
        assert c.sale(1000, kind=TxnKind.PREAUTH)[1].response_code == "91"
        refund = c.request(TxnKind.REFUND, amount=700, **c.card_fields("visa-approve"))
        assert c.exchange(refund).response_code == "00"  # no original needed
        balance = c.exchange(c.request(TxnKind.BALANCE, **c.card_fields("visa-approve")))
        assert balance.balance == 42
        # MAC is still enforced.
        assert (
            c.exchange(
                c.request(TxnKind.SALE, amount=1000, pan="4761739001010010"), mac=False
            ).response_code
            == "A0"
        )


def test_custom_pin_and_lists():
    rules = rules_from_mapping(
        {"pin": "8888", "blocked_pans": [], "decline_pans": ["4761739001010010"]}
    )
    with EmbeddedHost("iso87ascii", rules) as h, HostClient(h.address, h.spec) as c:
        c.signon()
        assert c.sale(1000, "visa-blocked")[1].response_code == "00"
        assert c.sale(1000, "visa-approve")[1].response_code == "05"
        assert c.sale(1000, "debit-pin", pin="8888")[1].response_code == "00"
        assert c.sale(1000, "debit-pin", pin="1234")[1].response_code == "55"
