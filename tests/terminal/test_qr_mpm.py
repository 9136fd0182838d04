"""Golden vectors, exact-error tables and properties for EMVCo MPM payloads and the CRC."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.qr import (
    AdditionalData,
    MerchantAccount,
    MerchantLanguage,
    MpmCrcError,
    MpmError,
    MpmPayload,
    MpmRecord,
    PointOfInitiation,
    QrError,
    Tip,
    TipIndicator,
    build_mpm,
    crc16_ccitt_false,
    encode_mpm,
    mpm_crc,
    parse_mpm,
)
from terminal.core.qr.errors import TerminalError

# EMVCo MPM specification, appendix example (payload ends in CRC A13A). Records are not in
# ID order, the merchant name has a Chinese alternate in template 64, and there is an
# unreserved template 91.
EMVCO_EXAMPLE = (
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678"
    "520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京"
    "540523.7253031565502016233030412340603***0708A60086670902ME9132"
    "0016A0112233449988770708123456786304A13A"
)


def reference_crc(data: bytes) -> int:
    """Bit-at-a-time CRC-16/CCITT-FALSE, independent of the implementation under test."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def with_crc(body: str) -> str:
    """Append a correct ID 63 so a test payload fails for its intended reason only."""
    body += "6304"
    return body + f"{reference_crc(body.encode()):04X}"


def tlv(rid: str, value: str) -> str:
    return f"{rid}{len(value):02d}{value}"


BASE = [
    ("00", "01"),
    ("01", "12"),
    ("26", tlv("00", "com.example.pay") + tlv("01", "M123")),
    ("52", "5812"),
    ("53", "156"),
    ("54", "12.50"),
    ("58", "CN"),
    ("59", "NOODLE BAR"),
    ("60", "SHANGHAI"),
    ("62", tlv("05", "R0001") + tlv("07", "T01")),
]


def body(*, drop: tuple[str, ...] = (), **replace: str) -> str:
    """The BASE records with some values replaced (``v54="1,00"``) or IDs dropped."""
    return "".join(
        tlv(rid, replace.get(f"v{rid}", value)) for rid, value in BASE if rid not in drop
    )


# --- CRC -----------------------------------------------------------------------------------


def test_crc_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_false(b"") == 0xFFFF


def test_mpm_crc_of_emvco_example() -> None:
    assert mpm_crc(EMVCO_EXAMPLE[:-4]) == "A13A"


@given(st.binary(max_size=300))
def test_crc_matches_bitwise_reference(data: bytes) -> None:
    assert crc16_ccitt_false(data) == reference_crc(data)


def test_mpm_crc_rejects_lone_surrogate() -> None:
    with pytest.raises(MpmError) as info:
        mpm_crc("0002\ud8006304")
    assert info.value.offset == 4


# --- golden vector -------------------------------------------------------------------------


def test_emvco_example_fields() -> None:
    mpm = parse_mpm(EMVCO_EXAMPLE)
    assert [r.id for r in mpm.records] == [
        "00", "01", "29", "31", "52", "58", "59", "60", "64", "54", "53", "55", "62", "91", "63",
    ]  # fmt: skip
    assert mpm.point_of_initiation is PointOfInitiation.DYNAMIC
    assert mpm.merchant_accounts == (
        MerchantAccount("29", "D15600000000", (("05", "A93FO3230Q"),)),
        MerchantAccount("31", "D15600000001", (("03", "12345678"),)),
    )
    assert mpm.mcc == "4111"
    assert mpm.currency == "156"
    assert mpm.amount == Decimal("23.72")
    assert mpm.tip == Tip(TipIndicator.PROMPT)
    assert mpm.country == "CN"
    assert mpm.merchant_name == "BEST TRANSPORT"
    assert mpm.city == "BEIJING"
    assert mpm.postal_code is None
    assert mpm.language == MerchantLanguage("ZH", "最佳运输", "北京")
    assert mpm.additional_data == AdditionalData(
        store_label="1234",
        customer_label="***",
        terminal_label="A6008667",
        consumer_data_request="ME",
    )
    (unreserved,) = mpm.unreserved_templates
    assert unreserved.id == "91"
    assert [(c.id, c.value) for c in unreserved.children] == [
        ("00", "A011223344998877"),
        ("07", "12345678"),
    ]
    assert mpm.crc == "A13A"


