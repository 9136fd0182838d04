"""Voids, refunds, completions, reversals, duplicates and settlement against the ledger."""

from __future__ import annotations

import dataclasses

from iso8583.acquirer import Original, Totals, TxnKind
from iso8583.host import EmbeddedHost, Status
from tests.host.client import HostClient, eventually


def _status(host: EmbeddedHost, rrn: str) -> Status:
    entry = host.ledger.by_rrn(rrn)
    assert entry is not None
    return entry.status


def test_void_needs_a_live_original_with_the_same_amount(client: HostClient, host: EmbeddedHost):
    sale_req, sale = client.sale(2500)
    orig = client.original_of(sale_req, sale)
    wrong = client.exchange(client.request(TxnKind.VOID, amount=2400, original=orig))
    assert wrong.response_code == "64"
    void = client.exchange(client.request(TxnKind.VOID, amount=2500, original=orig))
    assert void.response_code == "00"
    assert void.rrn != sale.rrn
    assert _status(host, sale.rrn) is Status.VOIDED
    again = client.exchange(client.request(TxnKind.VOID, amount=2500, original=orig))
    assert again.response_code == "25"
    ghost = dataclasses.replace(orig, stan="999999", rrn="")
    assert (
        client.exchange(client.request(TxnKind.VOID, amount=2500, original=ghost)).response_code
        == "25"
    )


def test_void_by_stan_only_and_other_terminals_cannot_void(client: HostClient, host: EmbeddedHost):
    sale_req, sale = client.sale(3000)
    by_stan = dataclasses.replace(client.original_of(sale_req, sale), rrn="")
    with HostClient(host.address, host.spec, tid="TERM0099") as other:
        other.signon()
        assert (
            other.exchange(other.request(TxnKind.VOID, amount=3000, original=by_stan)).response_code
            == "25"
        )
    assert (
        client.exchange(client.request(TxnKind.VOID, amount=3000, original=by_stan)).response_code
        == "00"
    )


def test_refunds_cannot_exceed_the_original(client: HostClient, host: EmbeddedHost):
    sale_req, sale = client.sale(10_000)
    orig = client.original_of(sale_req, sale)
    card = client.card_fields("visa-approve")

    def refund(amount: int, original: Original = orig) -> str:
        return client.exchange(
            client.request(TxnKind.REFUND, amount=amount, original=original, **card)
        ).response_code

    assert refund(20_000) == "13"
    assert refund(4_000) == "00"
    assert refund(7_000) == "61"
    assert refund(6_000) == "00"
    assert refund(100) == "61"
    assert refund(100, dataclasses.replace(orig, rrn="000000000000")) == "25"
    assert host.ledger.by_rrn(sale.rrn).refunded == 10_000
    credits = [e for e in host.ledger.entries() if e.kind is TxnKind.REFUND]
    assert [e.amount for e in credits] == [4_000, 6_000]


def test_refund_to_a_card_without_a_reference(client: HostClient, host: EmbeddedHost):
    """No original at all: a refund to the card (the terminal's `pay refund --card`), taken
    under the cents rules and counted as a credit; a reference that matches nothing is 25."""
    card = client.card_fields("visa-approve")
    done = client.exchange(client.request(TxnKind.REFUND, amount=300, **card))
    assert done.response_code == "00"
    assert done.rrn
    declined = client.exchange(client.request(TxnKind.REFUND, amount=351, **card))
    assert declined.response_code == "51"
    credits = [e for e in host.ledger.entries() if e.kind is TxnKind.REFUND]
    assert [(e.amount, e.ref_id) for e in credits] == [(300, None)]


def test_refund_of_a_voided_sale_is_refused(client: HostClient):
    sale_req, sale = client.sale(1000)
    orig = client.original_of(sale_req, sale)
    assert (
        client.exchange(client.request(TxnKind.VOID, amount=1000, original=orig)).response_code
        == "00"
    )
    refund = client.request(
        TxnKind.REFUND, amount=500, original=orig, **client.card_fields("visa-approve")
    )
    assert client.exchange(refund).response_code == "25"


