"""``posemu qr parse`` and ``posemu card parse`` on payloads from the field (issue 8)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.qr.crc import mpm_crc
from terminal.core.qr.describe import detect_kind, mpm_name
from terminal.core.qr.errors import QrError


def rec(rid: str, value: str) -> str:
    return f"{rid}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    return body + "6304" + mpm_crc(body + "6304")


# A Thai PromptPay code as banks print them: no 52, 59 or 60.
PROMPTPAY = with_crc(
    rec("00", "01") + rec("01", "11")
    + rec("29", rec("00", "A000000677010111") + rec("01", "0066812345678"))
    + rec("58", "TH") + rec("53", "764")
)  # fmt: skip
# A KHQR with a 16-character city, every template kind, and a Khmer alternate name.
KHQR = with_crc(
    rec("00", "01") + rec("01", "12")
    + rec("29", rec("00", "kh.gov.nbc.bakong@abcd") + rec("01", "ABCD BANK"))
    + rec("52", "5999") + rec("53", "116") + rec("54", "5000") + rec("58", "KH")
    + rec("59", "COFFEE SHOP") + rec("60", "Siem Reap Provin")
    + rec("62", rec("01", "INV-001") + rec("03", "Store 1") + rec("07", "T01")
          + rec("08", "Coffee"))
    + rec("64", rec("00", "km") + rec("01", "ហាងកាហ្វេ") + rec("02", "សៀមរាប"))
    + rec("99", rec("00", "1712345678901"))
)  # fmt: skip


def test_promptpay_parses_with_warnings(run):
    out = run("qr", "parse", PROMPTPAY, "--json")
    assert out.code == 0, out.err
    body = out.json
    assert {w["tag"] for w in body["warnings"]} == {"52", "59", "60"}
    assert body["accounts"] == ["A000000677010111"]
    account = next(r for r in body["records"] if r["id"] == "29")
    assert account["children"][1] == {
        "id": "01", "path": "29.01", "name": "Payment Network Specific",
        "value": "0066812345678", "offset": account["children"][1]["offset"],
    }  # fmt: skip
    strict = run("qr", "parse", PROMPTPAY, "--strict")
    assert strict.code == 2
    assert "ID 52: mandatory record is missing" in strict.err


def test_khqr_whole_tree_in_text_and_json(run):
    body = run("qr", "parse", KHQR, "--json").json
    assert [w["tag"] for w in body["warnings"]] == ["60"]
    assert "got 16" in body["warnings"][0]["message"]
    names = {}

    def walk(nodes):
        for node in nodes:
            names[node["path"]] = (node["name"], node.get("value"))
            walk(node.get("children", []))

    walk(body["records"])
    assert names["62.01"] == ("Bill Number", "INV-001")
    assert names["62.03"] == ("Store Label", "Store 1")
    assert names["62.07"] == ("Terminal Label", "T01")
    assert names["62.08"] == ("Purpose of Transaction", "Coffee")
    assert names["64.01"] == ("Merchant Name - Alternate Language", "ហាងកាហ្វេ")
    assert names["64.02"][0] == "Merchant City - Alternate Language"
    assert names["99.00"] == ("Globally Unique Identifier", "1712345678901")
    text = run("qr", "parse", KHQR).out
    assert "Merchant Name - Alternate Language" in text
    assert "Purpose of Transaction" in text
    assert "warnings (1, use --strict to refuse)" in text


def test_crc_stays_strict(run):
    broken = KHQR[:-4] + ("0000" if not KHQR.endswith("0000") else "1111")
    out = run("qr", "parse", broken)
    assert out.code == 2
    assert "CRC" in out.err


def test_format_indicator_not_first_is_named(run):
    payload = with_crc(rec("01", "12") + rec("00", "01") + rec("58", "CN"))
    out = run("qr", "parse", payload)
    assert out.code == 2
    assert "payload format indicator (ID 00, value 01) must come first" in out.err
    assert "Base64" not in out.err


@pytest.mark.parametrize(
    ("text", "kind"),
    [("281234567890123456", "wallet-code"), (KHQR, "mpm"), ("hQVDUFYwMWETTwdBAAAAAwEQ", "emv-cpm")],
)
def test_detect_by_content(text, kind):
    assert detect_kind(text) == kind


@settings(max_examples=200)
@given(st.text(max_size=120))
def test_detect_never_crashes(text):
    with contextlib.suppress(QrError):
        detect_kind(text)


def test_every_id_has_a_name():
    for top in range(100):
        assert mpm_name(f"{top:02d}")
    assert mpm_name("15") == "Merchant Account Information (UnionPay)"
    assert mpm_name("62.50") == "Payment System Specific Template"
    assert mpm_name("80.00") == "Globally Unique Identifier"


def test_card_parse_reports_luhn_expiry_and_service_code(run):
    bad = run("card", "parse", ";4761739001010011=20125011758900000000?", "--json").json
    assert bad["luhn_valid"] is False
    assert bad["luhn"].startswith("INVALID")
    assert bad["expired"] is True
    assert bad["brand"] == "Visa"
    assert bad["service_meaning"].startswith("5: national")
    good = run("card", "parse", ";4761739001010010=49122011758900000000?")
    assert "luhn             valid" in good.out
    # one value column: the longest label (service_meaning) sets it
    starts = {line.index(line.split()[1]) for line in good.out.splitlines() if line.strip()}
    assert len(starts) == 1
    assert "end of 2049-12" in good.out
    assert "0: authorization normal; 1: no restrictions" in good.out


def test_parse_errors_with_json_are_json(run):
    out = run("qr", "parse", "hello world", "--json")
    assert out.code == 2
    assert out.json["ok"] is False
    assert "not a QR payment payload" in out.json["error"]