def test_emvco_example_offsets_are_absolute_character_indexes() -> None:
    mpm = parse_mpm(EMVCO_EXAMPLE)
    for record in mpm.records:
        assert record.offset is not None
        assert EMVCO_EXAMPLE[record.offset :].startswith(record.encode())
        for child in record.children:
            assert child.offset is not None
            assert EMVCO_EXAMPLE[child.offset :].startswith(child.encode())
    language = mpm.get("64")
    assert language is not None
    assert language.value == "0002ZH0104最佳运输0202北京"
    assert len(language.value) == 20  # characters, not the 32 UTF-8 bytes


def test_emvco_example_reencodes_exactly() -> None:
    assert parse_mpm(EMVCO_EXAMPLE).to_payload() == EMVCO_EXAMPLE


def test_lowercase_crc_is_accepted_and_normalised() -> None:
    lower = EMVCO_EXAMPLE[:-4] + "a13a"
    mpm = parse_mpm(lower)
    assert mpm.crc == "A13A"
    assert mpm.to_payload() == EMVCO_EXAMPLE


# --- building ------------------------------------------------------------------------------

SALE = {
    "merchant_accounts": [MerchantAccount("26", "com.example.pay", (("01", "M123"),))],
    "mcc": "5812",
    "currency": "156",
    "amount": Decimal("12.50"),
    "country": "CN",
    "merchant_name": "NOODLE BAR",
    "city": "SHANGHAI",
    "terminal_label": "T01",
    "reference_label": "R0001",
}


def test_build_dynamic_payload_golden() -> None:
    payload = build_mpm(**SALE)
    assert payload == with_crc(body())
    assert payload.endswith("6304" + f"{reference_crc(payload[:-4].encode()):04X}")
    mpm = parse_mpm(payload)
    assert mpm.point_of_initiation is PointOfInitiation.DYNAMIC
    assert mpm.additional_data == AdditionalData(reference_label="R0001", terminal_label="T01")


def test_build_with_all_options() -> None:
    payload = build_mpm(
        **SALE,
        postal_code="200000",
        tip=Tip(TipIndicator.PERCENTAGE, Decimal("5.00")),
        language=MerchantLanguage("ZH", "面馆", "上海"),
        bill_number="B42",
        store_label="S1",
        purpose="Lunch",
    )
    mpm = parse_mpm(payload)
    assert mpm.tip == Tip(TipIndicator.PERCENTAGE, Decimal("5.00"))
    assert mpm.value("57") == "5.00"
    assert mpm.postal_code == "200000"
    assert mpm.language == MerchantLanguage("ZH", "面馆", "上海")
    data = mpm.additional_data
    assert data is not None
    assert (data.bill_number, data.store_label, data.purpose) == ("B42", "S1", "Lunch")
    assert [r.id for r in mpm.records] == [
        "00", "01", "26", "52", "53", "54", "55", "57", "58", "59", "60", "61", "62", "64", "63",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "reason", "tag"),
    [
        ({"mcc": "58A2"}, "merchant category code must be 4 digits, got '58A2'", "52"),
        (
            {"amount": "1,00"},
            "transaction amount must be 1-13 characters of digits with an optional '.', got '1,00'",
            "54",
        ),
        ({"amount": Decimal("-1")}, "amount must be finite and non-negative, got -1", "54"),
        ({"merchant_name": "X" * 26}, "merchant name must be at most 25 characters, got 26", "59"),
        ({"merchant_name": ""}, "value must be 1-99 characters, got 0", "59"),
        ({"terminal_label": "T" * 100}, "value must be 1-99 characters, got 100", "62.07"),
        ({"merchant_name": "A\tB"}, "character U+0009 at value index 1 is not printable", "59"),
        (
            {"merchant_accounts": []},
            "no merchant account information: at least one of IDs 02-51 is required",
            None,
        ),
        (
            {"merchant_accounts": [MerchantAccount("25", "x")]},
            "merchant account templates use IDs 26-51",
            "25",
        ),
        ({"tip": Tip(TipIndicator.FIXED)}, "value '02' requires ID 56", "55"),
    ],
)
def test_build_rejects_bad_input(change: dict[str, object], reason: str, tag: str | None) -> None:
    with pytest.raises(MpmError) as info:
        build_mpm(**{**SALE, **change})  # type: ignore[arg-type]
    assert info.value.reason == reason
    assert info.value.tag == tag


def test_encode_mpm_refuses_crc_record() -> None:
    with pytest.raises(MpmError, match="appended by encode_mpm"):
        encode_mpm([MpmRecord.primitive("00", "01"), MpmRecord.primitive("63", "ABCD")])