def test_completion_of_a_preauth(client: HostClient, host: EmbeddedHost):
    pre_req, pre = client.sale(5000, kind=TxnKind.PREAUTH)
    orig = client.original_of(pre_req, pre)
    card = client.card_fields("visa-approve")
    too_much = client.exchange(
        client.request(TxnKind.COMPLETION, amount=6000, original=orig, **card)
    )
    assert too_much.response_code == "13"
    done = client.exchange(client.request(TxnKind.COMPLETION, amount=4500, original=orig, **card))
    assert done.response_code == "00"
    assert done.auth_code == pre.auth_code  # a completion carries the pre-auth's approval
    assert done.rrn != pre.rrn
    assert host.ledger.by_rrn(pre.rrn).completed
    again = client.exchange(client.request(TxnKind.COMPLETION, amount=100, original=orig, **card))
    assert again.response_code == "25"
    unknown = dataclasses.replace(orig, auth_code="ZZZZZZ", stan="999998")
    assert (
        client.exchange(
            client.request(TxnKind.COMPLETION, amount=100, original=unknown, **card)
        ).response_code
        == "25"
    )


def _reversal(client: HostClient, original: Original, *, amount: int, repeat: bool = False):
    # Terminals put the original STAN in field 11 as well as in the original-data field.
    return client.exchange(
        client.request(
            TxnKind.REVERSAL, stan=original.stan, amount=amount, original=original, repeat=repeat
        )
    )


def test_reversal_is_idempotent(client: HostClient, host: EmbeddedHost):
    sale_req, sale = client.sale(1200)
    orig = client.original_of(sale_req, sale)
    first = _reversal(client, orig, amount=1200)
    assert first.response_code == "00"
    assert client.last_message.mti == "0410"
    assert _status(host, sale.rrn) is Status.REVERSED
    assert _reversal(client, orig, amount=1200, repeat=True).response_code == "00"
    assert _reversal(client, orig, amount=1200, repeat=True).response_code == "00"
    ghost = dataclasses.replace(orig, stan="777777")
    assert _reversal(client, ghost, amount=1200).response_code == "00"
    assert _status(host, sale.rrn) is Status.REVERSED


def test_reversal_of_a_late_answer(client: HostClient, host: EmbeddedHost):
    """x.68: the terminal gives up, reverses; the host's late approval is undone."""
    req = client.request(TxnKind.SALE, amount=1068, **client.card_fields("visa-approve"))
    client.send(req)
    [entry] = eventually(host.ledger.entries)
    with HostClient(host.address, host.spec) as second:
        second.keys = client.keys
        orig = Original(TxnKind.SALE, req.stan, req.local_time, batch=req.batch)
        assert _reversal(second, orig, amount=1068).response_code == "00"
    assert host.ledger.by_rrn(entry.rrn).status is Status.REVERSED


def test_reversal_of_a_void_restores_the_sale(client: HostClient, host: EmbeddedHost):
    sale_req, sale = client.sale(800)
    void_req = client.request(TxnKind.VOID, amount=800, original=client.original_of(sale_req, sale))
    void = client.exchange(void_req)
    assert void.response_code == "00"
    assert _status(host, sale.rrn) is Status.VOIDED
    assert _reversal(client, client.original_of(void_req, void), amount=800).response_code == "00"
    assert _status(host, sale.rrn) is Status.APPROVED
    assert _status(host, void.rrn) is Status.REVERSED


def test_duplicates_get_94_but_a_reversal_with_the_same_stan_does_not(
    client: HostClient, host: EmbeddedHost
):
    req, resp = client.sale(1500)
    assert resp.response_code == "00"
    assert client.exchange(req).response_code == "94"
    assert len(host.ledger.entries()) == 1
    orig = client.original_of(req, resp)
    assert _reversal(client, orig, amount=1500).response_code == "00"
    # A declined request counts as seen too.
    declined_req, declined = client.sale(1551)
    assert declined.response_code == "51"
    assert client.exchange(declined_req).response_code == "94"


