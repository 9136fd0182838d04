"""Issue 8, money rules at the host: no double credit, references checked, codes pay once."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from iso8583.acquirer import Request, Response, TxnKind, apply_mac
from iso8583.host import EmbeddedHost, Status
from tests.host.client import HostClient


def _send_edited(
    client: HostClient, req: Request, *, drop: tuple[int, ...] = (), **changes: Any
) -> Response:
    """Send ``req`` with fields removed or replaced (and a fresh MAC), as a buggy client would."""
    msg = client.profile.request_to_message(req)
    for n in drop:
        msg.fields.pop(n, None)
    for name, value in changes.items():
        msg.fields[int(name.lstrip("f"))] = value
    assert client.keys is not None
    msg = apply_mac(msg, client.spec, client.keys.mac_key)
    client.send_raw(client.frame(client.spec.codec.pack(msg)))
    return client.read_response(req, msg)


def test_a_refunded_sale_cannot_be_voided(client: HostClient, host: EmbeddedHost) -> None:
    sale_req, sale = client.sale(5000)
    orig = client.original_of(sale_req, sale)
    card = client.card_fields("visa-approve")
    refund = client.exchange(client.request(TxnKind.REFUND, amount=5000, original=orig, **card))
    assert refund.response_code == "00"
    void = client.exchange(client.request(TxnKind.VOID, amount=5000, original=orig))
    assert void.response_code == "12"
    assert host.ledger.by_rrn(sale.rrn).status is Status.APPROVED
    totals = host.ledger.totals(client.tid, client.batch)
    assert (totals.debit_amount, totals.credit_amount) == (5000, 5000)


def test_a_partly_refunded_sale_cannot_be_voided_either(client: HostClient) -> None:
    sale_req, sale = client.sale(5000)
    orig = client.original_of(sale_req, sale)
    card = client.card_fields("visa-approve")
    assert (
        client.exchange(
            client.request(TxnKind.REFUND, amount=1000, original=orig, **card)
        ).response_code
        == "00"
    )
    over = client.exchange(client.request(TxnKind.REFUND, amount=4500, original=orig, **card))
    assert over.response_code == "61"  # beyond the 40.00 that is left
    assert client.exchange(client.request(TxnKind.VOID, original=orig)).response_code == "12"


def test_void_by_rrn_alone_finds_the_original(client: HostClient, host: EmbeddedHost) -> None:
    sale_req, sale = client.sale(2500)
    orig = client.original_of(sale_req, sale)
    void = _send_edited(
        client, client.request(TxnKind.VOID, amount=2500, original=orig), drop=(90,)
    )
    assert void.response_code == "00"
    assert host.ledger.by_rrn(sale.rrn).status is Status.VOIDED


def test_refund_by_rrn_alone_finds_the_original(client: HostClient) -> None:
    sale_req, sale = client.sale(2500)
    orig = client.original_of(sale_req, sale)
    req = client.request(
        TxnKind.REFUND, amount=500, original=orig, **client.card_fields("visa-approve")
    )
    assert _send_edited(client, req, drop=(90,)).response_code == "00"


@pytest.mark.parametrize("kind", [TxnKind.VOID, TxnKind.REFUND])
def test_field_90_must_match_the_original_found_by_rrn(client: HostClient, kind: TxnKind) -> None:
    sale_req, sale = client.sale(2500)
    orig = client.original_of(sale_req, sale)
    wrong = dataclasses.replace(orig, stan=f"{(int(orig.stan) + 7) % 1_000_000:06d}")
    extra = client.card_fields("visa-approve") if kind is TxnKind.REFUND else {}
    resp = client.exchange(client.request(kind, amount=2500, original=wrong, **extra))
    assert resp.response_code == "25"


def test_a_payment_code_pays_once(client: HostClient, host: EmbeddedHost) -> None:
    code = "283456789012345678"
    first = client.exchange(client.request(TxnKind.QR_PAY, amount=1200, qr=code))
    assert first.response_code == "00"
    again = client.exchange(client.request(TxnKind.QR_PAY, amount=1200, qr=code))
    assert again.response_code == "94"
    other = client.exchange(client.request(TxnKind.QR_PAY, amount=1200, qr="283456789012345679"))
    assert other.response_code == "00"
    entries = [e for e in host.ledger.entries() if e.kind is TxnKind.QR_PAY]
    assert len(entries) == 2


def test_a_reversed_code_payment_frees_the_code(client: HostClient) -> None:
    code = "283456789012345670"
    req = client.request(TxnKind.QR_PAY, amount=1200, qr=code)
    first = client.exchange(req)
    assert first.response_code == "00"
    reversal = client.request(
        TxnKind.REVERSAL, amount=1200, original=client.original_of(req, first)
    )
    assert client.exchange(reversal).response_code == "00"
    assert (
        client.exchange(client.request(TxnKind.QR_PAY, amount=1200, qr=code)).response_code == "00"
    )


def test_rrns_stay_unique_when_a_host_restarts_quickly_without_state() -> None:
    """Issue 8: three stand-alone hosts within a second gave 15 RRNs, 8 distinct."""
    rrns: list[str] = []
    for _ in range(4):
        with (
            EmbeddedHost("iso87ascii") as host,
            HostClient(host.address, host.spec) as client,
        ):
            client.signon()
            rrns += [client.sale(1000)[1].rrn for _ in range(5)]
    assert len(set(rrns)) == len(rrns), rrns
    assert all(len(r) == 12 and r.isdigit() for r in rrns)


def test_rrns_are_unique_across_restarts_with_state(tmp_path) -> None:
    rrns: list[str] = []
    for _ in range(2):
        with (
            EmbeddedHost("iso87ascii", state_dir=tmp_path) as host,
            HostClient(host.address, host.spec) as client,
        ):
            client.signon()
            rrns += [client.sale(1000)[1].rrn for _ in range(3)]
    assert len(set(rrns)) == len(rrns), rrns
