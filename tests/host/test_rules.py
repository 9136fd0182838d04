"""The pure decision rules and rules-file loading."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from iso8583.acquirer import Request, TxnKind
from iso8583.host.rules import (
    DEFAULT_BLOCKED_PANS,
    DEFAULT_DECLINE_PANS,
    CardData,
    Decision,
    RulesError,
    Timing,
    amount_decision,
    card_data,
    card_decision,
    default_rules,
    load_rules,
    override_decision,
    pin_required,
    rules_from_mapping,
)
from terminal.core.testcards import CATALOGUE, TEST_PIN, get_card

NOW = datetime(2025, 6, 15, 12, 0, 0)


def test_defaults_are_documented_values():
    r = default_rules()
    assert r.pin == TEST_PIN == "1234"
    assert r.late_delay == 30.0
    assert r.mpm_pay_delay == 2.0
    assert r.balance == 100_000
    assert not r.approve_all
    assert dict(r.kinds) == {}


def test_default_pan_lists_follow_the_test_card_catalogue():
    assert get_card("visa-blocked").pan in DEFAULT_BLOCKED_PANS
    assert get_card("visa-decline").pan in DEFAULT_DECLINE_PANS
    assert get_card("visa-blocked").expected_response == "43"
    assert get_card("visa-decline").expected_response == "05"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1000, Decision("00")),
        (1005, Decision("05")),
        (1014, Decision("14")),
        (1051, Decision("51")),
        (1054, Decision("54")),
        (1055, Decision("55")),
        (1091, Decision("91")),
        (1068, Decision("00", Timing.LATE)),
        (1099, Decision("00", Timing.SILENT)),
        (1037, Decision("00")),  # cents not in the table approve
        (None, Decision("00")),
    ],
)
def test_cents_table(amount, expected):
    assert amount_decision(amount, default_rules()) == expected


def test_approve_all_ignores_the_cents():
    assert amount_decision(1051, rules_from_mapping({"approve_all": True})) == Decision("00")


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("visa-approve", None),
        ("luhn-bad", "14"),
        ("visa-blocked", "43"),
        ("visa-expired", "54"),
        ("visa-decline", "05"),
    ],
)
def test_card_decision_matches_the_catalogue(card, code):
    c = get_card(card)
    data = CardData(c.pan, c.expiry.yymm, c.service_code.code)
    assert card_decision(data, NOW, default_rules()) == code
    assert (code or "00") == c.expected_response


def test_card_check_order_luhn_then_blocked_then_expiry_then_decline():
    rules = rules_from_mapping(
        {"blocked_pans": ["4761739001010010"], "decline_pans": ["4761739001010010"]}
    )
    assert card_decision(CardData("4761739001010010", "2001", None), NOW, rules) == "43"
    rules = rules_from_mapping({"blocked_pans": [], "decline_pans": ["4761739001010010"]})
    assert card_decision(CardData("4761739001010010", "2001", None), NOW, rules) == "54"
    assert card_decision(CardData("4761739001010011", "2001", None), NOW, rules) == "14"


def test_expiry_is_good_through_its_month():
    rules = default_rules()
    pan = "4761739001010010"
    assert card_decision(CardData(pan, "2506", None), NOW, rules) is None
    assert card_decision(CardData(pan, "2505", None), NOW, rules) == "54"
    assert card_decision(CardData(pan, "2513", None), NOW, rules) == "54"  # malformed


def test_every_catalogue_card_meets_its_expected_response():
    for card in CATALOGUE.values():
        data = CardData(card.pan, card.expiry.yymm, card.service_code.code)
        assert (card_decision(data, NOW, default_rules()) or "00") == card.expected_response


@pytest.mark.parametrize(
    ("service_code", "required"),
    [
        ("101", False),
        ("201", False),
        ("120", True),
        ("520", True),
        ("123", True),
        ("125", True),
        ("126", False),
        (None, False),
    ],
)
def test_pin_required_by_service_code(service_code, required):
    assert pin_required(CardData("4761739001010010", "3012", service_code)) is required


def _req(**kw) -> Request:
    return Request(TxnKind.SALE, "000001", NOW, "TERM0001", "MERCHANT0000001", **kw)


def test_card_data_from_track2_pan_and_chip():
    card = get_card("debit-pin")
    data = card_data(_req(track2=card.track2_data().for_iso8583()))
    assert data is not None
    assert (data.pan, data.expiry, data.service_code) == (card.pan, "3012", "120")
    data = card_data(_req(pan=card.pan, expiry="3012"))
    assert data is not None
    assert (data.pan, data.expiry, data.service_code) == (
        card.pan,
        "3012",
        None,
    )
    data = card_data(_req(icc={"5A": card.pan + "F", "5F24": "301231", "5F30": "0201"}))
    assert data is not None
    assert (data.pan, data.expiry, data.service_code) == (
        card.pan,
        "3012",
        "201",
    )
    assert card_data(_req()) is None
    assert card.pan not in repr(data)


def test_kind_overrides():
    rules = rules_from_mapping({"kinds": {"refund": "00", "sale": "late", "void": "12"}})
    assert override_decision(TxnKind.REFUND, rules) == Decision("00")
    assert override_decision(TxnKind.SALE, rules) == Decision("00", Timing.LATE)
    assert override_decision(TxnKind.VOID, rules) == Decision("12")
    assert override_decision(TxnKind.PREAUTH, rules) is None


def test_toml_file_merges_cents_and_replaces_lists(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text(
        'pin = "4321"\nblocked_pans = ["4761739001010010"]\nlate_delay = 1.5\n'
        "mpm_pay_delay = 0\nbalance = 5000\napprove_all = false\n"
        '[cents]\n"37" = "51"\n"05" = "00"\n[kinds]\nrefund = "00"\n'
    )
    r = load_rules(path)
    assert r.pin == "4321"
    assert r.blocked_pans == frozenset({"4761739001010010"})
    assert r.decline_pans == DEFAULT_DECLINE_PANS
    assert r.late_delay == 1.5
    assert r.mpm_pay_delay == 0.0
    assert r.balance == 5000
    assert amount_decision(1037, r) == Decision("51")
    assert amount_decision(1005, r) == Decision("00")
    assert amount_decision(1051, r) == Decision("51")  # default kept
    assert override_decision(TxnKind.REFUND, r) == Decision("00")


def test_json_file(tmp_path: Path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"cents": {"99": "91"}, "approve_all": True}))
    r = load_rules(path)
    assert r.approve_all
    assert r.cents["99"] == "91"


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("pin = 1234", "pin"),
        ('pin = "12"', "pin"),
        ('blocked_pans = "4000000000009979"', "blocked_pans"),
        ('decline_pans = ["40000000000000x2"]', "decline_pans"),
        ('late_delay = "soon"', "late_delay"),
        ("late_delay = -1", "late_delay"),
        ("mpm_pay_delay = true", "mpm_pay_delay"),
        ('approve_all = "yes"', "approve_all"),
        ("balance = 1.5", "balance"),
        ('[cents]\n"5" = "05"', "cents.5"),
        ('[cents]\n"05" = "approve"', "cents.05"),
        ('cents = "05"', "cents"),
        ('[kinds]\nteleport = "00"', "kinds.teleport"),
        ('[kinds]\nsettlement = "00"', "kinds.settlement"),
        ('[kinds]\nsale = "000"', "kinds.sale"),
        ("colour = 1", "colour"),
    ],
)
def test_bad_rules_name_the_file_and_key(tmp_path: Path, content: str, key: str):
    path = tmp_path / "bad.toml"
    path.write_text(content + "\n")
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert info.value.key == key
    assert str(path) in str(info.value)
    assert repr(key) in str(info.value)


def test_unreadable_and_unparsable_files(tmp_path: Path):
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")
    bad = tmp_path / "broken.toml"
    bad.write_text("pin = \n")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(bad)
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{")
    with pytest.raises(RulesError, match="not valid JSON"):
        load_rules(bad_json)
    not_table = tmp_path / "list.json"
    not_table.write_text("[1, 2]")
    with pytest.raises(RulesError, match="table"):
        load_rules(not_table)