def test_repeated_advice_replays_the_first_answer(client: HostClient, host: EmbeddedHost):
    sale_req, sale = client.sale(9000)
    refund_req = client.request(
        TxnKind.REFUND,
        amount=1000,
        original=client.original_of(sale_req, sale),
        **client.card_fields("visa-approve"),
    )
    first = client.exchange(refund_req)
    repeat = client.exchange(dataclasses.replace(refund_req, repeat=True))
    assert client.last_message.mti == "0230"
    assert (repeat.response_code, repeat.rrn, repeat.auth_code) == (
        first.response_code,
        first.rrn,
        first.auth_code,
    )
    assert host.ledger.by_rrn(sale.rrn).refunded == 1000


def _settle(
    client: HostClient, totals: Totals, *, after_upload: bool = False, batch: str | None = None
):
    req = client.request(
        TxnKind.SETTLEMENT, totals=totals, after_upload=after_upload, batch=batch or client.batch
    )
    return client.exchange(req)


def test_settlement_counts_live_debits_and_credits(client: HostClient, host: EmbeddedHost):
    s1_req, s1 = client.sale(1000)
    client.sale(2000)
    client.sale(3051)  # declined: not counted
    v_req, v = client.sale(4000)
    client.exchange(
        client.request(TxnKind.VOID, amount=4000, original=client.original_of(v_req, v))
    )
    r_req, r = client.sale(500)
    _reversal(client, client.original_of(r_req, r), amount=500)
    pre_req, pre = client.sale(7000, kind=TxnKind.PREAUTH)  # not a debit until completed
    card = client.card_fields("visa-approve")
    client.exchange(
        client.request(
            TxnKind.COMPLETION, amount=6000, original=client.original_of(pre_req, pre), **card
        )
    )
    client.exchange(
        client.request(TxnKind.REFUND, amount=300, original=client.original_of(s1_req, s1), **card)
    )
    expected = Totals(debit_count=3, debit_amount=9000, credit_count=1, credit_amount=300)
    assert host.ledger.totals(client.tid, client.batch) == expected
    assert _settle(client, dataclasses.replace(expected, debit_amount=9001)).response_code == "95"
    assert _settle(client, expected).response_code == "00"
    assert host.ledger.closed_batches()[(client.tid, client.batch)] == expected
    # The batch is closed: the terminal must move on to the next batch number.
    assert client.sale(1000)[1].response_code == "77"
    # A settlement repeated because its answer was lost is answered the same way.
    assert _settle(client, expected).response_code == "00"
    client.batch = "000002"
    assert client.sale(1000)[1].response_code == "00"
    # A settled sale cannot be voided any more (only refunded).
    settled = client.original_of(s1_req, s1)
    assert (
        client.exchange(client.request(TxnKind.VOID, amount=1000, original=settled)).response_code
        == "25"
    )
    assert host.ledger.totals(client.tid, "000002") == Totals(1, 1000, 0, 0)


def test_mismatch_then_batch_upload_then_settle_again(client: HostClient, host: EmbeddedHost):
    sales = [client.sale(amount) for amount in (1000, 2000)]
    terminal_view = Totals(debit_count=3, debit_amount=3500, credit_count=1, credit_amount=250)
    assert _settle(client, terminal_view).response_code == "95"
    uploads = [(req, resp, TxnKind.SALE) for req, resp in sales]
    offline = client.request(TxnKind.SALE, amount=500)  # approved offline, host never saw it
    uploads.append((offline, None, TxnKind.SALE))
    refund = client.request(TxnKind.REFUND, amount=250)
    uploads.append((refund, None, TxnKind.REFUND))
    for req, resp, kind in uploads:
        orig = Original(
            kind, req.stan, req.local_time, rrn=resp.rrn if resp else "", amount=req.amount
        )
        upload = client.request(TxnKind.BATCH_UPLOAD, amount=req.amount, original=orig)
        assert client.exchange(upload).response_code == "00"
    assert host.ledger.upload_totals(client.tid, client.batch) == terminal_view
    assert _settle(client, terminal_view, after_upload=True).response_code == "00"
    assert host.ledger.closed_batches()[(client.tid, client.batch)] == terminal_view


def test_empty_batch_settles(client: HostClient):
    assert _settle(client, Totals()).response_code == "00"
