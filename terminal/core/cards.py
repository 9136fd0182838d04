"""Card identity rules: PAN and Luhn, brand from BIN ranges, expiry, service code, swipe policy.

Pure functions and frozen values only. Anything that would display a PAN goes through
:func:`masked_pan`, so reprs and error messages never carry a full card number.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import Enum

from iso8583.masking import luhn_ok, mask_pan
from terminal.core.errors import CardDataError

__all__ = [
    "PAN_MAX_LENGTH",
    "PAN_MIN_LENGTH",
    "AllowedServices",
    "Authorization",
    "Brand",
    "Expiry",
    "Interchange",
    "PinRequirement",
    "ServiceCode",
    "SwipeDecision",
    "detect_brand",
    "is_ascii_digits",
    "is_expired",
    "luhn_check_digit",
    "luhn_valid",
    "masked_pan",
    "parse_expiry",
    "swipe_decision",
    "validate_pan",
]

PAN_MIN_LENGTH = 12
PAN_MAX_LENGTH = 19

_DIGITS = frozenset("0123456789")


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits (``str.isdigit`` also accepts '²', '٣')."""
    return bool(text) and all(c in _DIGITS for c in text)


# --- Luhn ---------------------------------------------------------------------------------


def luhn_valid(number: str) -> bool:
    """True when ``number`` (at least 2 ASCII digits) passes the Luhn mod-10 check."""
    return len(number) >= 2 and luhn_ok(number)


def luhn_check_digit(partial: str) -> str:
    """The digit that, appended to ``partial``, makes it Luhn-valid."""
    for i, c in enumerate(partial):
        if c not in _DIGITS:
            raise CardDataError(f"expected a digit, got {c!r}", offset=i)
    if not partial:
        raise CardDataError("cannot compute a check digit of an empty number", offset=0)
    return next(d for d in "0123456789" if luhn_ok(partial + d))


# --- PAN ----------------------------------------------------------------------------------


def validate_pan(pan: str, *, check_luhn: bool = True) -> str:
    """Return ``pan`` if it is 12-19 ASCII digits (and Luhn-valid when asked), else raise.

    Track parsing passes ``check_luhn=False``: a Luhn failure is the host's call (response
    14), not a reason to refuse reading the card.
    """
    for i, c in enumerate(pan[: PAN_MAX_LENGTH + 1]):
        if c not in _DIGITS:
            raise CardDataError(f"PAN: expected a digit, got {c!r}", offset=i)
    if len(pan) > PAN_MAX_LENGTH:
        raise CardDataError(f"PAN longer than {PAN_MAX_LENGTH} digits", offset=PAN_MAX_LENGTH)
    if len(pan) < PAN_MIN_LENGTH:
        raise CardDataError(
            f"PAN has {len(pan)} digits, expected {PAN_MIN_LENGTH}-{PAN_MAX_LENGTH}",
            offset=len(pan),
        )
    if check_luhn and not luhn_valid(pan):
        raise CardDataError("PAN fails the Luhn check", offset=len(pan) - 1)
    return pan


def masked_pan(pan: str) -> str:
    """Mask a PAN for display (first 6 / last 4 at most, at least 6 hidden); never raises."""
    return mask_pan(pan)


# --- Brand --------------------------------------------------------------------------------


class Brand(Enum):
    """Card scheme; the value is the display name printed on receipts."""

    VISA = "Visa"
    MASTERCARD = "Mastercard"
    AMEX = "American Express"
    DISCOVER = "Discover"
    JCB = "JCB"
    DINERS = "Diners Club"
    UNIONPAY = "UnionPay"
    UNKNOWN = "Unknown"

    @property
    def display_name(self) -> str:
        """Human-readable scheme name."""
        return self.value


@dataclass(frozen=True)
class _BinRange:
    """Inclusive prefix range; ``low`` and ``high`` have the same number of digits."""

    low: str
    high: str
    brand: Brand

    def matches(self, pan: str) -> bool:
        prefix = pan[: len(self.low)]
        return len(prefix) == len(self.low) and self.low <= prefix <= self.high


