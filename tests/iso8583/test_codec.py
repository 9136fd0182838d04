"""Codec golden tests: exact bytes of hand-checked messages and the exact error contract.

Why hand-written bytes next to the property tests: a round trip proves pack and unpack agree
with each other, not that they agree with the network. Every expected byte string below was
written from the dialect tables (field by field, in comments), not produced by the codec.
Errors are pinned the same way: field key, byte offset, and a reason substring an operator
would search for.
"""

from __future__ import annotations

import pytest

from iso8583 import (
    DecodeError,
    EncodeError,
    FieldSpec,
    Kind,
    Message,
    Spec,
    Tpdu,
    get_spec,
    pack,
    unpack,
)
from iso8583.codec import MessageCodec
from iso8583.dialects.cup import CUP_HEADER
from iso8583.spec import Encoding, LengthUnit

# ------------------------------------------------------------------- golden messages

ECHO = Message("0800", {7: "1123071200", 11: "000001", 70: "301"})
ECHO_ASCII = (
    b"0800"
    b"8220000000000000"  # primary: 1 (secondary follows), 7, 11
    b"0400000000000000"  # secondary: 70
    b"1123071200"  # 7  n 10
    b"000001"  # 11 n 6
    b"301"  # 70 n 3: echo test
)

PURCHASE = Message("0200", {
    2: "4761739001010119",
    3: "000000",
    4: "000000001000",
    11: "000123",
    14: "2512",
    22: "051",
    35: "4761739001010119=251220",  # 23 characters: odd, so BCD needs a pad nibble
    41: "TERM0001",
    42: "MERCHANT0000001",
    49: "840",
    52: bytes.fromhex("0123456789ABCDEF"),
    55: {"9F02": "000000001000", "82": "5C00"},
})
# Bitmap of PURCHASE: byte 0 = 2,3,4 (70); byte 1 = 11,14 (24); byte 2 = 22 (04);
# byte 4 = 35 (20); byte 5 = 41,42 (C0); byte 6 = 49,52,55 (80+10+02 = 92).
PURCHASE_ASCII = (
    b"0200"
    b"7024040020C09200"
    b"16" b"4761739001010119"  # 2  LLVAR n
    b"000000"  # 3
    b"000000001000"  # 4
    b"000123"  # 11
    b"2512"  # 14
    b"051"  # 22
    b"23" b"4761739001010119=251220"  # 35 LLVAR z
    b"TERM0001"  # 41 ans 8
    b"MERCHANT0000001"  # 42 ans 15
    b"840"  # 49 an 3
    b"0123456789ABCDEF"  # 52 b 8 as 16 hex characters
    b"026" b"9F0206000000001000" b"82025C00"  # 55 LLLVAR: length counts hex characters
)
PURCHASE_BINARY = bytes.fromhex(
    "0200"  # MTI, BCD
    "7024040020C09200"  # binary bitmap
    "16" "4761739001010119"  # 2: LL BCD length, BCD digits
    "000000"  # 3
    "000000001000"  # 4
    "000123"  # 11
    "2512"  # 14
    "0051"  # 22: n 3, left pad nibble 0
    "23" "4761739001010119D251220F"  # 35: '=' is nibble D, right pad nibble F
) + b"TERM0001" + b"MERCHANT0000001" + b"840" + bytes.fromhex(
    "0123456789ABCDEF"  # 52 raw
    "0013" "9F0206000000001000" "82025C00"  # 55: LLL BCD length (2 bytes) counts bytes
)

ISO93 = Message("1200", {
    3: "000000",
    4: "000000001000",
    12: "250101120000",
    24: "200",
    53: bytes.fromhex("ABCD"),
    55: {"82": "5C00"},
})
ISO93_ASCII = (
    b"1200"
    b"3010010000000A00"  # 3,4 (30); 12 (10); 24 (01); 53,55 (08+02)
    b"000000"
    b"000000001000"
    b"250101120000"  # 12: n 12 in the 1993 edition
    b"200"  # 24: function code
    b"02" b"ABCD"  # 53: LL binary, length counts bytes (jPOS style), data as hex
    b"004" b"82025C00"  # 55: LLL counts bytes too in this dialect
)

