"""Merchant-presented QR orders (order, query, simulated payment) and consumer-presented codes."""

from __future__ import annotations

import itertools
import time

import pytest

from iso8583.acquirer import Totals, TxnKind
from iso8583.host import EmbeddedHost, OrderState, rules_from_mapping
from tests.host.client import HostClient

_REFS = itertools.count(1)


def _ref() -> str:
    return f"ORD{next(_REFS):09d}"


def _order(client: HostClient, amount: int, ref: str) -> str:
    return client.exchange(client.request(TxnKind.QR_ORDER, amount=amount, qr=ref)).response_code


def _query(client: HostClient, ref: str):
    return client.exchange(client.request(TxnKind.QR_QUERY, qr=ref))


def _simulate(client: HostClient, text: str) -> str:
    return client.exchange(client.request(TxnKind.QR_SIMULATE, qr=text)).response_code


def test_order_is_paid_after_the_pay_delay(client: HostClient, host: EmbeddedHost):
    ref = _ref()
    assert _order(client, 1888, ref) == "09"
    assert _query(client, ref).response_code == "09"
    time.sleep(0.35)  # FAST_RULES: mpm_pay_delay 0.3 s
    paid = _query(client, ref)
    assert paid.response_code == "00"
    assert paid.auth_code
    assert len(paid.rrn) == 12
    again = _query(client, ref)
    assert (again.response_code, again.rrn) == ("00", paid.rrn)
    entry = host.ledger.by_rrn(paid.rrn)
    assert entry is not None
    assert entry.kind is TxnKind.QR_ORDER
    assert entry.amount == 1888
    assert host.ledger.totals(client.tid, client.batch) == Totals(1, 1888, 0, 0)


@pytest.fixture
def slow_host():
    with EmbeddedHost("iso87ascii", rules_from_mapping({"mpm_pay_delay": 600})) as h:
        yield h


@pytest.fixture
def slow_client(slow_host: EmbeddedHost):
    with HostClient(slow_host.address, slow_host.spec) as c:
        c.signon()
        yield c


def test_simulated_payment_and_decline(slow_client: HostClient, slow_host: EmbeddedHost):
    paid_ref, declined_ref = _ref(), _ref()
    assert _order(slow_client, 1000, paid_ref) == "09"
    assert _order(slow_client, 2000, declined_ref) == "09"
    assert _query(slow_client, paid_ref).response_code == "09"
    # The wallet side may be another connection (another tool): orders are found by reference.
    with HostClient(slow_host.address, slow_host.spec, tid="WALLET01") as wallet:
        assert _simulate(wallet, f"PAY:{paid_ref}") == "00"
        assert _simulate(wallet, f"DECLINE:{declined_ref}:51") == "00"
        assert _simulate(wallet, f"PAY:{paid_ref}") == "12"  # no longer pending
    assert _query(slow_client, paid_ref).response_code == "00"
    assert _query(slow_client, declined_ref).response_code == "51"
    states = {o.ref: o.state for o in slow_host.ledger.orders()}
    assert states[paid_ref] is OrderState.PAID
    assert states[declined_ref] is OrderState.DECLINED


def test_bad_simulations_and_unknown_orders(slow_client: HostClient):
    assert _simulate(slow_client, "PAY:NOSUCHORDER") == "25"
    assert _simulate(slow_client, "REFUND:X") == "30"
    assert _simulate(slow_client, "DECLINE:X:5") == "30"
    assert _query(slow_client, "NOSUCHORDER").response_code == "25"


def test_order_declined_by_the_cents_rule(client: HostClient, host: EmbeddedHost):
    ref = _ref()
    assert _order(client, 1051, ref) == "51"
    assert _query(client, ref).response_code == "25"
    assert host.ledger.orders() == []


def test_duplicate_order_reference(slow_client: HostClient):
    ref = _ref()
    assert _order(slow_client, 1000, ref) == "09"
    assert _order(slow_client, 1000, ref) == "94"


def test_reversed_order_is_cancelled(slow_client: HostClient, slow_host: EmbeddedHost):
    from iso8583.acquirer import Original

    ref = _ref()
    req = slow_client.request(TxnKind.QR_ORDER, amount=1500, qr=ref)
    assert slow_client.exchange(req).response_code == "09"
    orig = Original(TxnKind.QR_ORDER, req.stan, req.local_time)
    reversal = slow_client.request(TxnKind.REVERSAL, stan=req.stan, amount=1500, original=orig)
    assert slow_client.exchange(reversal).response_code == "00"
    assert _query(slow_client, ref).response_code == "25"
    assert _simulate(slow_client, f"PAY:{ref}") == "12"


@pytest.mark.parametrize(("amount", "code"), [(1000, "00"), (1005, "05"), (1091, "91")])
def test_consumer_presented_code_follows_the_cents(
    client: HostClient, host: EmbeddedHost, amount, code
):
    req = client.request(TxnKind.QR_PAY, amount=amount, qr="134567890123456789")
    resp = client.exchange(req)
    assert resp.response_code == code
    if code == "00":
        entry = host.ledger.by_rrn(resp.rrn)
        assert entry is not None
        assert entry.kind is TxnKind.QR_PAY
        assert "134567890123456789" not in repr(host.ledger.entries())


def test_a_paid_order_belongs_to_its_merchant(client: HostClient, host: EmbeddedHost):
    ref = _ref()
    req = client.request(TxnKind.QR_ORDER, amount=1500, qr=ref)
    assert client.exchange(req).response_code == "09"
    time.sleep(0.35)  # FAST_RULES: mpm_pay_delay 0.3 s
    paid = _query(client, ref)
    assert host.ledger.by_rrn(paid.rrn).mid == client.mid
    orig = client.original_of(req, paid)
    other = client.request(TxnKind.VOID, amount=1500, original=orig, merchant_id="OTHERMERCH00001")
    assert client.exchange(other).response_code == "03"
    assert client.exchange(
        client.request(TxnKind.VOID, amount=1500, original=orig)
    ).response_code == ("00")
