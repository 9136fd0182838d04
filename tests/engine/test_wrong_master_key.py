"""A host with another master key: its A7 is an answer, not a lost request to reverse."""

from __future__ import annotations

import pytest

from iso8583.host import EmbeddedHost
from iso8583.keys import Key, KeyAlgorithm
from terminal.core.journal import TxnState
from terminal.engine import SignOnError, TerminalService

from .conftest import FAST_RULES, fast_config, url_of
from .test_service import VISA

OTHER_TMK = "11111111111111112222222222222222"


async def test_a7_then_keys_that_do_not_verify_is_declined_not_reversed(host, store):
    async with TerminalService(fast_config(url_of(host)), store) as first:
        assert (await first.sale(100, VISA)).approved  # keys under the default TMK, kept
    other_tmk = Key(bytes.fromhex(OTHER_TMK), KeyAlgorithm.TDES)
    with EmbeddedHost("iso87ascii", FAST_RULES, tmk=other_tmk) as other:  # answers A7 first
        async with TerminalService(fast_config(url_of(other)), store) as second:
            result = await second.sale(700, VISA)
        assert not result.approved
        assert result.response_code == "A7"
        assert not result.reversal_pending
        assert "TMK" in result.error
        assert "KCV" in result.error
        assert store.journal.get(result.journal_id).state is TxnState.DECLINED
        assert store.saf.pending() == []


async def test_fresh_terminal_with_other_tmk_sends_nothing_to_reverse(host, store):
    config = fast_config(url_of(host), tmk_hex=OTHER_TMK)
    async with TerminalService(config, store) as service:
        with pytest.raises(SignOnError, match="does not verify under our TMK"):
            await service.sale(700, VISA)
    assert store.saf.pending() == []


async def test_declined_a7_still_has_its_receipt(host, store):
    async with TerminalService(fast_config(url_of(host)), store) as first:
        assert (await first.sale(100, VISA)).approved
    other_tmk = Key(bytes.fromhex(OTHER_TMK), KeyAlgorithm.TDES)
    with EmbeddedHost("iso87ascii", FAST_RULES, tmk=other_tmk) as other:
        async with TerminalService(fast_config(url_of(other)), store) as second:
            result = await second.sale(700, VISA)
    assert "A7" in result.receipt_text or "DECLINED" in result.receipt_text
