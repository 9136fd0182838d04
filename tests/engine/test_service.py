"""TerminalService against a real in-process host over loopback TCP, with a real SQLite store."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
from datetime import datetime

import pytest

from iso8583.acquirer.model import TxnKind
from iso8583.host import EmbeddedHost, Status, rules_from_mapping
from terminal.core.journal import JournalQuery, PrintStatus, TxnState
from terminal.core.money import AmountError
from terminal.core.qr import QrError, parse_mpm
from terminal.core.receipting import ReceiptService
from terminal.core.transactions import build_request, build_reversal
from terminal.devices import StreamPrinter
from terminal.engine import (
    CardInput,
    ChipRequiredError,
    HostUnavailableError,
    NotAllowedError,
    OriginalNotFoundError,
    PinRequiredError,
    ReceiptReady,
    ReversalDelivered,
    ReversalQueued,
    ServiceStateError,
    SignedOn,
    SignOnError,
    TerminalService,
    TxnRef,
)
from terminal.engine.runner import Runner
from terminal.simulation import QrCustomer

from .conftest import FAST_RULES, fast_config, url_of
from .proxy import FaultProxy
from .scan import card_data_in_files

VISA = CardInput.test_card("visa-approve")


def ledger_by_stan(host: EmbeddedHost, stan: str, kind: TxnKind = TxnKind.SALE):
    return [e for e in host.ledger.entries() if e.stan == stan and e.kind is kind]


async def test_sale_approved_is_journaled_with_receipt(terminal, store, host, events):
    result = await terminal.sale(1234, VISA)
    assert result.approved
    assert (result.response_code, result.state) == ("00", TxnState.APPROVED)
    assert result.masked_pan == "476173******0010"
    assert result.auth_code
    assert result.rrn
    assert "APPROVED" in result.receipt_text
    assert "476173******0010" in result.receipt_text
    entry = store.journal.get(result.journal_id)
    assert entry.state is TxnState.APPROVED
    assert entry.receipt is not None
    assert [(c.copy, c.status) for c in entry.copies] == [("merchant", PrintStatus.PENDING)]
    assert store.journal.card_pan(result.journal_id) == VISA.pan  # sealed, for a later void
    assert store.saf.pending() == []
    (approved,) = ledger_by_stan(host, result.stan)
    assert approved.status is Status.APPROVED
    kinds = [type(e) for e in events]
    assert kinds.index(SignedOn) < kinds.index(ReceiptReady)
    ReceiptService(store.journal, StreamPrinter(io.StringIO())).print_copy(result.journal_id)
    assert store.journal.get(result.journal_id).copies[0].status is PrintStatus.PRINTED


@pytest.mark.parametrize(
    ("card", "amount", "pin", "code"),
    [
        ("visa-approve", 1000, None, "00"),
        ("visa-approve", 1005, None, "05"),
        ("visa-approve", 1014, None, "14"),
        ("visa-approve", 1051, None, "51"),
        ("visa-approve", 1054, None, "54"),
        ("visa-approve", 1055, None, "55"),
        ("visa-approve", 1091, None, "91"),
        ("visa-expired", 1000, None, "54"),
        ("luhn-bad", 1000, None, "14"),
        ("visa-blocked", 1000, None, "43"),
        ("visa-decline", 1000, None, "05"),
        ("debit-pin", 1000, "1234", "00"),
        ("debit-pin", 1000, "9999", "55"),
        ("unionpay-debit-pin", 1000, "1234", "00"),
    ],
)
async def test_default_rules(terminal, card, amount, pin, code):
    result = await terminal.sale(amount, CardInput.test_card(card), pin)
    assert result.response_code == code
    assert result.approved is (code == "00")
    assert result.state is (TxnState.APPROVED if code == "00" else TxnState.DECLINED)


async def test_input_errors_send_nothing(terminal, store, host):
    with pytest.raises(PinRequiredError):
        await terminal.sale(100, CardInput.test_card("debit-pin"))
    with pytest.raises(ChipRequiredError):
        await terminal.sale(100, CardInput.test_card("chip-visa"))
    with pytest.raises(AmountError):
        await terminal.sale(0, VISA)
    with pytest.raises(QrError):
        await terminal.qr_cpm(100, "12AB")
    with pytest.raises(OriginalNotFoundError):
        await terminal.void(TxnRef(stan="000999"))
    assert store.journal.find(JournalQuery()) == []
    assert host.ledger.entries() == []


async def test_chip_card_fallback_swipe(terminal):
    result = await terminal.sale(100, CardInput.test_card("chip-visa", chip_failed=True))
    assert result.approved
    assert "FALLBACK" in result.receipt_text


async def test_void_refund_preauth_completion_balance(terminal, store, host):
    sale = await terminal.sale(5000, VISA)
    void = await terminal.void(TxnRef(stan=sale.stan))
    assert void.approved
    assert store.journal.get(sale.journal_id).state is TxnState.VOIDED
    assert ledger_by_stan(host, sale.stan)[0].status is Status.VOIDED
    with pytest.raises(NotAllowedError):
        await terminal.void(sale.journal_id)  # already voided

    sale2 = await terminal.sale(3000, CardInput.test_card("mc-approve"))
    refund = await terminal.refund(TxnRef(rrn=sale2.rrn), 1000)
    assert refund.approved
    assert "REFUND" in refund.receipt_text
    with pytest.raises(NotAllowedError):
        await terminal.refund(sale2.journal_id, 3001)

    pre = await terminal.preauth(8000, CardInput.test_card("jcb-approve"))
    done = await terminal.completion(pre.journal_id, 7500)
    assert done.approved
    assert (await terminal.balance(CardInput.test_card("debit-pin"), "1234")).balance == 100_000
    refund_to_card = await terminal.refund(VISA, 500)  # no original: a refund to the card
    assert refund_to_card.response_code == "00"


async def test_late_answer_is_reversed_with_the_same_stan(terminal, store, host, events):
    result = await terminal.sale(1268, VISA)  # x.68: the host answers after 1.5 s
    assert not result.approved
    assert result.error
    assert not result.reversal_pending
    assert result.state is TxnState.REVERSED
    (entry,) = ledger_by_stan(host, result.stan)
    assert entry.status is Status.REVERSED
    queued = [e for e in events if isinstance(e, ReversalQueued)]
    delivered = [e for e in events if isinstance(e, ReversalDelivered)]
    assert [e.stan for e in queued] == [result.stan]
    assert [e.stan for e in delivered] == [result.stan]
    assert store.saf.pending() == []


@pytest.mark.parametrize("mode", ["drop", "disconnect", "garbage", "badmac"])
async def test_unusable_answer_leaves_reversal_until_link_heals(host, store, mode):
    proxy = FaultProxy(host.address, host.spec)
    await proxy.start()
    service = TerminalService(fast_config(proxy.url, response_timeout=0.3), store)
    await service.start()
    try:
        await service.signon()
        await proxy.set_mode(mode)
        result = await service.sale(4200, VISA)
        assert result.state is TxnState.TIMED_OUT
        assert result.reversal_pending
        assert len(store.saf.pending()) == 1
        (host_entry,) = ledger_by_stan(host, result.stan)
        # The host approved, then took the reversal too; only its acks were lost.
        assert host_entry.status is Status.REVERSED
        with pytest.raises(HostUnavailableError):  # nothing new before the reversal is in
            await service.sale(100, VISA)
        await service.stop()
        await proxy.set_mode("pass")
        await service.start()  # delivers the queued reversal
        assert store.saf.pending() == []
        assert store.journal.get(result.journal_id).state is TxnState.REVERSED
        assert ledger_by_stan(host, result.stan)[0].status is Status.REVERSED
        assert (await service.sale(100, VISA)).approved
    finally:
        await service.stop()
        await proxy.stop()


async def test_repeated_reversal_is_0401(host, store):
    proxy = FaultProxy(host.address, host.spec)
    await proxy.start()
    service = TerminalService(fast_config(proxy.url, response_timeout=0.2), store)
    await service.start()
    try:
        await service.signon()
        await proxy.set_mode("drop")
        result = await service.sale(4300, VISA)
        assert result.reversal_pending
        (pending,) = store.saf.pending()
        assert pending.attempts == 3
        await proxy.set_mode("pass")
        assert await service.deliver_pending() == 0
        assert store.journal.get(result.journal_id).state is TxnState.REVERSED
    finally:
        await service.stop()
        await proxy.stop()


async def test_host_restart_needs_new_keys_a7(host, store, events):
    first = TerminalService(fast_config(url_of(host)), store, on_event=events.append)
    async with first:
        assert (await first.sale(100, VISA)).approved
    assert sum(isinstance(e, SignedOn) for e in events) == 1
    with EmbeddedHost("iso87ascii", FAST_RULES) as fresh:  # knows no keys: answers A7
        second = TerminalService(fast_config(url_of(fresh)), store, on_event=events.append)
        async with second:
            result = await second.sale(200, VISA)
        assert result.approved
    assert sum(isinstance(e, SignedOn) for e in events) == 2


async def test_wrong_master_key_is_a_sign_on_error(host, store):
    config = fast_config(url_of(host), tmk_hex="00112233445566778899AABBCCDDEEFF")
    async with TerminalService(config, store) as service:
        with pytest.raises(SignOnError, match="working keys rejected"):
            await service.signon()
    assert store.journal.find(JournalQuery()) == []


async def test_restartable_in_process(host, store, events):
    service = TerminalService(fast_config(url_of(host)), store, on_event=events.append)
    await service.start()
    assert (await service.sale(100, VISA)).approved
    await service.stop()
    with pytest.raises(ServiceStateError):
        await service.sale(100, VISA)
    await service.start()
    second = await service.sale(100, VISA)
    assert second.approved
    await service.stop()
    assert sum(isinstance(e, SignedOn) for e in events) == 1  # keys came from the store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_host(host, store):
    dead = fast_config(f"tcp://127.0.0.1:{_free_port()}")
    async with TerminalService(dead, store) as service:  # start() tolerates it
        with pytest.raises(HostUnavailableError):  # no keys: the sign-on cannot happen
            await service.sale(100, VISA)
    assert store.journal.find(JournalQuery()) == []
    async with TerminalService(fast_config(url_of(host)), store) as service:
        await service.signon()
    async with TerminalService(dead, store) as service:  # keys, but no connection
        result = await service.sale(100, VISA)
    assert result.state is TxnState.FAILED
    assert not result.reversal_pending
    assert "refused" in result.error
    assert store.saf.pending() == []


async def test_crash_orphans_are_recovered(host, store):
    """Write what a killed process leaves behind, then start: nothing stays half done."""
    config = fast_config(url_of(host))
    read = VISA.read(chip_capable=True)
    rows = []
    for _ in range(2):
        stan, now = store.counters.next_stan(), datetime.now()
        request = build_request(
            TxnKind.SALE, config, stan=stan, local_time=now.replace(microsecond=0),
            batch=store.counters.batch(), amount=700, card=read,
        )  # fmt: skip
        entry = Runner.entry(request, store.counters.next_invoice(), read.masked_pan, "Visa")
        rows.append((store.journal.add(entry), request))
    (orphan, _), (queued, request) = rows
    store.saf.push_request(queued, build_reversal(request))  # killed after queueing
    events: list = []
    async with TerminalService(config, store, on_event=events.append):
        pass
    assert store.journal.get(orphan).state is TxnState.FAILED
    # never SENT, so never sent: the queued reversal is cancelled, not delivered
    assert store.journal.get(queued).state is TxnState.FAILED
    assert store.saf.pending() == []
    assert not [e for e in events if isinstance(e, ReversalDelivered)]


async def test_mpm_paid(terminal, store, host, events):
    session = await terminal.qr_mpm(1888)
    assert not session.done
    payload = parse_mpm(session.payload)
    assert payload.additional_data.terminal_label == "POSEMU01"
    assert payload.additional_data.reference_label == session.order_ref
    assert str(payload.amount) == "18.88"
    assert len(store.saf.pending()) == 1  # the order's reversal waits for the outcome
    result = await session.wait()  # the host pays on its own after 0.3 s
    assert result.approved
    assert result.order_ref == session.order_ref
    assert "QR SALE" in result.receipt_text
    assert store.saf.pending() == []


async def test_mpm_simulated_decline_and_pay(terminal):
    """The customer (simulated by the wiring, on its own connection) declines, then pays."""
    customer = QrCustomer(terminal.config, terminal.spec)
    declined = await terminal.qr_mpm(2000)
    assert await customer.decline(declined.order_ref, "51") == "00"
    result = await declined.wait()
    assert (result.approved, result.response_code) == (False, "51")
    paid = await terminal.qr_mpm(2100)
    assert await customer.pay(paid.order_ref) == "00"
    assert (await paid.wait()).approved


async def test_mpm_timeout_and_cancel_reverse_the_order(host, store):
    rules = rules_from_mapping({"mpm_pay_delay": 60})
    with EmbeddedHost("iso87ascii", rules) as slow:
        config = fast_config(url_of(slow), qr_timeout=0.4)
        async with TerminalService(config, store) as service:
            timed_out = await (await service.qr_mpm(1500)).wait()
            assert timed_out.state is TxnState.REVERSED
            assert "not paid" in timed_out.error
            cancelled = await (await service.qr_mpm(1600)).cancel()
            assert cancelled.state is TxnState.REVERSED
        states = {o.ref: o.state.value for o in slow.ledger.orders()}
        assert set(states.values()) == {"cancelled"}
    assert store.saf.pending() == []


async def test_mpm_cancel_after_a_cancelled_wait_delivers_the_reversal(host, store):
    """The TUI cancels the waiting task first (Escape), then the order: both must be safe."""
    rules = rules_from_mapping({"mpm_pay_delay": 60})
    with EmbeddedHost("iso87ascii", rules) as slow:
        async with TerminalService(fast_config(url_of(slow)), store) as service:
            session = await service.qr_mpm(1700)
            waiting = asyncio.create_task(session.wait())
            await asyncio.sleep(0.2)
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiting
            result = await session.cancel()
            assert result.state is TxnState.REVERSED
        assert {o.state.value for o in slow.ledger.orders()} == {"cancelled"}
    assert store.saf.pending() == []


async def test_mpm_declined_order_and_cpm(terminal, store):
    session = await terminal.qr_mpm(1005)  # x.05: the order itself is declined
    assert session.done
    assert session.result.response_code == "05"
    numeric = await terminal.qr_cpm(700, "281234567890123456")
    assert numeric.approved
    entry = store.journal.get(numeric.journal_id)
    assert "281234567890123456" not in entry.qr_ref
    assert entry.qr_ref.endswith("3456")


async def test_settlement_with_and_without_mismatch(terminal, store, host):
    for amount in (1000, 2000):
        await terminal.sale(amount, VISA)
    refund_src = await terminal.sale(3000, VISA)
    await terminal.refund(refund_src.journal_id, 500)
    first = await terminal.settle()
    assert (first.approved, first.uploaded, first.batch) == (True, 0, "000001")
    assert first.totals.debit_amount == 6000
    assert store.counters.batch() == "000002"

    a = await terminal.sale(1500, VISA)
    await terminal.sale(2500, VISA)
    store.journal.update(a.journal_id, state=TxnState.DECLINED)  # the terminal "forgot" it
    second = await terminal.settle()
    assert second.approved
    assert second.uploaded == 1
    assert second.totals.debit_amount == 2500
    closed = host.ledger.closed_batches()
    assert closed[("POSEMU01", "000002")].debit_amount == 2500
    assert store.counters.batch() == "000003"


async def test_customer_copy(host, store):
    config = fast_config(url_of(host), customer_copy=True, receipt_width=42)
    async with TerminalService(config, store) as service:
        result = await service.sale(100, VISA)
    assert "CUSTOMER COPY" in result.customer_receipt_text
    copies = store.journal.get(result.journal_id).copies
    assert sorted(c.copy for c in copies) == ["customer", "merchant"]


async def test_other_dialects(store, tmp_path):
    for spec in ("cup", "iso93ascii", "iso87binary"):
        with (
            EmbeddedHost(spec, FAST_RULES) as h,
            __import__("terminal.store").store.TerminalStore(tmp_path / spec) as s,
        ):
            async with TerminalService(fast_config(url_of(h), spec=spec), s) as service:
                sale = await service.sale(1234, CardInput.test_card("unionpay-debit-pin"), "1234")
                assert sale.approved, spec
                assert (await service.void(sale.journal_id)).approved
                late = await service.sale(1268, VISA)
                assert late.state is TxnState.REVERSED
                assert (await service.settle()).approved


async def test_no_card_data_at_rest(terminal, data_dir):
    await terminal.sale(100, CardInput.test_card("debit-pin"), "1234")
    await terminal.sale(1268, VISA)  # a reversal went through store-and-forward
    await terminal.sale(100, CardInput.track2(";5413330089010434=30121010000123000000?"))
    await terminal.sale(100, CardInput.manual("6011000990139424", "3012"))
    await terminal.qr_cpm(100, "281234567890123456")
    assert card_data_in_files(data_dir) == []


async def test_cancelled_operation_is_reversed(terminal, store, host):
    task = asyncio.create_task(terminal.sale(1299, VISA))  # x.99: the host never answers
    for _ in range(200):
        if store.journal.find(JournalQuery(states=(TxnState.SENT,))):
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (entry,) = store.journal.find(JournalQuery())
    assert entry.state is TxnState.TIMED_OUT
    assert len(store.saf.pending()) == 1
    assert await terminal.deliver_pending() == 0
    assert store.journal.get(entry.id).state is TxnState.REVERSED
    assert ledger_by_stan(host, entry.stan)[0].status is Status.REVERSED
    assert (await terminal.sale(100, VISA)).approved  # the link was not left with a stale answer


async def test_one_engine_per_data_dir(host, store):
    config = fast_config(url_of(host))
    async with TerminalService(config, store):
        other = TerminalService(config, store, lock_timeout=0.2)
        with pytest.raises(ServiceStateError, match="another posemu process"):
            await other.start()
        assert not other.running