SIGN_ON = Message("0800", {
    11: "000001",
    41: "TERM0001",
    42: "MERCHANT0000001",
    60: {"1": "00", "2": "000001", "3": "003"},
    63: "01 ",
})
SIGN_ON_CUP = bytes.fromhex(
    "0800"
    "00200000 00C00012"  # 11 (byte 1: 20); 41,42 (byte 5: C0); 60,63 (byte 7: 10+02)
    "000001"  # 11
) + b"TERM0001" + b"MERCHANT0000001" + bytes.fromhex(
    "0011" "000000010030"  # 60: 11 digits "00"+"000001"+"003", right-aligned pad 0
    "0003"  # 63: LLL BCD length
) + b"01 "
SIGN_ON_FRAME = bytes.fromhex("003C" "6000010000") + CUP_HEADER + SIGN_ON_CUP  # 5+6+49 = 60

CUP_SALE = Message("0200", {
    2: "6212345678901234567",  # 19 digits: cup pads variable numbers on the right
    4: "000000001000",
    61: {"1": "000001", "2": "000123"},  # trailing subfields absent
})
CUP_SALE_BYTES = bytes.fromhex(
    "0200"
    "5000000000000008"  # 2,4 (40+10); 61 (byte 7: 08)
    "19" "62123456789012345670"
    "000000001000"
    "0012" "000001000123"
)

GOLDEN = [
    ("iso87ascii", ECHO, ECHO_ASCII),
    ("iso87ascii", PURCHASE, PURCHASE_ASCII),
    ("iso87binary", PURCHASE, PURCHASE_BINARY),
    ("iso87binary", ECHO, bytes.fromhex("0800 8220000000000000 0400000000000000"
                                        "1123071200 000001 0301")),
    ("iso93ascii", ISO93, ISO93_ASCII),
    ("cup", SIGN_ON, SIGN_ON_CUP),
    ("cup", CUP_SALE, CUP_SALE_BYTES),
    ("iso87ascii", Message("0800", {}), b"0800" + b"0" * 16),
]


GOLDEN_IDS = [f"{d}-{m.mti}-{i}" for i, (d, m, _) in enumerate(GOLDEN)]


@pytest.mark.parametrize(("dialect", "msg", "wire"), GOLDEN, ids=GOLDEN_IDS)
def test_golden_pack(dialect: str, msg: Message, wire: bytes) -> None:
    assert pack(msg, get_spec(dialect)) == wire


@pytest.mark.parametrize(("dialect", "msg", "wire"), GOLDEN, ids=GOLDEN_IDS)
def test_golden_unpack(dialect: str, msg: Message, wire: bytes) -> None:
    assert unpack(wire, get_spec(dialect)) == msg


def test_golden_cup_frame() -> None:
    spec = get_spec("cup")
    frame = spec.frame_format.wrap(pack(SIGN_ON, spec), tpdu=Tpdu(0x60, 0x0001, 0x0000),
                                   header=CUP_HEADER)
    assert frame == SIGN_ON_FRAME
    parts = spec.frame_format.unwrap(frame)
    assert parts.tpdu == Tpdu(0x60, 1, 0)
    assert parts.header == CUP_HEADER
    assert unpack(parts.payload, spec) == SIGN_ON


def test_lowercase_hex_decodes_and_packs_canonical() -> None:
    """Hex is read in either case and always written in uppercase."""
    spec = get_spec("iso87ascii")
    lower = b"0200" + b"0000000000001000" + b"0123456789abcdef"
    msg = unpack(lower, spec)
    assert msg.fields[52] == bytes.fromhex("0123456789ABCDEF")
    assert pack(msg, spec) == lower.upper()


def test_ber_padding_is_dropped_on_repack() -> None:
    spec = get_spec("iso87binary")
    padded = bytes.fromhex("0200 0000000000000200 0007 00 82025C00 00 FF")
    msg = unpack(padded, spec)
    assert msg.fields[55] == {"82": "5C00"}
    assert pack(msg, spec) == bytes.fromhex("0200 0000000000000200 0004 82025C00")


