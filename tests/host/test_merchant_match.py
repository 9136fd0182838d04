"""A void, refund, completion or reversal must come from the original's terminal AND merchant."""

from __future__ import annotations

import pytest

from iso8583.acquirer import TxnKind
from iso8583.host import EmbeddedHost, Status
from tests.host.client import HostClient

OTHER_MID = "OTHERMERCH00001"


@pytest.mark.parametrize("kind", [TxnKind.VOID, TxnKind.REFUND])
def test_another_merchant_cannot_touch_the_sale(
    client: HostClient, host: EmbeddedHost, kind: TxnKind
) -> None:
    sale_req, sale = client.sale(2500)
    orig = client.original_of(sale_req, sale)
    extra = client.card_fields("visa-approve") if kind is TxnKind.REFUND else {}
    req = client.request(kind, amount=2500, original=orig, merchant_id=OTHER_MID, **extra)
    assert client.exchange(req).response_code == "03"
    assert host.ledger.by_rrn(sale.rrn).status is Status.APPROVED
    assert host.ledger.by_rrn(sale.rrn).refunded == 0
    # the right merchant still can
    req = client.request(kind, amount=2500, original=orig, **extra)
    assert client.exchange(req).response_code == "00"


def test_another_merchant_cannot_complete_the_preauth(
    client: HostClient, host: EmbeddedHost
) -> None:
    pre_req, pre = client.sale(8000, kind=TxnKind.PREAUTH)
    orig = client.original_of(pre_req, pre)
    req = client.request(TxnKind.COMPLETION, amount=8000, original=orig, merchant_id=OTHER_MID)
    assert client.exchange(req).response_code == "03"
    assert host.ledger.totals(client.tid, client.batch).debit_count == 0
    req = client.request(TxnKind.COMPLETION, amount=8000, original=orig)
    assert client.exchange(req).response_code == "00"


def test_another_merchant_cannot_reverse_the_sale(client: HostClient, host: EmbeddedHost) -> None:
    sale_req, sale = client.sale(2500)
    orig = client.original_of(sale_req, sale)
    req = client.request(
        TxnKind.REVERSAL, stan=sale_req.stan, amount=2500, original=orig, merchant_id=OTHER_MID
    )
    assert client.exchange(req).response_code == "03"
    assert host.ledger.by_rrn(sale.rrn).status is Status.APPROVED
    req = client.request(TxnKind.REVERSAL, amount=2500, original=orig)  # found by field 90
    assert client.exchange(req).response_code == "00"
    assert host.ledger.by_rrn(sale.rrn).status is Status.REVERSED


def test_a_reversal_with_another_amount_is_refused(client: HostClient, host: EmbeddedHost) -> None:
    sale_req, sale = client.sale(2500)
    orig = client.original_of(sale_req, sale)
    req = client.request(TxnKind.REVERSAL, stan=sale_req.stan, amount=1000, original=orig)
    assert client.exchange(req).response_code == "64"
    assert host.ledger.by_rrn(sale.rrn).status is Status.APPROVED
    assert host.ledger.totals(client.tid, client.batch).debit_amount == 2500
    req = client.request(TxnKind.REVERSAL, amount=2500, original=orig)
    assert client.exchange(req).response_code == "00"
    assert host.ledger.totals(client.tid, client.batch).debit_amount == 0


def test_a_format_2_state_file_is_upgraded_and_its_entries_kept(tmp_path) -> None:
    import sqlite3

    from iso8583.host.state import state_file_for

    with (
        EmbeddedHost("iso87ascii", state_dir=tmp_path) as host,
        HostClient(host.address, host.spec) as client,
    ):
        client.signon()
        sale_req, sale = client.sale(2500)
    path = state_file_for(tmp_path, "iso87ascii")
    db = sqlite3.connect(path)
    with db:  # what a host before the merchant ID wrote
        db.execute("ALTER TABLE entries DROP COLUMN mid")
        db.execute("ALTER TABLE orders DROP COLUMN mid")
        db.execute("UPDATE meta SET value = 'posemu-host-state/2' WHERE key = 'format'")
    db.close()
    with (
        EmbeddedHost("iso87ascii", state_dir=tmp_path) as host,
        HostClient(host.address, host.spec) as client,
    ):
        client.signon()
        assert host.ledger.by_rrn(sale.rrn).mid == ""  # unknown: any merchant matches
        orig = client.original_of(sale_req, sale)
        assert client.exchange(client.request(TxnKind.VOID, original=orig)).response_code == "00"
        _, sale2 = client.sale(1000)
        assert host.ledger.by_rrn(sale2.rrn).mid == client.mid


def test_a_sale_with_refunds_or_a_completed_preauth_cannot_be_reversed(
    client: HostClient, host: EmbeddedHost
) -> None:
    """Else the customer is credited twice (reversal + refund) or a completion debits alone."""
    sale_req, sale = client.sale(5000)
    orig = client.original_of(sale_req, sale)
    card = client.card_fields("visa-approve")
    refund = client.request(TxnKind.REFUND, amount=1000, original=orig, **card)
    assert client.exchange(refund).response_code == "00"
    req = client.request(TxnKind.REVERSAL, amount=5000, original=orig)
    assert client.exchange(req).response_code == "12"
    assert host.ledger.by_rrn(sale.rrn).status is Status.APPROVED
    pre_req, pre = client.sale(8000, kind=TxnKind.PREAUTH)
    pre_orig = client.original_of(pre_req, pre)
    done = client.request(TxnKind.COMPLETION, amount=7000, original=pre_orig, **card)
    assert client.exchange(done).response_code == "00"
    req = client.request(TxnKind.REVERSAL, amount=8000, original=pre_orig)
    assert client.exchange(req).response_code == "12"
    totals = host.ledger.totals(client.tid, client.batch)
    assert (totals.debit_amount, totals.credit_amount) == (12000, 1000)
    # a void of a void, a refund of a voided sale, a second completion: all 25
    void_req, void = client.sale(700)
    v = client.request(TxnKind.VOID, amount=700, original=client.original_of(void_req, void))
    v_resp = client.exchange(v)
    assert v_resp.response_code == "00"
    again = client.request(TxnKind.VOID, amount=700, original=client.original_of(v, v_resp))
    assert client.exchange(again).response_code == "25"
    voided = client.original_of(void_req, void)
    refund = client.request(TxnKind.REFUND, amount=700, original=voided, **card)
    assert client.exchange(refund).response_code == "25"
    twice = client.request(TxnKind.COMPLETION, amount=500, original=pre_orig, **card)
    assert client.exchange(twice).response_code == "25"
    assert host.ledger.totals(client.tid, client.batch) == totals
