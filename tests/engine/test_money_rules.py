"""Money rules the terminal enforces before anything is sent (issue 8)."""

from __future__ import annotations

import pytest

from terminal.core.journal import TxnState
from terminal.engine import AmbiguousReferenceError, CardInput, NotAllowedError, TxnRef

VISA = CardInput.test_card("visa-approve")


async def test_a_sale_with_refunds_cannot_be_voided(terminal, store, host):
    sale = await terminal.sale(3000, VISA)
    assert (await terminal.refund(sale.journal_id, 3000)).approved  # fully refunded
    sent = len(host.ledger.entries())
    with pytest.raises(NotAllowedError, match=r"has refunds .*30\.00 refunded"):
        await terminal.void(TxnRef(stan=sale.stan))
    assert len(host.ledger.entries()) == sent  # nothing went to the host
    assert store.journal.get(sale.journal_id).state is TxnState.APPROVED


async def test_refunds_never_exceed_what_is_left(terminal, host):
    sale = await terminal.sale(3000, VISA)
    assert (await terminal.refund(sale.journal_id, 2000)).approved
    with pytest.raises(NotAllowedError, match=r"left to refund .*: 10\.00 \(20\.00 of 30\.00"):
        await terminal.refund(sale.journal_id, 1001)
    assert (await terminal.refund(sale.journal_id, 1000)).approved
    with pytest.raises(NotAllowedError, match="left to refund"):
        await terminal.refund(sale.journal_id, 1)


async def test_an_ambiguous_rrn_is_refused_not_guessed(terminal, store):
    first = await terminal.sale(1000, VISA)
    second = await terminal.sale(2000, VISA)
    # RRNs repeat when a host restarts without its state: two sales, one RRN.
    store.journal.update(second.journal_id, rrn=first.rrn)
    with pytest.raises(AmbiguousReferenceError) as caught:
        await terminal.refund(TxnRef(rrn=first.rrn), 500)
    assert caught.value.ids == sorted([first.journal_id, second.journal_id])
    assert "pass the journal id" in str(caught.value)
    with pytest.raises(AmbiguousReferenceError):
        await terminal.void(TxnRef(rrn=first.rrn))
    assert (await terminal.refund(TxnRef(journal_id=first.journal_id), 500)).approved


async def test_a_wallet_code_pays_once(terminal, store, data_dir):
    first = await terminal.qr_cpm(700, "281234567890123456")
    assert first.approved
    with pytest.raises(NotAllowedError, match=r"already presented \(journal id \d+\)"):
        await terminal.qr_cpm(700, "281234567890123456")
    # same first 6 / last 4, different code: not confused with the first
    assert (await terminal.qr_cpm(700, "281234000000003456")).approved
    stored = (data_dir / "used-payment-codes").read_text(encoding="ascii")
    assert "281234567890123456" not in stored  # keyed digests only