# ------------------------------------------------------------------- decode errors

H = bytes.fromhex

DECODE_ERRORS: list[tuple[str, bytes, str | None, int, str]] = [
    # (dialect, bytes, field, offset, reason substring)
    ("iso87ascii", b"08", "t", 0, "MTI needs 4 bytes"),
    ("iso87ascii", b"08A0" + b"0" * 16, "t", 0, "is not 4 digits"),
    ("iso87binary", H("08"), "t", 0, "MTI needs 2 bytes"),
    ("iso87binary", H("0A00") + bytes(8), "t", 0, "is not 4 digits"),
    ("iso87ascii", b"0800" + b"8G20000000000000", "p", 5, "0x47 is not a hex digit"),
    ("iso87ascii", b"0800" + b"82200000", "p", 4, "bitmap needs 16 bytes, 8 left"),
    ("iso87ascii", b"0800" + b"8220000000000000" + b"04000000000000Z0", "1", 34,
     "0x5A is not a hex digit"),
    ("iso87binary", H("0800 8000000000000000 0400"), "1", 10, "bitmap needs 8 bytes, 2 left"),
    ("iso87ascii", b"0200" + b"4000000000000000" + b"2X4761739001010119", "2", 20,
     "length prefix"),
    ("iso87ascii", b"0200" + b"4000000000000000" + b"20" + b"4" * 20, "2", 20,
     "length 20 digits exceeds the maximum 19"),
    ("iso87ascii", b"0200" + b"4000000000000000" + b"16" + b"4761", "2", 22,
     "needs 16 bytes, 4 left"),
    ("iso87ascii", b"0200" + b"1000000000000000" + b"0000000010A0", "4", 30,
     "n allows digits; got 'A' at character 10"),
    ("iso87ascii", b"0200" + b"1000000000000000" + b"00000", "4", 20, "needs 12 bytes, 5 left"),
    ("iso87ascii", b"0200" + b"0000001000000000" + b"X00000100", "28", 20, "x+n allows"),
    ("iso87ascii", b"0200" + b"0000000000800000" + b"TERM\x00001", "41", 24,
     "printable characters"),
    ("iso87ascii", b"0200" + b"0000000000800000" + b"TERM\xe9001", "41", 24,
     "0xE9 is not ascii"),
    ("iso87ascii", b"0200" + b"0000000000001000" + b"0123456789ABCDEG", "52", 35,
     "0x47 is not a hex digit"),
    ("iso87ascii", b"0200" + b"0000000000000200" + b"003" + b"82F", "55", 23, "odd count"),
    ("iso87ascii", ECHO_ASCII + b"XY", None, len(ECHO_ASCII), "2 unexpected bytes"),
    ("iso87binary", H("0200 0000040000000000 1051"), "22", 10, "pad nibble is 1, expected 0"),
    ("iso87binary", H("0200 4000000000000000 1A") + bytes(13), "2", 10, "not packed BCD"),
    ("iso87binary", H("0200 1000000000000000 0000000010A0"), "4", 15,
     "n allows digits; got 'A' at character 10"),
    ("cup", H("0200 0000000020000000 03 1230"), "35", 11, "pad nibble is 0, expected F"),
    ("cup", H("0200 0800000000000000 000000001000"), "5", 10,
     "not defined by dialect cup"),
    ("cup", H("0800 0000000000000010 0001 00"), "60.1", 12, "needs 2 bytes, 1 left"),
]


@pytest.mark.parametrize(("dialect", "raw", "field", "offset", "reason"), DECODE_ERRORS,
                         ids=[f"{d}-{f}-{i}" for i, (d, _, f, _, _) in enumerate(DECODE_ERRORS)])
