"""The named test-card catalogue (terminal.core.testcards)."""

from __future__ import annotations

from datetime import date

import pytest

from terminal.core.cards import (
    Brand,
    SwipeDecision,
    detect_brand,
    luhn_valid,
    swipe_decision,
)
from terminal.core.errors import TerminalError, UnknownCardError
from terminal.core.testcards import CARDS, CATALOGUE, TEST_PIN, TestCard, get_card
from terminal.core.tracks import parse_swipe, parse_track1, parse_track2

REQUIRED = {
    "visa-approve": ("4761739001010010", Brand.VISA, "00"),
    "mc-approve": ("5413330089010434", Brand.MASTERCARD, "00"),
    "mc2-approve": ("2223000048400011", Brand.MASTERCARD, "00"),
    "amex-approve": ("374245455400001", Brand.AMEX, "00"),
    "discover-approve": ("6011000990139424", Brand.DISCOVER, "00"),
    "jcb-approve": ("3566002020360505", Brand.JCB, "00"),
    "diners-approve": ("36070500001020", Brand.DINERS, "00"),
    "unionpay-approve": ("6250946000000016", Brand.UNIONPAY, "00"),
    "visa-decline": (None, Brand.VISA, "05"),
    "visa-expired": (None, Brand.VISA, "54"),
    "visa-blocked": (None, Brand.VISA, "43"),
    "debit-pin": (None, None, "00"),
    "unionpay-debit-pin": (None, Brand.UNIONPAY, "00"),
    "chip-visa": (None, Brand.VISA, "00"),
    "luhn-bad": (None, None, "14"),
}

FAR_FUTURE_TODAY = date(2030, 12, 31)


def test_catalogue_names_are_unique_and_complete():
    assert len(CATALOGUE) == len(CARDS)
    assert set(CATALOGUE) == set(REQUIRED)
    assert all(CATALOGUE[card.name] is card for card in CARDS)


def test_every_card_has_its_own_pan():
    assert len({card.pan for card in CARDS}) == len(CARDS)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_card_matches_spec(name):
    card = get_card(name)
    pan, brand, response = REQUIRED[name]
    if pan is not None:
        assert card.pan == pan
    if brand is not None:
        assert card.brand is brand
    assert card.expected_response == response
    assert detect_brand(card.pan) is card.brand
    assert card.note


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.name)
def test_luhn_valid_except_luhn_bad(card):
    assert card.luhn_valid is (card.name != "luhn-bad")
    assert luhn_valid(card.pan) is card.luhn_valid


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.name)
def test_brand_prefix_of_name_agrees(card):
    prefixes = {
        "visa": Brand.VISA,
        "mc": Brand.MASTERCARD,
        "mc2": Brand.MASTERCARD,
        "amex": Brand.AMEX,
        "discover": Brand.DISCOVER,
        "jcb": Brand.JCB,
        "diners": Brand.DINERS,
        "unionpay": Brand.UNIONPAY,
    }
    head = card.name.split("-")[0]
    if head in prefixes:
        assert card.brand is prefixes[head]


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.name)
def test_expiry(card):
    if card.name == "visa-expired":
        assert card.expiry.yymm == "2001"
        assert card.expiry.is_expired(date(2020, 2, 1))
    else:
        assert card.expiry.yymm == "3012"
        assert not card.expiry.is_expired(FAR_FUTURE_TODAY)


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.name)
def test_tracks_parse_back(card):
    t1, t2 = parse_track1(card.track1()), parse_track2(card.track2())
    assert t1 == card.track1_data()
    assert t2 == card.track2_data()
    assert (t1.pan, t2.pan) == (card.pan, card.pan)
    assert t1.name == card.cardholder
    assert t2.discretionary == card.discretionary != ""
    assert t1.expiry == t2.expiry == card.expiry
    assert t1.service_code == t2.service_code == card.service_code
    assert parse_track2(card.track2(with_lrc=False)) == t2
    for with_lrc in (False, True):
        swipe = parse_swipe(card.reader_output(with_lrc=with_lrc))
        assert (swipe.track1, swipe.track2) == (t1, t2)


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.name)
def test_pin_cards(card):
    if card.name in ("debit-pin", "unionpay-debit-pin"):
        assert card.pin == TEST_PIN == "1234"
        assert card.pin_required
        assert card.service_code.pin_required
        assert not card.service_code.chip_capable
    else:
        assert card.pin is None
        assert not card.pin_required
        assert not card.service_code.pin_required


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.name)
def test_swipe_decision_on_a_chip_terminal(card):
    decision = swipe_decision(card.service_code, terminal_chip_capable=True, chip_failed=False)
    expected = SwipeDecision.INSERT_CHIP if card.name == "chip-visa" else SwipeDecision.MAGSTRIPE
    assert decision is expected


def test_chip_visa_falls_back_after_a_chip_failure():
    card = get_card("chip-visa")
    assert card.service_code.code == "201"
    decision = swipe_decision(card.service_code, terminal_chip_capable=True, chip_failed=True)
    assert decision is SwipeDecision.FALLBACK
    assert decision.pos_entry_mode == "80"


def test_unknown_card_lists_known_names():
    with pytest.raises(UnknownCardError) as exc:
        get_card("visa-aprove")
    err = exc.value
    assert isinstance(err, TerminalError)
    assert isinstance(err, LookupError)
    assert err.name == "visa-aprove"
    assert err.known == tuple(sorted(CATALOGUE))
    for name in CATALOGUE:
        assert name in str(err)


def test_catalogue_is_read_only():
    with pytest.raises(TypeError):
        CATALOGUE["new"] = CARDS[0]  # type: ignore[index]


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.name)
def test_repr_hides_pan_and_pin(card):
    text = repr(card) + str(card)
    assert card.pan not in text
    assert card.masked_pan in text
    assert "pin=" not in text
    assert card.discretionary not in text


def test_not_collected_by_pytest():
    assert TestCard.__test__ is False
