"""The transaction state machine: the whole table, failure injection chains, and builders."""

from __future__ import annotations

from datetime import datetime

import pytest

from iso8583.acquirer.model import TxnKind
from terminal.config import TerminalConfig
from terminal.core.journal import JournalEntry, TxnState
from terminal.core.money import AmountError
from terminal.core.receipts import Copy, EntryMode, ReceiptKind, render_text
from terminal.core.transactions import (
    TRANSITIONS,
    IllegalTransitionError,
    TxnEvent,
    build_receipt,
    build_request,
    build_reversal,
    check_amount,
    entry_mode_code,
    entry_mode_from_code,
    next_state,
)
from terminal.engine.cardinput import CardInput

S, E = TxnState, TxnEvent
CONFIG = TerminalConfig()
NOW = datetime(2025, 3, 14, 15, 9, 26)


def run(events: list[TxnEvent], start: TxnState = S.CREATED) -> list[TxnState]:
    states = [start]
    for event in events:
        states.append(next_state(states[-1], event))
    return states


# "inject failure X in state Y -> expect this chain of states"
CHAINS = [
    ("approved", [E.SENT, E.APPROVED], [S.CREATED, S.SENT, S.APPROVED]),
    ("declined", [E.SENT, E.DECLINED], [S.CREATED, S.SENT, S.DECLINED]),
    ("no connection", [E.SEND_FAILED], [S.CREATED, S.FAILED]),
    (
        "timeout then reversal",
        [E.SENT, E.TIMEOUT, E.REVERSAL_ACKED],
        [S.CREATED, S.SENT, S.TIMED_OUT, S.REVERSED],
    ),
    (
        "disconnect then reversal",
        [E.SENT, E.DISCONNECT, E.REVERSAL_ACKED],
        [S.CREATED, S.SENT, S.TIMED_OUT, S.REVERSED],
    ),
    (
        "bad MAC then reversal",
        [E.SENT, E.BAD_MAC, E.REVERSAL_ACKED],
        [S.CREATED, S.SENT, S.TIMED_OUT, S.REVERSED],
    ),
    ("killed before send", [E.REVERSAL_ACKED], [S.CREATED, S.REVERSED]),
    ("killed while waiting", [E.SENT, E.REVERSAL_ACKED], [S.CREATED, S.SENT, S.REVERSED]),
    (
        "killed after approval, before clearing SAF",
        [E.SENT, E.APPROVED, E.REVERSAL_ACKED],
        [S.CREATED, S.SENT, S.APPROVED, S.REVERSED],
    ),
    (
        "QR order pending then paid",
        [E.SENT, E.PENDING, E.PENDING, E.APPROVED],
        [S.CREATED, S.SENT, S.SENT, S.SENT, S.APPROVED],
    ),
    ("balance unanswered", [E.SENT, E.ABANDONED], [S.CREATED, S.SENT, S.FAILED]),
    (
        "voided, void reversed",
        [E.SENT, E.APPROVED, E.VOIDED, E.VOID_REVERSED],
        [S.CREATED, S.SENT, S.APPROVED, S.VOIDED, S.APPROVED],
    ),
    ("late reversal ack after decline", [E.REVERSAL_ACKED], [S.DECLINED, S.DECLINED]),
    (
        "reversal acked twice",
        [E.REVERSAL_ACKED, E.REVERSAL_ACKED],
        [S.TIMED_OUT] + [S.REVERSED] * 2,
    ),
]


@pytest.mark.parametrize(
    ("events", "expected"), [(c[1], c[2]) for c in CHAINS], ids=[c[0] for c in CHAINS]
)
def test_chains(events, expected):
    assert run(events, expected[0]) == expected


ILLEGAL = [
    (S.TIMED_OUT, E.APPROVED),  # a late answer after the timeout must not resurrect it
    (S.REVERSED, E.APPROVED),
    (S.APPROVED, E.APPROVED),
    (S.DECLINED, E.VOIDED),
    (S.CREATED, E.APPROVED),  # an answer to a request never marked sent
    (S.FAILED, E.SENT),
    (S.VOIDED, E.VOIDED),
    (S.REVERSED, E.VOIDED),
    (S.SENT, E.SEND_FAILED),
]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_illegal_transitions_raise(state, event):
    with pytest.raises(IllegalTransitionError) as info:
        next_state(state, event)
    assert info.value.state is state
    assert info.value.event is event


def test_table_is_closed_over_the_enums():
    for state in TxnState:
        for event in TxnEvent:
            if (state, event) in TRANSITIONS:
                assert next_state(state, event) in TxnState
            else:
                with pytest.raises(IllegalTransitionError):
                    next_state(state, event)


