"""How a card reaches the engine: a named test card, a swipe, or keyed-in PAN and expiry.

A :class:`CardInput` is what the operator presented; :meth:`CardInput.read` applies the
terminal's swipe policy (a chip card on a chip terminal must be inserted, a swipe after a
chip failure is a fallback) and yields the :class:`CardRead` a request is built from.
Both hold the full PAN and track 2 in memory only, for the length of one authorisation;
their reprs show the masked PAN, and nothing here is ever written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from terminal.core.cards import (
    Brand,
    Expiry,
    ServiceCode,
    SwipeDecision,
    detect_brand,
    masked_pan,
    swipe_decision,
    validate_pan,
)
from terminal.core.reader_text import KeyedCard, parse_card_text
from terminal.core.receipts import EntryMode
from terminal.core.testcards import get_card
from terminal.core.tracks import Swipe, Track2, parse_swipe, parse_track2
from terminal.engine.errors import ChipRequiredError

__all__ = ["CardInput", "CardRead", "CardSource"]


class CardSource(StrEnum):
    TEST_CARD = "test-card"  # a catalogue card, swiped
    SWIPE = "swipe"  # raw reader output or a track 2 string
    MANUAL = "manual"  # PAN and expiry keyed in


_ENTRY = {
    SwipeDecision.MAGSTRIPE: EntryMode.SWIPE,
    SwipeDecision.FALLBACK: EntryMode.FALLBACK,
}


@dataclass(frozen=True, slots=True, repr=False)
class CardRead:
    """A card ready for a request (implements ``terminal.core.transactions.CardData``)."""

    pan: str
    expiry_yymm: str | None
    track2: str | None  # field 35 form
    entry: EntryMode
    service_code: ServiceCode | None = None

    @property
    def masked_pan(self) -> str:
        return masked_pan(self.pan)

    @property
    def brand(self) -> Brand:
        return detect_brand(self.pan)

    @property
    def pin_required(self) -> bool:
        """Only a service code can demand a PIN; keyed entries have none."""
        return self.service_code is not None and self.service_code.pin_required

    def __repr__(self) -> str:
        return f"CardRead(pan={self.masked_pan!r}, entry={self.entry.value})"


@dataclass(frozen=True, slots=True, repr=False)
class CardInput:
    """What the operator presented; build one with the class methods."""

    source: CardSource
    pan: str
    expiry: Expiry | None
    service_code: ServiceCode | None = None
    track: Track2 | None = None
    chip_failed: bool = False  # the chip was tried and failed: a swipe is a fallback
    name: str = ""  # the catalogue name of a test card

    @classmethod
    def test_card(cls, name: str, *, chip_failed: bool = False) -> CardInput:
        """A catalogue card (``posemu cards``); unknown names list the known ones."""
        card = get_card(name)
        track = card.track2_data()
        return cls(
            CardSource.TEST_CARD,
            card.pan,
            card.expiry,
            card.service_code,
            track,
            chip_failed,
            name,
        )

    @classmethod
    def swipe(cls, raw: str, *, chip_failed: bool = False) -> CardInput:
        """Reader output (tracks 1 and/or 2, sentinels, STX/ETX, failure markers)."""
        return cls.from_swipe(parse_swipe(raw), chip_failed=chip_failed)

    @classmethod
    def from_text(cls, text: str, *, chip_failed: bool = False) -> CardInput:
        """What a tester pastes: reader output, a track 2, or ``PAN YYMM`` keyed in."""
        card = parse_card_text(text)
        if isinstance(card, KeyedCard):
            return cls.manual(card.pan, card.expiry)
        return cls.from_swipe(card, chip_failed=chip_failed)

    @classmethod
    def from_swipe(cls, swiped: Swipe, *, chip_failed: bool = False) -> CardInput:
        """A swipe already parsed (by a serial reader's stream parser, for example)."""
        return cls(
            CardSource.SWIPE,
            swiped.pan,
            swiped.expiry,
            swiped.service_code,
            swiped.track2,
            chip_failed,
        )

    @classmethod
    def track2(cls, text: str, *, chip_failed: bool = False) -> CardInput:
        """One track 2, with or without sentinels (field 35 form with ``=`` or ``D``)."""
        track = parse_track2(text)
        return cls(
            CardSource.SWIPE, track.pan, track.expiry, track.service_code, track, chip_failed
        )

    @classmethod
    def manual(cls, pan: str, expiry: str) -> CardInput:
        """Keyed entry; Luhn is left to the host (response 14), as for a swipe."""
        return cls(CardSource.MANUAL, validate_pan(pan, check_luhn=False), Expiry.parse(expiry))

    @property
    def masked_pan(self) -> str:
        return masked_pan(self.pan)

    def read(self, *, chip_capable: bool) -> CardRead:
        """Apply the swipe policy; raises :class:`ChipRequiredError` for a chip card."""
        if self.source is CardSource.MANUAL:
            assert self.expiry is not None
            return CardRead(self.pan, self.expiry.yymm, None, EntryMode.MANUAL)
        entry = EntryMode.SWIPE
        if self.service_code is not None:
            decision = swipe_decision(
                self.service_code, terminal_chip_capable=chip_capable, chip_failed=self.chip_failed
            )
            if not decision.accepts_swipe:
                raise ChipRequiredError(self.masked_pan)
            entry = _ENTRY[decision]
        track2 = self.track.for_iso8583() if self.track is not None else None
        expiry = self.expiry.yymm if self.expiry is not None else None
        return CardRead(self.pan, expiry, track2, entry, self.service_code)

    def __repr__(self) -> str:
        return f"CardInput(source={self.source.value}, pan={self.masked_pan!r})"
