"""Card input (test cards, swipes, keyed entry) and the bounded terminal configuration."""

from __future__ import annotations

import pytest

from terminal.config import ConfigError, TerminalConfig
from terminal.core.errors import CardDataError, UnknownCardError
from terminal.core.receipts import EntryMode
from terminal.core.testcards import get_card
from terminal.engine import CardInput, ChipRequiredError, InputError, TxnRef


def test_test_card_read_is_a_swipe_with_track2():
    read = CardInput.test_card("visa-approve").read(chip_capable=True)
    assert read.entry is EntryMode.SWIPE
    assert read.track2 == "4761739001010010=30121011000012300"
    assert not read.pin_required
    assert "4761739001010010" not in repr(read)
    assert "4761739001010010" not in repr(CardInput.test_card("visa-approve"))


def test_pin_cards_require_pin():
    assert CardInput.test_card("debit-pin").read(chip_capable=True).pin_required
    assert CardInput.test_card("unionpay-debit-pin").read(chip_capable=True).pin_required


def test_chip_card_policy():
    chip = CardInput.test_card("chip-visa")
    with pytest.raises(ChipRequiredError) as info:
        chip.read(chip_capable=True)
    assert "476173******0119" in str(info.value)
    assert chip.read(chip_capable=False).entry is EntryMode.SWIPE
    fallback = CardInput.test_card("chip-visa", chip_failed=True).read(chip_capable=True)
    assert fallback.entry is EntryMode.FALLBACK


def test_swipe_reader_output_and_track2():
    card = get_card("mc-approve")
    swipe = CardInput.swipe(card.reader_output()).read(chip_capable=True)
    assert swipe.pan == card.pan
    assert swipe.track2 == card.track2_data().for_iso8583()
    track1_only = CardInput.swipe(card.track1() + "\r").read(chip_capable=True)
    assert (track1_only.track2, track1_only.expiry_yymm) == (None, "3012")
    assert CardInput.track2(card.track2()).read(chip_capable=True).pan == card.pan
    with pytest.raises(CardDataError) as info:
        CardInput.track2(";5413330089010434=30X21010000?")
    assert info.value.offset == 20


def test_manual_entry():
    read = CardInput.manual("6011000990139424", "3012").read(chip_capable=True)
    assert (read.entry, read.track2, read.expiry_yymm) == (EntryMode.MANUAL, None, "3012")
    with pytest.raises(CardDataError):
        CardInput.manual("60110009901394", "3013")
    with pytest.raises(CardDataError):
        CardInput.manual("6011A00990139424", "3012")


def test_unknown_card_lists_known_names():
    with pytest.raises(UnknownCardError, match="visa-approve"):
        CardInput.test_card("gold-card")


def test_txn_ref_needs_exactly_one_key():
    assert str(TxnRef(stan="000012")) == "STAN 000012"
    with pytest.raises(InputError):
        TxnRef()
    with pytest.raises(InputError):
        TxnRef(journal_id=1, rrn="1")


def test_config_defaults_and_bounds():
    config = TerminalConfig()
    assert (config.terminal_id, config.merchant_id, config.currency) == (
        "POSEMU01",
        "POSEMU000000001",
        "156",
    )
    assert (config.connect_timeout, config.response_timeout, config.reversal_attempts) == (3, 5, 3)
    assert config.tmk.kcv  # the published test TMK
    assert "tmk" not in repr(config).lower()
    for bad in (
        {"response_timeout": 0},
        {"response_timeout": 10_000},
        {"reversal_attempts": 0},
        {"reversal_attempts": True},
        {"terminal_id": "TOO-LONG-ID"},
        {"currency": "CNY"},
        {"qr_entry_mode": "3"},
        {"receipt_width": 40},
        {"host": "http://x:1"},
        {"tmk_hex": "zz"},
    ):
        with pytest.raises(ConfigError) as info:
            TerminalConfig(**bad)
        assert info.value.setting in bad
    assert config.with_(response_timeout=1.5).response_timeout == 1.5
