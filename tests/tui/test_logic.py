"""The TUI's pure logic, without a screen: keypad entry, references, journal filters,
the wording of results and progress, and the event relay."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iso8583.acquirer.model import Totals, TxnKind
from terminal.core.events import Connecting, EventBus, LinkFailed, ReversalDelivered, Sent, Waiting
from terminal.core.journal import TxnState
from terminal.engine.results import TxnRef, TxnResult
from terminal.tui.entry import (
    AmountBuffer,
    BadQueryError,
    BadReferenceError,
    PinBuffer,
    journal_query,
    parse_reference,
)
from terminal.tui.outcome import (
    LinkState,
    Operation,
    Tone,
    TxnDraft,
    describe_event,
    format_money,
    link_state_of,
    outcome_from_result,
)


def test_amount_buffer_types_like_a_pos():
    buffer = AmountBuffer()
    for key in "1234":
        buffer.press(key)
    assert (buffer.minor, buffer.text) == (1234, "12.34")
    buffer.backspace()
    assert buffer.text == "1.23"
    assert not buffer.press("x")
    buffer.clear()
    assert buffer.text == "0.00"
    buffer.press("0")
    assert buffer.minor == 0


@given(st.text(alphabet="0123456789", max_size=20))
def test_amount_buffer_never_exceeds_field_4(keys):
    buffer = AmountBuffer()
    for key in keys:
        buffer.press(key)
    assert 0 <= buffer.minor <= 999_999_999_999
    assert buffer.text.replace(".", "").lstrip("0") == str(buffer.minor).lstrip("0")


def test_pin_buffer_shows_stars_and_hands_the_pin_over_once():
    pin = PinBuffer()
    for key in "123456789012345":
        pin.press(key)
    assert len(pin) == 12  # at most 12 digits
    assert pin.masked == "*" * 12
    assert "1" not in repr(pin)
    assert pin.take() == "123456789012"
    assert len(pin) == 0
    assert not pin.complete


def test_draft_repr_hides_the_pin():
    draft = TxnDraft(Operation.SALE, 100, pin="1234")
    assert "1234" not in repr(draft)


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("12", TxnRef(stan="000012")),
        ("STAN 000012", TxnRef(stan="000012")),
        ("#7", TxnRef(journal_id=7)),
        ("id 7", TxnRef(journal_id=7)),
        ("507309000001", TxnRef(rrn="507309000001")),
        ("RRN 507309000001", TxnRef(rrn="507309000001")),
    ],
)
def test_parse_reference(text, ref):
    assert parse_reference(text) == ref


@pytest.mark.parametrize("text", ["", "1234567", "abc", "#x"])
def test_parse_reference_refuses_nonsense(text):
    with pytest.raises(BadReferenceError):
        parse_reference(text)


def test_journal_query_from_typed_filters():
    query = journal_query(
        since="2025-03-14", until="2025-03-14", amount="12.34", stan="5", state="approved"
    )
    assert query.since == datetime(2025, 3, 14)
    assert query.until == datetime(2025, 3, 14, 23, 59, 59)
    assert query.amount == 1234
    assert query.stan == "000005"
    assert query.states == (TxnState.APPROVED,)
    assert journal_query().since is None


@pytest.mark.parametrize(
    "filters", [{"since": "14/03/2025"}, {"amount": "1e3"}, {"stan": "1234567"}]
)
def test_journal_query_refuses_what_it_cannot_read(filters):
    with pytest.raises(BadQueryError):
        journal_query(**filters)


def _result(**values):
    base = {"kind": TxnKind.SALE, "approved": True, "response_code": "00", "amount": 1234}
    return TxnResult(**{**base, **values})


def test_outcome_wording():
    approved = outcome_from_result(Operation.SALE, _result(auth_code="A1B2C3", stan="000001"))
    assert (approved.title, approved.tone, approved.message) == (
        "APPROVED",
        Tone.SUCCESS,
        "Auth code A1B2C3",
    )
    assert dict(approved.rows)["Amount"] == "CNY 12.34"

    declined = outcome_from_result(
        Operation.SALE,
        _result(approved=False, response_code="51", response_text="INSUFFICIENT FUNDS"),
    )
    assert (declined.title, declined.message) == ("DECLINED", "51 INSUFFICIENT FUNDS")

    reversed_ = outcome_from_result(
        Operation.SALE,
        _result(approved=False, response_code="", state=TxnState.REVERSED, error="timeout"),
    )
    assert reversed_.title == "REVERSED"
    assert reversed_.reversal.startswith("Reversal delivered")
    queued = outcome_from_result(
        Operation.SALE,
        _result(approved=False, state=TxnState.TIMED_OUT, error="timeout", reversal_pending=True),
    )
    assert (queued.title, queued.reversal[:15]) == ("TIMED OUT", "Reversal queued")

    settled = outcome_from_result(
        Operation.SETTLEMENT,
        _result(kind=TxnKind.SETTLEMENT, amount=None, totals=Totals(2, 3000, 1, 500)),
    )
    assert settled.title == "SETTLED"
    assert dict(settled.rows)["Debits"] == "2 / CNY 30.00"


def test_money_and_events_read_well():
    assert format_money(5, "392") == "JPY 5"
    assert format_money(-150) == "CNY -1.50"
    assert describe_event(Sent(TxnKind.SALE, "000001", "0200")) == "Sent 0200 sale (STAN 000001)"
    assert "3 s" in describe_event(Waiting(TxnKind.SALE, "000001", 3.0))
    assert "answer 00" in describe_event(ReversalDelivered(1, "000001", "00"))
    assert link_state_of(Connecting("tcp://h:1")) is LinkState.CONNECTING
    assert link_state_of(LinkFailed("tcp://h:1", "refused")) is LinkState.OFFLINE
    assert link_state_of(Waiting(TxnKind.SALE, "1", 1.0)) is None


def test_event_bus_survives_a_failing_listener():
    """The TUI's events come from the core's bus (EventRelay is gone): a listener that
    raises neither breaks the publisher nor the other subscribers."""
    bus = EventBus()
    broken = bus.listen("broken", lambda _d: 1 / 0)
    seen = bus.subscribe("seen")
    bus.publish(Connecting("x"))
    seen.close()
    bus.publish(Connecting("y"))
    assert [d.event for d in seen.drain()] == [Connecting("x")]
    broken.close()


def test_public_api():
    import terminal.tui as tui

    assert set(tui.__all__) == {
        "THEMES",
        "PosApp",
        "PosBackend",
        "PosServices",
    }
    for name in tui.__all__:
        assert getattr(tui, name)