def test_template_record_round_trip() -> None:
    record = MpmRecord.template("62", [MpmRecord.primitive("05", "R1", parent="62")])
    assert record.encode() == "62060502R1"
    assert record.child("05") == MpmRecord("05", "R1")
    assert record.child("07") is None


# --- exact errors --------------------------------------------------------------------------


def case(payload: str, reason: str, tag: str | None, offset: int | None, exc: type = MpmError):
    return pytest.param(payload, exc, reason, tag, offset, id=reason[:40])


GOOD = with_crc(body())
_TRUNCATED = body()[: body().index("5405") + 7]  # "5405" + "12." then nothing
_NO_62 = body(drop=("62",))

ERROR_CASES = [
    case(EMVCO_EXAMPLE[:-4] + "A13B", "CRC mismatch: payload says A13B, computed A13A", "63",
         len(EMVCO_EXAMPLE) - 8, MpmCrcError),
    case("", "payload is empty", None, 0),
    case(with_crc(tlv("01", "12") + body(drop=("01",))),
         "the payload format indicator (ID 00) must come first", "01", 0),
    case(GOOD + "5802CN", "ID 63 must be the last record", "58", len(GOOD)),
    case(body() + "5802CN", "ID 63 must be the last record", "58", len(body())),
    case(_TRUNCATED, "length 05 runs past end of payload", "54", body().index("5405")),
    case(body() + "630", "truncated record '630': ID and length need 4 characters", None,
         len(body())),
    case(with_crc(body()).replace("5303", "5A03", 1), "ID '5A' is not two digits", None,
         body().index("5303")),
    case(with_crc(body()).replace("5303", "53X3", 1), "length 'X3' is not two digits", "53",
         body().index("5303")),
    case(body() + "6305A13A0", "length 05: the CRC record must have length 04", "63",
         len(body())),
    case(body() + "6304XYZW", "CRC 'XYZW' is not 4 hex digits", "63", len(body())),
    case(body() + "6300", "length 00: values must be 1-99 characters", "63", len(body())),
    case(GOOD + "\r\n", "character U+000D is not printable", None, len(GOOD)),
    case(with_crc(body() + tlv("59", "AGAIN")), "duplicate ID (first at char "
         f"{body().index('5910')})", "59", len(body())),
    case(with_crc(_NO_62 + tlv("62", "0709T01ABC")), "length 09 runs past end of template 62",
         "62.07", len(_NO_62) + 4),
    case(with_crc(_NO_62 + tlv("62", "0X03abc")), "ID '0X' is not two digits", "62",
         len(_NO_62) + 4),
    case(with_crc(_NO_62 + tlv("62", "07")), "truncated record '07': ID and length need 4 "
         "characters", "62", len(_NO_62) + 4),
    case(with_crc(body(v00="02")), "payload format indicator must be one of '01', got '02'", "00",
         0),
    case(with_crc(body(v01="13")), "point of initiation method must be one of '11', '12', got "
         "'13'", "01", 6),
    case(with_crc(body(v53="CNY")), "transaction currency must be a 3-digit ISO 4217 code, got "
         "'CNY'", "53", body().index("5303")),
    case(with_crc(body(v54="1.")), "transaction amount must be 1-13 characters of digits with an "
         "optional '.', got '1.'", "54", body().index("5405")),
    case(with_crc(body(v58="cn")), "country code must be 2 uppercase letters (ISO 3166-1), got "
         "'cn'", "58", body().index("5802")),
    case(with_crc(body(v59="N" * 26)), "merchant name must be at most 25 characters, got 26", "59",
         body().index("5910")),
    case(with_crc(body(v62=tlv("09", "MM"))), "consumer data request must list each of 'A', 'M', "
         "'E' at most once, got 'MM'", "62.09", len(_NO_62) + 4),
    case(with_crc(body(v26=tlv("01", "M123"))), "template lacks sub-ID 00 (globally unique "
         "identifier)", "26", body().index("2627")),
    case(with_crc(body() + tlv("64", tlv("00", "ZH"))), "template lacks sub-ID 01 (alternate "
         "merchant name)", "64", len(body())),
    case(with_crc(body(drop=("59",))), "mandatory record is missing (merchant name)", "59", None),
    case(with_crc(body(drop=("26",))), "no merchant account information: at least one of IDs "
         "02-51 is required", None, None),
    case(with_crc(body() + tlv("56", "1.00")), "only allowed when ID 55 is '02'", "56",
         len(body())),
    case(with_crc(body() + tlv("55", "03")), "value '03' requires ID 57", "55", len(body())),
    case(with_crc(body() + tlv("55", "03") + tlv("57", "100")), "convenience fee percentage must "
         "be between 00.01 and 99.99, got '100'", "57", len(body()) + 6),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "exc", "reason", "tag", "offset"), ERROR_CASES)