# Longest prefix wins. 622126-622925 is Discover co-branded with UnionPay: a CN-focused
# POS routes it as UnionPay, so it is deliberately left out and falls under "62".
_BIN_RANGES: tuple[_BinRange, ...] = tuple(
    sorted(
        (
            _BinRange("4", "4", Brand.VISA),
            _BinRange("51", "55", Brand.MASTERCARD),
            _BinRange("2221", "2720", Brand.MASTERCARD),
            _BinRange("34", "34", Brand.AMEX),
            _BinRange("37", "37", Brand.AMEX),
            _BinRange("6011", "6011", Brand.DISCOVER),
            _BinRange("644", "649", Brand.DISCOVER),
            _BinRange("65", "65", Brand.DISCOVER),
            _BinRange("3528", "3589", Brand.JCB),
            _BinRange("300", "305", Brand.DINERS),
            _BinRange("3095", "3095", Brand.DINERS),
            _BinRange("36", "36", Brand.DINERS),
            _BinRange("38", "39", Brand.DINERS),
            _BinRange("62", "62", Brand.UNIONPAY),
            _BinRange("8100", "8171", Brand.UNIONPAY),
        ),
        key=lambda r: -len(r.low),
    )
)


def detect_brand(pan: str) -> Brand:
    """Scheme of a PAN (or of a bare BIN) by its most specific matching prefix range."""
    if not is_ascii_digits(pan[:6]):
        return Brand.UNKNOWN
    for rng in _BIN_RANGES:
        if rng.matches(pan):
            return rng.brand
    return Brand.UNKNOWN