def test_decode_errors(dialect: str, raw: bytes, field: str | None, offset: int,
                       reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        unpack(raw, get_spec(dialect))
    exc = info.value
    assert (exc.field, exc.offset) == (field, offset), exc
    assert reason in exc.reason


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b"\x00\x10HELLO GARBAGE", "MTI at byte 0: "),
        (b"0800" + b"82200000", "primary bitmap at byte 4: "),
        (b"0800" + b"8220000000000000" + b"0400", "secondary bitmap at byte 20: "),
    ],
)
def test_errors_name_the_message_parts_in_words(raw: bytes, where: str) -> None:
    """``field`` keeps pyiso8583's keys (t, p, 1); what a person reads says MTI or bitmap."""
    with pytest.raises(DecodeError) as info:
        unpack(raw, get_spec("iso87ascii"))
    assert str(info.value).startswith(where)


@pytest.mark.parametrize(
    ("dialect", "raw", "offset"),
    [
        # Field 55 holds 9F02 with length 05 but only 2 value bytes: the length byte is blamed.
        ("iso87binary", H("0200 0000000000000200 0005 9F02050000"), 14),  # 12 + 2
        ("iso87ascii", b"0200" + b"0000000000000200" + b"010" + b"9F02050000", 27),  # 23 + 2*2
    ],
    ids=["binary", "hex"],
)
def test_bad_tlv_in_field_55_names_the_tag(dialect: str, raw: bytes, offset: int) -> None:
    with pytest.raises(DecodeError) as info:
        unpack(raw, get_spec(dialect))
    exc = info.value
    assert exc.field == "55"
    assert exc.path == ("tag 9F02",)
    assert exc.offset == offset
    assert "runs past the end" in exc.reason
    assert "field 55 tag 9F02" in str(exc)


def test_decode_error_keeps_the_partial_message() -> None:
    raw = b"0200" + b"3000000000000000" + b"000000" + b"00000000100X"
    with pytest.raises(DecodeError) as info:
        unpack(raw, get_spec("iso87ascii"))
    assert info.value.field == "4"
    assert info.value.partial == Message("0200", {3: "000000"})


# ------------------------------------------------------------------- encode errors

ENCODE_ERRORS: list[tuple[str, Message, str | None, str]] = [
    # (dialect, message, field, reason substring)
    ("iso87ascii", Message("0200", {4: "1000"}), "4", "length 4 digits, expected exactly 12"),
    ("iso87ascii", Message("0200", {3: "00000A"}), "3", "n allows digits; got 'A' at character 5"),
    ("iso87ascii", Message("0200", {41: b"TERM0001"}), "41", "expected a string, got bytes"),
    ("iso87ascii", Message("0200", {52: "0123456789ABCDEF"}), "52", "expected bytes, got str"),
    ("iso87ascii", Message("0200", {2: "4" * 20}), "2", "length 20 digits exceeds the maximum 19"),
    ("iso87ascii", Message("0200", {55: bytes(256)}), "55",
     "length 512 hex characters exceeds the maximum 510"),
    ("iso87ascii", Message("0200", {1: "x"}), "1", "field number must be 2..128"),
    ("iso87ascii", Message("0200", {129: "x"}), "129", "field number must be 2..128"),
    ("iso87ascii", Message("0200", {0: "x", 3: "000000"}), "0", "field number must be 2..128"),
    ("iso87ascii", Message("0200", {"3": "000000"}), "3", "field number must be 2..128"),
    ("iso87ascii", Message("0200", {"3": "000000", 4: "000000001000"}), None,
     "field keys must be integers"),
    ("iso87ascii", Message("080", {}), "t", "MTI must be 4 digits"),
    ("iso87ascii", Message(800, {}), "t", "MTI must be 4 digits"),  # type: ignore[arg-type]
    ("iso87binary", Message("08A0", {}), "t", "MTI must be 4 digits"),
    ("iso87binary", Message("0200", {35: "4761-2512"}), "35", "z allows digits and '='"),
    ("iso87binary", Message("0200", {28: "X00000100"}), "28", "x+n allows"),
    ("iso87binary", Message("0200", {55: {"9F02": "ABC"}}), "55", "even-length hex"),
    ("iso87binary", Message("0200", {55: {"9F": "00"}}), "55", "announce more tag bytes"),
    ("cup", Message("0800", {60: {"2": "000001"}}), "60", "subfield 1 is missing"),
    ("cup", Message("0800", {60: {"9": "1"}}), "60", "unknown subfield '9'"),
    ("cup", Message("0800", {60: {"1": "0A"}}), "60.1", "n allows digits"),
    ("cup", Message("0800", {5: "000000000100"}), "5", "not defined by dialect cup"),
]


