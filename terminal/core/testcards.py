"""The named test-card catalogue a tester picks from (``visa-approve``, ``debit-pin``, ...).

Each card has its own PAN so the host simulator can key its behaviour on PAN lists; the
``expected_response`` is the ISO 8583 field 39 code that simulator is meant to answer.
PANs are public test numbers (EMVCo/scheme test plans, payment-gateway sandboxes), never
real accounts. Valid cards expire 12/2030; ``visa-expired`` expired 01/2020.

Service codes: approve/decline cards use 101 (international, magstripe only, no PIN) so a
swipe goes straight online; ``chip-visa`` uses 201 so a chip terminal asks for the chip;
``debit-pin`` uses 120 (magstripe only, online authorization, PIN required) and
``unionpay-debit-pin`` 520 (the same, national use only, as for a CN domestic debit card),
so both exercise online PIN entry on a swipe. The PIN of those cards is 1234.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from terminal.core.cards import Brand, Expiry, ServiceCode, luhn_valid, masked_pan
from terminal.core.errors import UnknownCardError
from terminal.core.tracks import Track1, Track2

__all__ = ["CARDS", "CATALOGUE", "TEST_PIN", "TestCard", "get_card"]

TEST_PIN = "1234"
# PIN verification key index, PVV, CVV and padding: plausible filler, same on both tracks.
_DISCRETIONARY = "1000012300"


@dataclass(frozen=True, repr=False)
class TestCard:
    """A named test card; its repr shows the masked PAN only, never the PIN."""

    __test__ = False  # not a pytest test class despite the name

    name: str
    pan: str
    expiry: Expiry
    service_code: ServiceCode
    cardholder: str
    brand: Brand
    expected_response: str
    note: str
    pin: str | None = None
    discretionary: str = _DISCRETIONARY

    @property
    def pin_required(self) -> bool:
        return self.pin is not None

    @property
    def masked_pan(self) -> str:
        return masked_pan(self.pan)

    @property
    def luhn_valid(self) -> bool:
        return luhn_valid(self.pan)

    def track1_data(self) -> Track1:
        return Track1(self.pan, self.cardholder, self.expiry, self.service_code, self.discretionary)

    def track2_data(self) -> Track2:
        return Track2(self.pan, self.expiry, self.service_code, self.discretionary)

    def track1(self, *, with_lrc: bool = True) -> str:
        """Track 1 as encoded on the stripe (sentinels, LRC unless ``with_lrc`` is False)."""
        return self.track1_data().encode(with_lrc=with_lrc)

    def track2(self, *, with_lrc: bool = True) -> str:
        """Track 2 as encoded on the stripe (sentinels, LRC unless ``with_lrc`` is False)."""
        return self.track2_data().encode(with_lrc=with_lrc)

    def reader_output(self, *, with_lrc: bool = False) -> str:
        """Tracks 1 and 2 back to back, CR-terminated, as a serial reader sends a swipe."""
        return self.track1(with_lrc=with_lrc) + self.track2(with_lrc=with_lrc) + "\r"

    def __repr__(self) -> str:
        return (
            f"TestCard(name={self.name!r}, pan={self.masked_pan!r}, brand={self.brand.name}, "
            f"expiry={self.expiry.yymm!r}, service_code={self.service_code.code!r})"
        )


def _card(
    name: str,
    pan: str,
    brand: Brand,
    cardholder: str,
    expected_response: str,
    note: str,
    *,
    service_code: str = "101",
    expiry: str = "3012",
    pin: str | None = None,
) -> TestCard:
    return TestCard(
        name=name,
        pan=pan,
        expiry=Expiry.parse(expiry),
        service_code=ServiceCode(service_code),
        cardholder=cardholder,
        brand=brand,
        expected_response=expected_response,
        note=note,
        pin=pin,
    )


CARDS: tuple[TestCard, ...] = (
    _card("visa-approve", "4761739001010010", Brand.VISA, "APPROVE/VISA", "00", "approved"),
    _card("mc-approve", "5413330089010434", Brand.MASTERCARD, "APPROVE/MC", "00", "approved"),
    _card(
        "mc2-approve",
        "2223000048400011",
        Brand.MASTERCARD,
        "APPROVE/MC 2-SERIES",
        "00",
        "approved; BIN in the 2221-2720 series",
    ),
    _card("amex-approve", "374245455400001", Brand.AMEX, "APPROVE/AMEX", "00", "approved"),
    _card(
        "discover-approve", "6011000990139424", Brand.DISCOVER, "APPROVE/DISCOVER", "00", "approved"
    ),
    _card("jcb-approve", "3566002020360505", Brand.JCB, "APPROVE/JCB", "00", "approved"),
    _card(
        "diners-approve",
        "36070500001020",
        Brand.DINERS,
        "APPROVE/DINERS",
        "00",
        "approved; 14-digit PAN",
    ),
    _card(
        "unionpay-approve", "6250946000000016", Brand.UNIONPAY, "APPROVE/UNIONPAY", "00", "approved"
    ),
    _card(
        "visa-decline",
        "4000000000000002",
        Brand.VISA,
        "DECLINE/VISA",
        "05",
        "host decline list: do not honour",
    ),
    _card(
        "visa-expired",
        "4000000000000069",
        Brand.VISA,
        "EXPIRED/VISA",
        "54",
        "expired 01/2020; the terminal may refuse it before going online",
        expiry="2001",
    ),
    _card(
        "visa-blocked",
        "4000000000009979",
        Brand.VISA,
        "BLOCKED/VISA",
        "43",
        "host blocked list: stolen card, pick up",
    ),
    _card(
        "debit-pin",
        "5200828282828210",
        Brand.MASTERCARD,
        "DEBIT/PIN",
        "00",
        "online PIN required; PIN 1234 approves, any other PIN gets 55",
        service_code="120",
        pin=TEST_PIN,
    ),
    _card(
        "unionpay-debit-pin",
        "6200000000000047",
        Brand.UNIONPAY,
        "DEBIT/UNIONPAY",
        "00",
        "national-use debit, online PIN required; PIN 1234 approves, any other PIN gets 55",
        service_code="520",
        pin=TEST_PIN,
    ),
    _card(
        "chip-visa",
        "4761739001010119",
        Brand.VISA,
        "CHIP/VISA",
        "00",
        "chip card: a swipe on a chip terminal asks for the chip (fallback after a chip failure)",
        service_code="201",
    ),
    _card(
        "luhn-bad",
        "4761739001010011",
        Brand.VISA,
        "LUHN/BAD",
        "14",
        "PAN fails the Luhn check on purpose: invalid card number",
    ),
)

CATALOGUE: Mapping[str, TestCard] = MappingProxyType({card.name: card for card in CARDS})


def get_card(name: str) -> TestCard:
    """The catalogue card called ``name``; the error lists every known name."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownCardError(name, known=CATALOGUE) from None
