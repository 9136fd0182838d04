"""parse_amount / format_amount: strict cashier input, exact minor units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.errors import TerminalError
from terminal.core.money import MAX_AMOUNT_MINOR, AmountError, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "minor"),
    [("12", 1200), ("12.3", 1230), ("12.34", 1234), ("0", 0), ("0.05", 5), (" 7.5 ", 750)],
)
def test_parses_plain_decimals(text, minor):
    assert parse_amount(text) == minor


@pytest.mark.parametrize(
    "text", ["12.345", "-1", "abc", "1e3", "", "  ", "+1", "12.", ".5", "1,00", "١٢", "12.3.4"]
)
def test_rejects_anything_else_naming_the_input(text):
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert repr(text) in str(caught.value)
    assert isinstance(caught.value, TerminalError)
    assert caught.value.text == text


def test_exponent_zero_and_three():
    assert parse_amount("500", exponent=0) == 500
    with pytest.raises(AmountError, match="no decimal places"):
        parse_amount("500.0", exponent=0)
    assert parse_amount("1.234", exponent=3) == 1234


def test_rejects_amounts_beyond_field_4():
    assert parse_amount("9999999999.99") == MAX_AMOUNT_MINOR
    with pytest.raises(AmountError, match="exceeds"):
        parse_amount("10000000000")


def test_rejects_non_text():
    with pytest.raises(AmountError):
        parse_amount(12)  # type: ignore[arg-type]


@pytest.mark.parametrize(("minor", "text"), [(1234, "12.34"), (5, "0.05"), (-250, "-2.50")])
def test_format(minor, text):
    assert format_amount(minor) == text


def test_format_other_exponents():
    assert format_amount(500, 0) == "500"
    assert format_amount(1234, 3) == "1.234"
    with pytest.raises(AmountError):
        format_amount(True)  # type: ignore[arg-type]


@given(st.integers(0, MAX_AMOUNT_MINOR), st.sampled_from([0, 2, 3]))
def test_format_then_parse_round_trips(minor, exponent):
    assert parse_amount(format_amount(minor, exponent), exponent) == minor