@pytest.mark.parametrize(("dialect", "msg", "field", "reason"), ENCODE_ERRORS,
                         ids=[f"{d}-{f}-{i}" for i, (d, _, f, _) in enumerate(ENCODE_ERRORS)])
def test_encode_errors(dialect: str, msg: Message, field: str | None, reason: str) -> None:
    with pytest.raises(EncodeError) as info:
        pack(msg, get_spec(dialect))
    assert info.value.field == field, info.value
    assert reason in info.value.reason


def test_encode_error_on_tlv_names_the_tag() -> None:
    with pytest.raises(EncodeError) as info:
        pack(Message("0200", {55: {"70": {"9F02": "ABC"}}}), get_spec("iso87binary"))
    assert info.value.field == "55"
    assert info.value.path == ("tag 70", "tag 9F02")


# ------------------------------------------------------------------- regressions
# Bugs the property tests found once; each test states the correct behaviour.


def test_truncated_secondary_bitmap_after_cache_warmup() -> None:
    codec = MessageCodec(get_spec("iso87ascii"))  # a fresh plan cache
    raw = pack(Message("0800", {70: "301"}), get_spec("iso87ascii"))
    codec.unpack(raw)  # caches the primary bitmap 8000000000000000 as "secondary follows"
    with pytest.raises(DecodeError) as info:
        codec.unpack(raw[:20])  # MTI + primary, secondary bitmap missing
    assert (info.value.field, info.value.offset) == ("1", 20)
    assert "bitmap needs 16 bytes, 0 left" in info.value.reason


@pytest.mark.parametrize(
    ("raw", "field", "offset"),
    [
        # 28 x+n 8 BCD: sign 'C' at byte 10, digits from byte 11; first digit 'A' is in byte 11.
        (H("0200 0000001000000000") + b"C" + H("A0000000"), "28", 11),
        # 22 n 3 BCD, left pad: nibbles 0|0 A|0 -> digit 2 'A' is in byte 11, not 10.
        (H("0200 0000040000000000 00A0"), "22", 11),
    ],
    ids=["x+n sign", "left pad"],
)
def test_bcd_error_offset_points_at_the_bad_byte(raw: bytes, field: str, offset: int) -> None:
    with pytest.raises(DecodeError) as info:
        unpack(raw, get_spec("iso87binary"))
    assert (info.value.field, info.value.offset) == (field, offset)


def test_fixed_wire_hex_field_roundtrips_between_fields() -> None:
    fields = {
        9: FieldSpec("key check value", Kind.B, 16, encoding=Encoding.HEX,
                     length_unit=LengthUnit.WIRE),
        10: FieldSpec("next", Kind.N, 16),
    }
    spec = Spec("wire", "fixed wire-unit hex field", fields).validate()
    msg = Message("0800", {9: bytes(8), 10: "1" * 16})
    assert unpack(pack(msg, spec), spec) == msg


def test_mti_error_partial_is_message() -> None:
    with pytest.raises(DecodeError) as info:
        unpack(b"08", get_spec("iso87ascii"))
    assert isinstance(info.value.partial, Message)


# ------------------------------------------------------------------- public vectors


def test_pyiso8583_documentation_vector() -> None:
    """The example in pyiso8583's package docstring (default_ascii), decoded and re-encoded."""
    raw = b"02004000000000000000101234567890"
    msg = unpack(raw, get_spec("iso87ascii"))
    assert msg == Message("0200", {2: "1234567890"})
    assert pack(msg, get_spec("iso87ascii")) == raw
