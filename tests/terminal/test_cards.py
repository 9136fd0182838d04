"""PAN, Luhn, brand, expiry, service code and swipe policy (terminal.core.cards)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.cards import (
    AllowedServices,
    Authorization,
    Brand,
    Expiry,
    Interchange,
    PinRequirement,
    ServiceCode,
    SwipeDecision,
    detect_brand,
    is_ascii_digits,
    is_expired,
    luhn_check_digit,
    luhn_valid,
    masked_pan,
    parse_expiry,
    swipe_decision,
    validate_pan,
)
from terminal.core.errors import CardDataError, TerminalError

digits = st.text(alphabet="0123456789", min_size=1, max_size=30)
pans = st.integers(12, 19).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n))


# --- Luhn ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4761739001010010", True),
        ("5413330089010434", True),
        ("374245455400001", True),
        ("79927398713", True),
        ("79927398710", False),
        ("4761739001010011", False),
        ("00", True),
        ("0", False),  # fewer than 2 digits is never a number with a check digit
        ("", False),
        ("4761 7390", False),
        ("٤٧٦١٧٣٩٠٠١٠١٠٠١٠", False),  # Arabic-Indic digits are not card digits
    ],
)
def test_luhn_valid_golden(number, valid):
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("partial", "check"),
    [
        ("7992739871", "3"),
        ("476173900101001", "0"),
        ("0", "0"),
        ("1", "8"),
        ("37424545540000", "1"),
    ],
)
def test_luhn_check_digit_golden(partial, check):
    assert luhn_check_digit(partial) == check


@pytest.mark.parametrize(("partial", "offset"), [("", 0), ("12a4", 2), ("1²", 1)])
def test_luhn_check_digit_rejects_non_digits(partial, offset):
    with pytest.raises(CardDataError) as exc:
        luhn_check_digit(partial)
    assert exc.value.offset == offset


@given(digits)
def test_appending_check_digit_makes_number_valid(partial):
    assert luhn_valid(partial + luhn_check_digit(partial))


@given(digits, st.data())
def test_luhn_detects_every_single_digit_error(partial, data):
    number = partial + luhn_check_digit(partial)
    pos = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[pos]]))
    assert not luhn_valid(number[:pos] + wrong + number[pos + 1 :])


# --- PAN ----------------------------------------------------------------------------------


def test_validate_pan_returns_the_pan():
    assert validate_pan("4761739001010010") == "4761739001010010"
    assert validate_pan("4761739001010011", check_luhn=False) == "4761739001010011"


@pytest.mark.parametrize(
    ("pan", "offset", "reason"),
    [
        ("47617390010", 11, "11 digits"),
        ("47617390010100101234", 19, "longer than 19"),
        ("4761 739001010010", 4, "expected a digit"),
        ("476173900101001٠", 15, "expected a digit"),
        ("4761739001010011", 15, "Luhn"),
        ("", 0, "0 digits"),
    ],
)
def test_validate_pan_errors(pan, offset, reason):
    with pytest.raises(CardDataError) as exc:
        validate_pan(pan)
    assert exc.value.offset == offset
    assert reason in exc.value.reason
    assert exc.value.track is None


@pytest.mark.parametrize(
    ("pan", "masked"),
    [
        ("4761739001010010", "476173******0010"),
        ("6250946000000016123", "625094*********6123"),
        ("374245455400001", "37424******0001"),
        ("36070500001020", "3607******1020"),
        ("123456789012", "12******9012"),
        ("abc", "***"),
        ("12345678", "********"),
        ("not-a-pan-1234", "**********1234"),
        ("", ""),
    ],
)
def test_masked_pan_golden(pan, masked):
    assert masked_pan(pan) == masked


@given(pans)
def test_masked_pan_hides_at_least_six_digits(pan):
    masked = masked_pan(pan)
    assert len(masked) == len(pan)
    assert masked.endswith(pan[-4:])
    assert masked.count("*") >= 6
    assert pan.startswith(masked.split("*")[0])
    assert len(masked.split("*")[0]) <= 6


def test_is_ascii_digits():
    assert is_ascii_digits("0123456789")
    assert not is_ascii_digits("")
    assert not is_ascii_digits("12²")


# --- brand --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pan", "brand"),
    [
        ("4761739001010010", Brand.VISA),
        ("4", Brand.VISA),
        ("5100000000000000", Brand.MASTERCARD),
        ("5599999999999999", Brand.MASTERCARD),
        ("5000000000000000", Brand.UNKNOWN),
        ("5600000000000000", Brand.UNKNOWN),
        ("2220999999999999", Brand.UNKNOWN),
        ("2221000000000000", Brand.MASTERCARD),
        ("2720999999999999", Brand.MASTERCARD),
        ("2721000000000000", Brand.UNKNOWN),
        ("340000000000000", Brand.AMEX),
        ("370000000000000", Brand.AMEX),
        ("350000000000000", Brand.UNKNOWN),
        ("6011000990139424", Brand.DISCOVER),
        ("6010000000000000", Brand.UNKNOWN),
        ("6440000000000000", Brand.DISCOVER),
        ("6490000000000000", Brand.DISCOVER),
        ("6430000000000000", Brand.UNKNOWN),
        ("6500000000000000", Brand.DISCOVER),
        ("3528000000000000", Brand.JCB),
        ("3589000000000000", Brand.JCB),
        ("3527000000000000", Brand.UNKNOWN),
        ("3590000000000000", Brand.UNKNOWN),
        ("30000000000000", Brand.DINERS),
        ("30500000000000", Brand.DINERS),
        ("30600000000000", Brand.UNKNOWN),
        ("30950000000000", Brand.DINERS),
        ("36070500001020", Brand.DINERS),
        ("38000000000000", Brand.DINERS),
        ("39000000000000", Brand.DINERS),
        ("6250946000000016", Brand.UNIONPAY),
        # Discover/UnionPay co-brand range: a CN-focused POS routes it as UnionPay.
        ("6221260000000000", Brand.UNIONPAY),
        ("6229250000000000", Brand.UNIONPAY),
        ("8100000000000000", Brand.UNIONPAY),
        ("8171999999999999", Brand.UNIONPAY),
        ("8172000000000000", Brand.UNKNOWN),
        ("8099000000000000", Brand.UNKNOWN),
        ("", Brand.UNKNOWN),
        ("4abc", Brand.UNKNOWN),
        ("١٢٣٤٥٦", Brand.UNKNOWN),
    ],
)
def test_detect_brand(pan, brand):
    assert detect_brand(pan) is brand


def test_brand_display_names():
    assert Brand.AMEX.display_name == "American Express"
    assert Brand.UNIONPAY.display_name == "UnionPay"
    assert len({b.display_name for b in Brand}) == len(Brand)


def test_bin_ranges_of_equal_length_do_not_overlap():
    from terminal.core.cards import _BIN_RANGES

    for a in _BIN_RANGES:
        assert len(a.low) == len(a.high)
        assert a.low <= a.high
        for b in _BIN_RANGES:
            if a is not b and len(a.low) == len(b.low):
                assert a.high < b.low or b.high < a.low


# --- expiry -------------------------------------------------------------------------------


def test_parse_expiry():
    exp = parse_expiry("3012")
    assert exp == Expiry(2030, 12)
    assert exp.yymm == "3012"
    assert str(exp) == "12/30"
    assert Expiry.parse("0001") == Expiry(2000, 1)
    assert Expiry(2024, 2).last_valid_day == date(2024, 2, 29)
    assert Expiry(2030, 12) > Expiry(2030, 11)


@pytest.mark.parametrize(
    ("yymm", "offset", "reason"),
    [
        ("3013", 2, "month 13"),
        ("3000", 2, "month 00"),
        ("301", 3, "4 digits"),
        ("30123", 4, "4 digits"),
        ("", 0, "4 digits"),
        ("3O12", 1, "digit"),
        ("30١2", 2, "digit"),
    ],
)
def test_parse_expiry_errors(yymm, offset, reason):
    with pytest.raises(CardDataError) as exc:
        parse_expiry(yymm)
    assert exc.value.offset == offset
    assert reason in exc.value.reason


@pytest.mark.parametrize(("year", "month"), [(1999, 12), (2100, 1), (2030, 0), (2030, 13)])
def test_expiry_constructor_validates(year, month):
    with pytest.raises(CardDataError):
        Expiry(year, month)


@pytest.mark.parametrize(
    ("expiry", "today", "expired"),
    [
        ("3012", date(2030, 12, 31), False),  # valid through the end of the month
        ("3012", date(2031, 1, 1), True),
        ("2402", date(2024, 2, 29), False),
        ("2402", date(2024, 3, 1), True),
        ("2001", date(2019, 12, 31), False),
        ("2001", date(2025, 6, 1), True),
        (Expiry(2030, 12), date(2030, 12, 1), False),
    ],
)
def test_is_expired(expiry, today, expired):
    assert is_expired(expiry, today) is expired


# --- service code -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "interchange", "authorization", "services", "pin", "chip", "pin_required"),
    [
        ("101", Interchange.INTERNATIONAL, Authorization.NORMAL,
         AllowedServices.NO_RESTRICTIONS, PinRequirement.NONE, False, False),
        ("201", Interchange.INTERNATIONAL_ICC, Authorization.NORMAL,
         AllowedServices.NO_RESTRICTIONS, PinRequirement.NONE, True, False),
        ("120", Interchange.INTERNATIONAL, Authorization.BY_ISSUER,
         AllowedServices.NO_RESTRICTIONS, PinRequirement.REQUIRED, False, True),
        ("220", Interchange.INTERNATIONAL_ICC, Authorization.BY_ISSUER,
         AllowedServices.NO_RESTRICTIONS, PinRequirement.REQUIRED, True, True),
        ("502", Interchange.NATIONAL, Authorization.NORMAL,
         AllowedServices.GOODS_AND_SERVICES, PinRequirement.NONE, False, False),
        ("520", Interchange.NATIONAL, Authorization.BY_ISSUER,
         AllowedServices.NO_RESTRICTIONS, PinRequirement.REQUIRED, False, True),
        ("606", Interchange.NATIONAL_ICC, Authorization.NORMAL,
         AllowedServices.NO_RESTRICTIONS, PinRequirement.IF_PED_PRESENT, True, False),
        ("703", Interchange.PRIVATE, Authorization.NORMAL,
         AllowedServices.ATM_ONLY, PinRequirement.REQUIRED, False, True),
        ("944", Interchange.TEST, Authorization.BY_ISSUER_UNLESS_AGREED,
         AllowedServices.CASH_ONLY, PinRequirement.NONE, False, False),
        ("105", Interchange.INTERNATIONAL, Authorization.NORMAL,
         AllowedServices.GOODS_AND_SERVICES, PinRequirement.REQUIRED, False, True),
        ("107", Interchange.INTERNATIONAL, Authorization.NORMAL,
         AllowedServices.GOODS_AND_SERVICES, PinRequirement.IF_PED_PRESENT, False, False),
        ("318", Interchange.RESERVED, Authorization.RESERVED,
         AllowedServices.RESERVED, PinRequirement.NONE, False, False),
    ],
)  # fmt: skip
def test_service_code_interpretation(
    code, interchange, authorization, services, pin, chip, pin_required
):
    sc = ServiceCode(code)
    assert sc.interchange is interchange
    assert sc.authorization is authorization
    assert sc.services is services
    assert sc.pin_requirement is pin
    assert sc.chip_capable is chip
    assert sc.pin_required is pin_required
    assert str(sc) == code


@pytest.mark.parametrize(("code", "offset"), [("", 0), ("12", 2), ("1234", 3), ("1a1", 1)])
def test_service_code_errors(code, offset):
    with pytest.raises(CardDataError) as exc:
        ServiceCode(code)
    assert exc.value.offset == offset


# --- swipe decision -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "terminal_chip", "chip_failed", "decision", "entry_mode"),
    [
        ("201", True, False, SwipeDecision.INSERT_CHIP, "05"),
        ("201", True, True, SwipeDecision.FALLBACK, "80"),
        ("201", False, False, SwipeDecision.MAGSTRIPE, "90"),
        ("201", False, True, SwipeDecision.MAGSTRIPE, "90"),
        ("226", True, False, SwipeDecision.INSERT_CHIP, "05"),
        ("601", True, False, SwipeDecision.INSERT_CHIP, "05"),
        ("620", True, True, SwipeDecision.FALLBACK, "80"),
        ("101", True, False, SwipeDecision.MAGSTRIPE, "90"),
        ("101", True, True, SwipeDecision.MAGSTRIPE, "90"),
        ("120", False, False, SwipeDecision.MAGSTRIPE, "90"),
        ("520", True, False, SwipeDecision.MAGSTRIPE, "90"),
        ("701", True, False, SwipeDecision.MAGSTRIPE, "90"),
    ],
)
def test_swipe_decision(code, terminal_chip, chip_failed, decision, entry_mode):
    for sc in (code, ServiceCode(code)):
        got = swipe_decision(sc, terminal_chip_capable=terminal_chip, chip_failed=chip_failed)
        assert got is decision
        assert got.pos_entry_mode == entry_mode
        assert got.accepts_swipe is (decision is not SwipeDecision.INSERT_CHIP)


def test_swipe_decision_rejects_bad_service_code():
    with pytest.raises(CardDataError):
        swipe_decision("2x1", terminal_chip_capable=True, chip_failed=False)


def test_card_data_error_is_a_terminal_error_with_context():
    err = CardDataError("expected '=' separator", offset=17, track=2)
    assert isinstance(err, TerminalError)
    assert isinstance(err, ValueError)
    assert str(err) == "track 2 offset 17: expected '=' separator"
    assert str(CardDataError("bad", track=1)) == "track 1: bad"
    assert str(CardDataError("bad", offset=3)) == "offset 3: bad"
    assert str(CardDataError("bad")) == "bad"
