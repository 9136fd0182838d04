"""EMVCo CPM codes, the BER-TLV reader, numeric wallet codes and PAN masking."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.cards import Expiry, ServiceCode
from terminal.core.qr import (
    CpmError,
    CpmPayload,
    NumericPaymentCode,
    Pan,
    PaymentCodeError,
    QrError,
    Tlv,
    Track2,
    WalletScheme,
    build_cpm,
    detect_wallet_scheme,
    encode_tlv,
    parse_cpm,
    parse_numeric_code,
    parse_payment_code,
    read_tlv,
)

# The EMVCo CPM specification's example: two application templates (Product1/Product2)
# and a common data template with PAN, cardholder name, language and issuer data.
EMVCO_CPM = (
    "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0"
    "WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcE"
    "bVjvEw=="
)
# A single application carrying track 2 equivalent data instead of a PAN.
TRACK2_CPM = "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8="
EXAMPLE_PAN = "1234567890123458"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PFI = bytes.fromhex("85054350563031")
APP = bytes.fromhex("6109") + bytes.fromhex("4F07A0000000555555")


# --- golden vectors ------------------------------------------------------------------------


def test_emvco_cpm_example() -> None:
    cpm = parse_cpm(EMVCO_CPM)
    assert cpm.format_indicator == "CPV01"
    assert [(a.aid, a.label) for a in cpm.applications] == [
        ("A0000000555555", "Product1"),
        ("A0000000666666", "Product2"),
    ]
    (common,) = cpm.common_data
    assert common.pan == Pan(EXAMPLE_PAN)
    assert common.cardholder_name == "CARDHOLDER/EMV"
    assert common.language_preference == "ruesdeen"
    assert [(t.tag, t.value.hex().upper()) for t in common.transparent] == [
        ("9F10", "06010A03000000"),
        ("9F26", "584FD385FA234BCC"),
        ("9F36", "0001"),
        ("9F37", "6D58EF13"),
    ]
    assert cpm.pan is not None
    assert cpm.pan.digits == EXAMPLE_PAN
    assert cpm.to_base64() == EMVCO_CPM
    assert parse_payment_code(EMVCO_CPM) == cpm


def test_track2_example() -> None:
    cpm = parse_cpm(TRACK2_CPM)
    (app,) = cpm.applications
    assert app.track2 == Track2(EXAMPLE_PAN, Expiry.parse("1912"), ServiceCode("201"), "12345")
    assert app.pan == Pan(EXAMPLE_PAN)
    assert cpm.pan == Pan(EXAMPLE_PAN)
    assert app.track2 is not None
    assert app.track2.equivalent_data().hex().upper() == "1234567890123458D191220112345F"


def test_pan_is_masked_everywhere() -> None:
    cpm = parse_cpm(EMVCO_CPM)
    track = parse_cpm(TRACK2_CPM)
    shown = [repr(cpm), str(cpm), repr(cpm.common_data), repr(cpm.pan), str(cpm.pan)]
    shown += [repr(track), repr(track.applications[0].track2), str(track.applications[0].track2)]
    for text in shown:
        assert EXAMPLE_PAN not in text
    assert str(cpm.pan) == "123456******3458"
    assert (
        repr(track.applications[0].track2)
        == "Track2(pan='123456******3458', expiry='1912', service_code='201')"
    )


def test_build_cpm_round_trip() -> None:
    text = build_cpm(
        [
            [
                Tlv.of("4F", bytes.fromhex("A0000003330101")),
                Tlv.of("50", b"UnionPay"),
                Tlv.of("5A", Pan("6212345678901232").encode()),
                Tlv.of("5F20", b"ZHANG/SAN"),
                Tlv.of("9F25", bytes.fromhex("1232")),
                Tlv.template("63", [Tlv.of("9F26", bytes(8)), Tlv.of("9F36", b"\x00\x07")]),
            ]
        ]
    )
    cpm = parse_cpm(text)
    (app,) = cpm.applications
    assert (app.aid, app.label, app.cardholder_name, app.last4) == (
        "A0000003330101",
        "UnionPay",
        "ZHANG/SAN",
        "1232",
    )
    assert app.pan == Pan("6212345678901232")
    assert [t.tag for t in app.transparent] == ["9F26", "9F36"]
    assert cpm.to_base64() == text


def test_odd_length_pan_is_f_padded() -> None:
    pan = Pan("6212345678901234567")
    assert pan.encode().hex().upper() == "6212345678901234567F"
    text = build_cpm([[Tlv.of("5A", pan.encode())]])
    assert parse_cpm(text).pan == pan


# --- BER-TLV -------------------------------------------------------------------------------


def test_reader_handles_multibyte_tags_and_long_lengths() -> None:
    long_value = bytes(range(200))
    data = (
        bytes.fromhex("9F810103") + b"abc"  # 3-byte tag
        + bytes.fromhex("9F1081C8") + long_value  # long form, 1 length byte
        + bytes.fromhex("5F2082000102")  # long form, 2 length bytes (non-minimal)
        + bytes.fromhex("7003") + bytes.fromhex("820100")  # constructed
    )  # fmt: skip
    objects = read_tlv(data)
    assert [(o.tag, o.offset) for o in objects] == [
        ("9F8101", 0),
        ("9F10", 7),
        ("5F20", 211),
        ("70", 217),
    ]
    assert objects[1].value == long_value
    assert objects[3].children == (Tlv("82", b"\x00"),)
    assert objects[3].is_constructed
    assert not objects[0].is_constructed
    assert Tlv.of("9F10", long_value).encode()[:4] == bytes.fromhex("9F1081C8")


def tlv_trees(depth: int = 2) -> st.SearchStrategy[Tlv]:
    primitive = st.builds(
        Tlv.of, st.sampled_from(["4F", "50", "5F20", "9F10", "9F8101"]), st.binary(max_size=300)
    )
    if depth == 0:
        return primitive
    children = st.lists(tlv_trees(depth - 1), max_size=3)
    return primitive | st.builds(Tlv.template, st.sampled_from(["61", "63", "BF0C"]), children)


@given(st.lists(tlv_trees(), max_size=4))
def test_tlv_encode_read_round_trip(objects: list[Tlv]) -> None:
    assert read_tlv(encode_tlv(objects)) == tuple(objects)


# --- exact errors --------------------------------------------------------------------------


def case(text: str, reason: str, tag: str | None, offset: int | None, unit: str = "byte"):
    return pytest.param(text, reason, tag, offset, unit, id=reason[:40])


def nested(levels: int) -> bytes:
    """``levels`` application templates inside one another around a label."""
    data = bytes.fromhex("500141")
    for _ in range(levels):
        data = b"\x61" + bytes([len(data)]) + data
    return data


CPM_ERRORS = [
    case("hQVD UFYw", "character ' ' is not Base64", None, 4, "char"),
    case("hQVDUFYwMQ", "10 characters are not a whole number of Base64 blocks: the code is cut off or its '=' padding is missing (scan it again)", None, None, "char"),  # noqa: E501
    case(b64(APP + PFI), "tag 85 (payload format indicator) must come first", "61", 0),
    case(b64(bytes.fromhex("85054350563032") + APP),
         "payload format indicator must be 'CPV01', got b'CPV02'", "85", 0),
    case(b64(PFI), "at least one application template (tag 61) is required", None, None),
    case(b64(PFI + APP + bytes.fromhex("9F250112")),
         "only application (61) and common data (62) templates may follow tag 85", "9F25", 18),
    case(b64(PFI + bytes.fromhex("9F")), "truncated tag 9F: another tag byte expected", None, 7),
    case(b64(PFI + bytes.fromhex("9F8181")), "truncated tag 9F8181: another tag byte expected",
         None, 7),
    case(b64(PFI + bytes.fromhex("9F81818101")), "tag longer than 3 bytes", None, 7),
    case(b64(PFI + bytes.fromhex("5F20")), "truncated: length expected", "5F20", 9),
    case(b64(PFI + bytes.fromhex("6182")), "truncated length: 2 length bytes announced, 0 left",
         "61", 8),
    case(b64(PFI + bytes.fromhex("618500000001")),
         "length of 5 length bytes not supported (at most 3)", "61", 8),
    case(b64(PFI + bytes.fromhex("6180")), "indefinite length (0x80) not allowed", "61", 8),
    case(b64(PFI + bytes.fromhex("6105") + b"\x4f"),
         "length 5 runs past the end (1 byte left)", "61", 8),
    case(b64(PFI + bytes.fromhex("61044F050102")),
         "length 5 runs past the end (2 bytes left)", "61.4F", 10),
    case(b64(PFI + bytes.fromhex("00") + APP), "byte 00 is not a tag (padding is not allowed)",
         None, 7),
    case(b64(PFI + nested(10)), "templates nested deeper than 8", ".".join(["61"] * 9), 23),
    case(b64(PFI + bytes.fromhex("61054F03A00000")),
         "application identifier must be 5-16 bytes, got 3", "61.4F", 9),
    case(b64(PFI + bytes.fromhex("610A5A0812345678901234F5")),
         "PAN is not 12-19 BCD digits padded with F", "61.5A", 9),
    case(b64(PFI + bytes.fromhex("6109570712345678901234")),
         "track 2 equivalent data is not PAN D YYMM service-code data", "61.57", 9),
    case(b64(PFI + bytes.fromhex("610F570D1234567890123458D19132011F")),
         "track 2 equivalent data has an invalid expiry month", "61.57", 9),
    case(b64(PFI + bytes.fromhex("6106") + bytes.fromhex("500141") * 2),
         "duplicate tag in template", "61.50", 12),
    case(b64(PFI + bytes.fromhex("6103500180")),
         "application label must be 1-16 printable ASCII characters", "61.50", 9),
    case(b64(PFI + bytes.fromhex("6104") + bytes.fromhex("9F25011A")),
         "last 4 digits of PAN must be 2 BCD bytes", "61.9F25", 9),
]  # fmt: skip


@pytest.mark.parametrize(("text", "reason", "tag", "offset", "unit"), CPM_ERRORS)
def test_cpm_errors_are_exact(
    text: str, reason: str, tag: str | None, offset: int | None, unit: str
) -> None:
    with pytest.raises(CpmError) as info:
        parse_cpm(text)
    error = info.value
    assert (error.reason, error.tag, error.offset, error.unit) == (reason, tag, offset, unit)
    assert EXAMPLE_PAN not in str(error)


def test_cpm_error_message_format() -> None:
    with pytest.raises(CpmError) as info:
        parse_cpm(b64(PFI + bytes.fromhex("61044F050102")))
    message = "tag 61.4F at byte 10: length 5 runs past the end (2 bytes left)"
    assert str(info.value) == message


def test_builder_rejects_bad_tags() -> None:
    with pytest.raises(CpmError, match="not a valid 1-3 byte BER-TLV tag"):
        Tlv.of("9F", b"x")  # continuation bits say a second byte follows
    with pytest.raises(CpmError, match="not a valid"):
        Tlv.of("5f20", b"x")
    with pytest.raises(CpmError, match="primitive"):
        Tlv.template("5A", [])
    with pytest.raises(CpmError, match="12-19 digits"):
        Pan("12345")


# --- numeric wallet codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "scheme"),
    [
        ("134567890123456789", WalletScheme.WECHAT_PAY),
        ("104567890123456789", WalletScheme.WECHAT_PAY),
        ("154567890123456789", WalletScheme.WECHAT_PAY),
        ("284567890123456789", WalletScheme.ALIPAY),
        ("2545678901234567", WalletScheme.ALIPAY),
        ("304567890123456789012345", WalletScheme.ALIPAY),
        ("6212345678901234567", WalletScheme.UNIONPAY),
        ("164567890123456789", WalletScheme.UNKNOWN),
        ("1345678901234567890", WalletScheme.UNKNOWN),
        ("621234567890123456", WalletScheme.UNKNOWN),
    ],
)
def test_wallet_scheme_detection(code: str, scheme: WalletScheme) -> None:
    parsed = parse_payment_code(code)
    assert parsed == NumericPaymentCode(code, scheme)
    assert detect_wallet_scheme(code) is scheme


def test_numeric_code_is_masked() -> None:
    code = parse_numeric_code("134567890123456789")
    assert str(code) == "134567********6789"
    assert "134567890123456789" not in repr(code)


@pytest.mark.parametrize(
    ("text", "reason", "offset", "exc"),
    [
        (
            "1345678901234",
            "a numeric payment code has 16-24 digits, got 13",
            None,
            PaymentCodeError,
        ),
        ("1" * 25, "a numeric payment code has 16-24 digits, got 25", None, PaymentCodeError),
        ("", "payment code is empty", 0, PaymentCodeError),
        (" \r\n", "payment code is empty", 0, PaymentCodeError),
        (
            "00020101021229300012D156000000000510A93FO3230Q",
            "this is a merchant-presented (EMVCo MPM) payload, not a customer payment code",
            0,
            PaymentCodeError,
        ),
        ("1345678901234567٣9", "character '٣' is not Base64", 16, CpmError),
    ],
)
def test_payment_code_errors(text: str, reason: str, offset: int | None, exc: type) -> None:
    with pytest.raises(exc) as info:
        parse_payment_code(text)
    assert (info.value.reason, info.value.offset) == (reason, offset)


def test_numeric_code_non_digit_offset() -> None:
    with pytest.raises(PaymentCodeError) as info:
        parse_numeric_code("13456789012345678X")
    assert (info.value.reason, info.value.offset) == ("character 'X' is not a digit", 17)


def test_trailing_scanner_newline_is_ignored() -> None:
    assert isinstance(parse_payment_code(EMVCO_CPM + "\r\n"), CpmPayload)
    assert parse_payment_code("284567890123456789\r") == NumericPaymentCode(
        "284567890123456789", WalletScheme.ALIPAY
    )


# --- properties ----------------------------------------------------------------------------


@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_qr_error(text: str) -> None:
    with contextlib.suppress(QrError):
        parse_payment_code(text)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_cpm_error(data: bytes) -> None:
    with contextlib.suppress(CpmError):
        parse_cpm(b64(data))
    with contextlib.suppress(CpmError):
        parse_cpm(b64(PFI + data))


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4))
def test_mutated_example_raises_only_cpm_error(edits: list[tuple[int, int]]) -> None:
    data = bytearray(base64.b64decode(EMVCO_CPM))
    for position, byte in edits:
        data[position % len(data)] = byte
    with contextlib.suppress(CpmError):
        cpm = parse_cpm(b64(bytes(data)))
        for template in (*cpm.applications, *cpm.common_data):
            _ = (template.pan, template.track2, template.label, template.transparent)


@settings(deadline=None)
@given(
    pan=st.text("0123456789", min_size=12, max_size=19),
    label=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=16),
    aid=st.binary(min_size=5, max_size=16),
    with_common=st.booleans(),
)
def test_build_parse_round_trip(pan: str, label: str, aid: bytes, with_common: bool) -> None:
    card = [Tlv.of("5A", Pan(pan).encode())]
    app = [Tlv.of("4F", aid), Tlv.of("50", label.encode())]
    text = build_cpm([app if with_common else app + card], [card] if with_common else [])
    cpm = parse_payment_code(text)
    assert isinstance(cpm, CpmPayload)
    assert cpm.pan == Pan(pan)
    assert cpm.applications[0].label == label
    assert cpm.applications[0].aid == aid.hex().upper()
    assert pan not in repr(cpm)
    assert cpm.to_base64() == text


@pytest.mark.parametrize("digits", ["123456789012", "1234567890123", "123456789012345678"])
def test_short_codes_and_pans_hide_at_least_six_digits(digits: str) -> None:
    from terminal.core.qr.cpm import Pan

    for shown in (Pan(digits).masked, str(Pan(digits))):
        assert shown.count("*") >= 6, shown  # was 10 of 12 digits visible
        assert shown[-4:] == digits[-4:]


def test_numeric_code_mask_is_the_project_rule() -> None:
    from iso8583.masking import mask_pan

    code = parse_payment_code("281234567890123456")
    assert str(code) == mask_pan("281234567890123456")