def test_terminal_states_only_absorb_late_acks():
    for state in (S.DECLINED, S.FAILED, S.REVERSED):
        moves = {e for (s, e) in TRANSITIONS if s is state}
        assert moves == {E.REVERSAL_ACKED}
        assert next_state(state, E.REVERSAL_ACKED) is state


@pytest.mark.parametrize(
    ("mode", "pin", "code"),
    [
        (EntryMode.SWIPE, False, "902"),
        (EntryMode.SWIPE, True, "901"),
        (EntryMode.FALLBACK, True, "801"),
        (EntryMode.MANUAL, False, "012"),
        (EntryMode.QR, False, "032"),
    ],
)
def test_entry_modes(mode, pin, code):
    assert entry_mode_code(mode, pin_entered=pin) == code
    assert entry_mode_from_code(code) is mode


def test_check_amount():
    assert check_amount(1) == 1
    for bad in (0, -1, 10**12, True, 1.5, "12"):
        with pytest.raises(AmountError):
            check_amount(bad)
    assert check_amount(0, allow_zero=True) == 0


def test_build_request_swipe_and_manual():
    card = CardInput.test_card("debit-pin").read(chip_capable=True)
    req = build_request(
        TxnKind.SALE,
        CONFIG,
        stan="000007",
        local_time=NOW,
        batch="000001",
        amount=1234,
        card=card,
        pin_block=bytes(8),
    )
    assert req.entry_mode == "901"
    assert req.track2 is not None
    assert "=" in req.track2
    assert req.expiry is None
    assert req.terminal_id == "POSEMU01"
    manual = CardInput.manual("4761739001010010", "3012").read(chip_capable=True)
    req = build_request(
        TxnKind.SALE, CONFIG, stan="000008", local_time=NOW, batch="000001", amount=5, card=manual
    )
    assert (req.entry_mode, req.track2, req.expiry) == ("012", None, "3012")
    assert "4761739001010010" not in repr(req)


def test_reversal_keeps_stan_and_drops_card_data():
    card = CardInput.test_card("debit-pin").read(chip_capable=True)
    sale = build_request(
        TxnKind.SALE,
        CONFIG,
        stan="000042",
        local_time=NOW,
        batch="000003",
        amount=999,
        card=card,
        pin_block=bytes(8),
    )
    rev = build_reversal(sale)
    assert rev.kind is TxnKind.REVERSAL
    assert rev.stan == "000042"
    assert rev.original is not None
    assert rev.original.stan == "000042"
    assert rev.original.kind is TxnKind.SALE
    assert rev.original.amount == 999
    assert (rev.pan, rev.track2, rev.pin_block, rev.expiry) == (None, None, None, None)
    repeat = build_reversal(rev, repeat=True)
    assert repeat.repeat
    assert repeat.stan == "000042"
    assert repeat.original == rev.original


def _entry(**changes):
    base = dict(
        kind=TxnKind.SALE,
        state=S.APPROVED,
        stan="000042",
        batch="000003",
        invoice="000010",
        local_time=NOW,
        terminal_id="POSEMU01",
        merchant_id="POSEMU000000001",
        amount=1234,
        masked_pan="476173******0010",
        brand="Visa",
        entry_mode="902",
        response_code="00",
        response_text="APPROVED",
        auth_code="AB12CD",
        rrn="512345000001",
        id=1,
    )
    base.update(changes)
    return JournalEntry(**base)


def test_build_receipt_sale_and_void():
    receipt = build_receipt(_entry(), CONFIG)
    assert receipt.kind is ReceiptKind.SALE
    assert receipt.copy is Copy.MERCHANT
    assert receipt.entry_mode is EntryMode.SWIPE
    assert receipt.result.approved
    text = render_text(receipt)
    assert "476173******0010" in text
    assert "APPROVED" in text
    void = build_receipt(
        _entry(kind=TxnKind.VOID, stan="000043", rrn="512345000002"),
        CONFIG,
        original=_entry(),
        copy=Copy.CUSTOMER,
    )
    assert void.kind is ReceiptKind.VOID
    assert void.original is not None
    assert void.original.stan == "000042"


def test_build_receipt_declined_and_qr():
    declined = build_receipt(
        _entry(
            state=S.DECLINED,
            response_code="51",
            response_text="INSUFFICIENT FUNDS",
            auth_code="",
            rrn="",
        ),
        CONFIG,
    )
    assert not declined.result.approved
    assert declined.result.response_code == "51"
    qr = build_receipt(
        _entry(kind=TxnKind.QR_ORDER, masked_pan="", brand="", entry_mode="032", qr_ref="ORD1"),
        CONFIG,
    )
    assert qr.kind is ReceiptKind.QR_SALE
    assert qr.qr is not None
    assert qr.masked_pan is None