def test_parse_errors_are_exact(
    payload: str, exc: type, reason: str, tag: str | None, offset: int | None
) -> None:
    with pytest.raises(exc) as info:
        parse_mpm(payload)
    error = info.value
    assert type(error) is exc
    assert (error.reason, error.tag, error.offset) == (reason, tag, offset)


def test_error_message_format() -> None:
    with pytest.raises(MpmError) as info:
        parse_mpm(_TRUNCATED)
    offset = body().index("5405")
    assert str(info.value) == f"ID 54 at char {offset}: length 05 runs past end of payload"
    with pytest.raises(MpmCrcError) as crc_info:
        parse_mpm(EMVCO_EXAMPLE[:-4] + "A13B")
    assert crc_info.value.found == "A13B"
    assert crc_info.value.computed == "A13A"
    assert str(crc_info.value).endswith(": CRC mismatch: payload says A13B, computed A13A")
    assert isinstance(crc_info.value, QrError)
    assert isinstance(crc_info.value, TerminalError)


# --- properties ----------------------------------------------------------------------------

# Letters, marks, numbers, punctuation, symbols and the ASCII space: what str.isprintable
# accepts, so CJK, Arabic, emoji and combining marks all appear.
printable = st.characters(
    codec="utf-8", categories=("L", "M", "N", "P", "S"), include_characters=" "
)
names = st.text(printable, min_size=1, max_size=25)
labels = st.text(printable, min_size=1, max_size=25)
amounts = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2)


def kwargs_from(mpm: MpmPayload) -> dict[str, object]:
    """What build_mpm needs to rebuild a payload it built (parse -> build)."""
    data = mpm.additional_data
    assert data is not None
    return {
        "merchant_accounts": list(mpm.merchant_accounts),
        "mcc": mpm.mcc,
        "currency": mpm.currency,
        "amount": mpm.value("54"),
        "country": mpm.country,
        "merchant_name": mpm.merchant_name,
        "city": mpm.city,
        "terminal_label": data.terminal_label,
        "reference_label": data.reference_label,
        "postal_code": mpm.postal_code,
        "tip": mpm.tip,
        "language": mpm.language,
        "bill_number": data.bill_number,
        "store_label": data.store_label,
        "purpose": data.purpose,
    }


@settings(deadline=None)
@given(
    name=names,
    city=st.text(printable, min_size=1, max_size=15),
    amount=amounts,
    terminal=labels,
    reference=labels,
    alternate=st.none() | names,
)
def test_build_parse_round_trip(
    name: str, city: str, amount: Decimal, terminal: str, reference: str, alternate: str | None
) -> None:
    language = MerchantLanguage("ZH", alternate) if alternate else None
    payload = build_mpm(
        **{
            **SALE,
            "merchant_name": name,
            "city": city,
            "amount": amount,
            "terminal_label": terminal,
            "reference_label": reference,
            "language": language,
        },
    )
    mpm = parse_mpm(payload)
    assert mpm.merchant_name == name
    assert mpm.city == city
    assert mpm.amount == amount
    assert mpm.language == language
    data = mpm.additional_data
    assert data is not None
    assert (data.terminal_label, data.reference_label) == (terminal, reference)
    assert mpm.to_payload() == payload
    assert build_mpm(**kwargs_from(mpm)) == payload  # type: ignore[arg-type]


@given(st.text(max_size=120))
def test_arbitrary_text_raises_only_mpm_error(text: str) -> None:
    with contextlib.suppress(MpmError):
        parse_mpm(text)


@given(
    st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from("0123456789A.*\u6587 ")), max_size=4)
)
def test_mutated_payload_with_fixed_crc_raises_only_mpm_error(
    edits: list[tuple[int, str]],
) -> None:
    text = list(EMVCO_EXAMPLE[:-8])
    for position, char in edits:
        text[position % len(text)] = char
    with contextlib.suppress(MpmError):
        parse_mpm(with_crc("".join(text)))