# --- Expiry -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Expiry:
    """Card expiry month; the card is valid through the last day of it.

    Stripes hold YYMM only; every YY maps to 20YY (no card in use expired before 2000).
    """

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 2000 <= self.year <= 2099:
            raise CardDataError(f"expiry year {self.year} outside 2000-2099")
        if not 1 <= self.month <= 12:
            raise CardDataError(f"invalid expiry month {self.month:02d}")

    @classmethod
    def parse(cls, yymm: str) -> Expiry:
        """Parse the 4-digit ``YYMM`` form used on stripes and in ISO 8583 field 14."""
        for i, c in enumerate(yymm[:4]):
            if c not in _DIGITS:
                raise CardDataError(f"expiry: expected a digit, got {c!r}", offset=i)
        if len(yymm) != 4:
            raise CardDataError("expiry must be 4 digits YYMM", offset=min(len(yymm), 4))
        month = int(yymm[2:])
        if not 1 <= month <= 12:
            raise CardDataError(f"invalid expiry month {yymm[2:]}", offset=2)
        return cls(2000 + int(yymm[:2]), month)

    @property
    def yymm(self) -> str:
        """The stripe / field-14 form."""
        return f"{self.year % 100:02d}{self.month:02d}"

    @property
    def last_valid_day(self) -> date:
        """Last day on which the card is still valid."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def is_expired(self, today: date) -> bool:
        """True once ``today`` is past the end of the expiry month."""
        return (today.year, today.month) > (self.year, self.month)

    def __str__(self) -> str:
        return f"{self.month:02d}/{self.year % 100:02d}"


def parse_expiry(yymm: str) -> Expiry:
    """Parse ``YYMM``; see :meth:`Expiry.parse`."""
    return Expiry.parse(yymm)


def is_expired(expiry: Expiry | str, today: date) -> bool:
    """True once ``today`` is past the end of the expiry month (``Expiry`` or ``YYMM``)."""
    exp = expiry if isinstance(expiry, Expiry) else Expiry.parse(expiry)
    return exp.is_expired(today)


# --- Service code -------------------------------------------------------------------------


class Interchange(Enum):
    """First service-code digit: where the card may be used and whether it has a chip."""

    INTERNATIONAL = "international"
    INTERNATIONAL_ICC = "international, chip"
    NATIONAL = "national only"
    NATIONAL_ICC = "national only, chip"
    PRIVATE = "private"
    TEST = "test"
    RESERVED = "reserved"


class Authorization(Enum):
    """Second service-code digit: authorization processing."""

    NORMAL = "normal"
    BY_ISSUER = "online to issuer"
    BY_ISSUER_UNLESS_AGREED = "online to issuer unless bilateral agreement"
    RESERVED = "reserved"


class AllowedServices(Enum):
    """Third service-code digit, services half."""

    NO_RESTRICTIONS = "no restrictions"
    GOODS_AND_SERVICES = "goods and services only"
    ATM_ONLY = "ATM only"
    CASH_ONLY = "cash only"
    RESERVED = "reserved"


class PinRequirement(Enum):
    """Third service-code digit, PIN half (reserved digits 8 and 9 count as NONE)."""

    REQUIRED = "PIN required"
    IF_PED_PRESENT = "prompt for PIN if PIN pad present"
    NONE = "no PIN requirement"


_INTERCHANGE = {
    "1": Interchange.INTERNATIONAL,
    "2": Interchange.INTERNATIONAL_ICC,
    "5": Interchange.NATIONAL,
    "6": Interchange.NATIONAL_ICC,
    "7": Interchange.PRIVATE,
    "9": Interchange.TEST,
}
_AUTHORIZATION = {
    "0": Authorization.NORMAL,
    "2": Authorization.BY_ISSUER,
    "4": Authorization.BY_ISSUER_UNLESS_AGREED,
}
_SERVICES = {
    "0": AllowedServices.NO_RESTRICTIONS,
    "1": AllowedServices.NO_RESTRICTIONS,
    "2": AllowedServices.GOODS_AND_SERVICES,
    "3": AllowedServices.ATM_ONLY,
    "4": AllowedServices.CASH_ONLY,
    "5": AllowedServices.GOODS_AND_SERVICES,
    "6": AllowedServices.NO_RESTRICTIONS,
    "7": AllowedServices.GOODS_AND_SERVICES,
}
_PIN = {
    "0": PinRequirement.REQUIRED,
    "3": PinRequirement.REQUIRED,
    "5": PinRequirement.REQUIRED,
    "6": PinRequirement.IF_PED_PRESENT,
    "7": PinRequirement.IF_PED_PRESENT,
}


@dataclass(frozen=True)
class ServiceCode:
    """The 3-digit ISO/IEC 7813 service code. Any 3 digits are accepted (reserved values
    map to ``RESERVED``) because refusing to read an odd card is the issuer's call, not ours.
    """

    code: str

    def __post_init__(self) -> None:
        for i, c in enumerate(self.code[:3]):
            if c not in _DIGITS:
                raise CardDataError(f"service code: expected a digit, got {c!r}", offset=i)
        if len(self.code) != 3:
            raise CardDataError("service code must be 3 digits", offset=min(len(self.code), 3))

    @property
    def interchange(self) -> Interchange:
        return _INTERCHANGE.get(self.code[0], Interchange.RESERVED)

    @property
    def authorization(self) -> Authorization:
        return _AUTHORIZATION.get(self.code[1], Authorization.RESERVED)

    @property
    def services(self) -> AllowedServices:
        return _SERVICES.get(self.code[2], AllowedServices.RESERVED)

    @property
    def pin_requirement(self) -> PinRequirement:
        return _PIN.get(self.code[2], PinRequirement.NONE)

    @property
    def chip_capable(self) -> bool:
        """First digit 2 or 6: the card has a chip that must be used where possible."""
        return self.code[0] in "26"

    @property
    def pin_required(self) -> bool:
        """Third digit 0, 3 or 5: a PIN is mandatory (6/7 only ask when a PIN pad exists)."""
        return self.pin_requirement is PinRequirement.REQUIRED

    def __str__(self) -> str:
        return self.code


# --- Swipe policy -------------------------------------------------------------------------


class SwipeDecision(Enum):
    """What the terminal does with a swiped card."""

    INSERT_CHIP = "insert chip"
    FALLBACK = "magstripe fallback"
    MAGSTRIPE = "magstripe"

    @property
    def pos_entry_mode(self) -> str:
        """First two digits of ISO 8583 field 22 for the transaction that follows.

        INSERT_CHIP yields "05" because the transaction proceeds as a chip read.
        """
        return _ENTRY_MODES[self]

    @property
    def accepts_swipe(self) -> bool:
        """False when the swipe must be refused in favour of the chip."""
        return self is not SwipeDecision.INSERT_CHIP


_ENTRY_MODES = {
    SwipeDecision.INSERT_CHIP: "05",
    SwipeDecision.FALLBACK: "80",
    SwipeDecision.MAGSTRIPE: "90",
}


def swipe_decision(
    service_code: ServiceCode | str, *, terminal_chip_capable: bool, chip_failed: bool
) -> SwipeDecision:
    """Decide a swipe: chip cards go to the chip reader, unless it already failed (fallback).

    A chip card on a terminal without a chip reader is a plain magstripe read.
    """
    sc = service_code if isinstance(service_code, ServiceCode) else ServiceCode(service_code)
    if not (sc.chip_capable and terminal_chip_capable):
        return SwipeDecision.MAGSTRIPE
    return SwipeDecision.FALLBACK if chip_failed else SwipeDecision.INSERT_CHIP
