"""BER-TLV (field 55) and simple TLV (private fields): golden data, exact errors, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583.errors import DecodeError, EncodeError, SpecError
from iso8583.tlv import (
    MAX_BER_DEPTH,
    TlvEncoding,
    TlvFormat,
    decode_ber_tlv,
    decode_simple_tlv,
    encode_ber_tlv,
    encode_simple_tlv,
)

# A typical ARQC request field 55, written out by hand (tag, length, value per line).
FIELD_55 = bytes.fromhex(
    "9F26 08 C1D2E3F4A5B6C7D8"  # application cryptogram
    "9F27 01 80"  # cryptogram information data: ARQC
    "9F10 07 06010A03A0A000"  # issuer application data
    "9F37 04 12345678"  # unpredictable number
    "9F36 02 0001"  # ATC
    "95 05 0080008000"  # TVR
    "9A 03 240115"  # transaction date
    "9C 01 00"  # transaction type
    "9F02 06 000000001000"  # amount authorised
    "5F2A 02 0840"  # currency code
    "82 02 5900"  # AIP
    "9F1A 02 0840"  # terminal country code
    "9F33 03 E0F8C8"  # terminal capabilities
    "9F34 03 1E0300"  # CVM results
    "84 07 A0000000031010"  # DF name
)
FIELD_55_TREE = {
    "9F26": "C1D2E3F4A5B6C7D8",
    "9F27": "80",
    "9F10": "06010A03A0A000",
    "9F37": "12345678",
    "9F36": "0001",
    "95": "0080008000",
    "9A": "240115",
    "9C": "00",
    "9F02": "000000001000",
    "5F2A": "0840",
    "82": "5900",
    "9F1A": "0840",
    "9F33": "E0F8C8",
    "9F34": "1E0300",
    "84": "A0000000031010",
}

# Format 2 GENERATE AC response template.
TEMPLATE_77 = bytes.fromhex(
    "77 1E  9F27 01 80  9F36 02 0001  9F26 08 1122334455667788  9F10 07 06010A03A00000"
)
TEMPLATE_77_TREE = {
    "77": {
        "9F27": "80",
        "9F36": "0001",
        "9F26": "1122334455667788",
        "9F10": "06010A03A00000",
    }
}

# Nested templates: record template 70 holding an application template 61.
TEMPLATE_70 = bytes.fromhex("70 0C  61 0A  4F 05 A000000003  50 01 41")
TEMPLATE_70_TREE = {"70": {"61": {"4F": "A000000003", "50": "41"}}}


@pytest.mark.parametrize(
    ("wire", "tree"),
    [
        (FIELD_55, FIELD_55_TREE),
        (TEMPLATE_77, TEMPLATE_77_TREE),
        (TEMPLATE_70, TEMPLATE_70_TREE),
        (b"", {}),
        (bytes.fromhex("9F03 00"), {"9F03": ""}),
        (bytes.fromhex("71 00"), {"71": {}}),
        (bytes.fromhex("DF8129 01 00"), {"DF8129": "00"}),  # 3-byte tag
    ],
)
def test_ber_golden(wire, tree):
    decoded = decode_ber_tlv(wire)
    assert decoded == tree
    assert list(decoded) == list(tree)  # wire order kept
    assert encode_ber_tlv(tree) == wire


@pytest.mark.parametrize(
    ("length", "length_bytes"),
    [
        (0x7F, "7F"),
        (0x80, "8180"),
        (0xFF, "81FF"),
        (0x100, "820100"),
        (0xFFFF, "82FFFF"),
        (0x10000, "83010000"),
    ],
)
def test_ber_long_form_lengths(length, length_bytes):
    wire = (
        bytes.fromhex("86" + length_bytes)
        + bytes(range(256)) * (length // 256)
        + bytes(range(length % 256))
    )
    value = decode_ber_tlv(wire)["86"]
    assert len(value) == 2 * length
    assert encode_ber_tlv({"86": value}) == wire


def test_ber_constructed_with_long_length():
    inner = " 9F02 06 000000001000"
    wire = bytes.fromhex("71 81 90" + inner * 16)  # 16 * 9 = 144 = 0x90 bytes
    with pytest.raises(DecodeError, match="duplicate tag") as info:
        decode_ber_tlv(wire)
    assert info.value.offset == 3 + 9  # after 71 81 90 and the first 9F02 object
    single = bytes.fromhex("71 81 8F  86 81 8C" + "AB" * 0x8C)
    assert decode_ber_tlv(single) == {"71": {"86": "AB" * 0x8C}}
    assert encode_ber_tlv({"71": {"86": "AB" * 0x8C}}) == single


def test_ber_padding_skipped_and_dropped_on_encode():
    wire = bytes.fromhex("00 00  9C 01 00  FF  70 06 00 5A 01 12 00 FF")
    tree = decode_ber_tlv(wire)
    assert tree == {"9C": "00", "70": {"5A": "12"}}
    assert encode_ber_tlv(tree) == bytes.fromhex("9C 01 00  70 03 5A 01 12")


def test_ber_non_minimal_length_accepted_then_canonicalised():
    assert decode_ber_tlv(bytes.fromhex("9C 81 01 00")) == {"9C": "00"}
    assert decode_ber_tlv(bytes.fromhex("9C 82 0001 00")) == {"9C": "00"}
    assert encode_ber_tlv({"9C": "00"}) == bytes.fromhex("9C 01 00")


def test_ber_encode_accepts_lowercase_and_emits_uppercase_on_decode():
    wire = encode_ber_tlv({"9f02": "00000000100a", "bf0c": {"9f4d": "0b0a"}})
    assert wire == bytes.fromhex("9F02 06 00000000100A  BF0C 05 9F4D 02 0B0A")
    assert decode_ber_tlv(wire) == {"9F02": "00000000100A", "BF0C": {"9F4D": "0B0A"}}


# ------------------------------------------------------------------- exact BER errors


@pytest.mark.parametrize(
    ("hex_data", "match", "offset", "path"),
    [
        # truncated tag
        ("9F", "truncated tag 9F", 0, ()),
        ("9C 01 00  9F 81", "truncated tag 9F81", 3, ()),
        ("70 01 9F", "truncated tag 9F", 2, ("tag 70",)),
        # truncated length
        ("9F02", "length expected", 2, ("tag 9F02",)),
        ("9F02 82 01", "2 length bytes announced, 1 left", 2, ("tag 9F02",)),
        ("70 03 9F02 81", "1 length bytes announced, 0 left", 4, ("tag 70", "tag 9F02")),
        # length past the end (of the data, or of the enclosing template)
        ("9F02 06 0000", "length 6 runs past the end \\(2 bytes left\\)", 2, ("tag 9F02",)),
        ("70 04 9F02 06 00", "length 6 runs past the end", 4, ("tag 70", "tag 9F02")),
        ("70 05 61 03 5A 05 00", "length 5 runs past", 5, ("tag 70", "tag 61", "tag 5A")),
        # indefinite and over-long length forms
        ("70 80 9C 01 00 00 00", "indefinite length", 1, ("tag 70",)),
        ("9F02 84 00000001 00", "4 length bytes not supported", 2, ("tag 9F02",)),
        ("9F02 FF", "127 length bytes not supported", 2, ("tag 9F02",)),
        # duplicates, at the top and inside a template
        ("9C 01 00  9C 01 01", "duplicate tag \\(first at byte", 3, ("tag 9C",)),
        (
            "77 08 9F27 01 80 9F27 01 40",
            "duplicate tag \\(first at byte",
            6,
            ("tag 77", "tag 9F27"),
        ),
    ],
)
@pytest.mark.parametrize("base", [0, 100])
def test_ber_decode_errors(hex_data, match, offset, path, base):
    with pytest.raises(DecodeError, match=match) as info:
        decode_ber_tlv(bytes.fromhex(hex_data), base_offset=base)
    assert info.value.offset == base + offset
    assert info.value.path == path
    assert info.value.field is None


def test_ber_same_tag_in_different_templates_is_fine():
    wire = bytes.fromhex("70 03 9C 01 00  77 03 9C 01 01")
    assert decode_ber_tlv(wire) == {"70": {"9C": "00"}, "77": {"9C": "01"}}


def test_ber_nesting_bound():
    deep = b""
    for _ in range(MAX_BER_DEPTH + 1):
        deep = b"\x70" + bytes([len(deep)]) + deep
    with pytest.raises(DecodeError, match="nested deeper") as info:
        decode_ber_tlv(deep)
    assert info.value.offset == 2 * MAX_BER_DEPTH
    assert len(info.value.path) == MAX_BER_DEPTH + 1
    assert decode_ber_tlv(deep[2:])  # one level less is accepted


@pytest.mark.parametrize(
    ("tree", "match", "path"),
    [
        ({"9F": "00"}, "announce more tag bytes", ("tag 9F",)),
        ({"9F82": "00"}, "last tag byte has bit 8 set", ("tag 9F82",)),
        ({"DF0281": "00"}, "middle tag byte has bit 8 clear", ("tag DF0281",)),
        ({"0102": "00"}, "must be one byte", ("tag 0102",)),
        ({"00": ""}, "00 or FF", ("tag 00",)),
        ({"FF01": ""}, "00 or FF", ("tag FF01",)),
        ({"9G02": ""}, "hex string", ("tag 9G02",)),
        ({"": ""}, "hex string", ("tag ",)),
        ({"9F 02": ""}, "hex string", ("tag 9F 02",)),
        ({9: ""}, "hex string", ("tag 9",)),
        ({"70": "00"}, "constructed tag needs a mapping", ("tag 70",)),
        ({"9F02": {}}, "primitive tag needs a hex string", ("tag 9F02",)),
        ({"9F02": 1000}, "primitive tag needs a hex string", ("tag 9F02",)),
        ({"9F02": "123"}, "even-length hex", ("tag 9F02",)),
        ({"70": {"61": {"4F": "A0 00"}}}, "even-length hex", ("tag 70", "tag 61", "tag 4F")),
        ({"70": {"9c": "00", "9C": "01"}}, "duplicate tag", ("tag 70", "tag 9C")),
    ],
)
def test_ber_encode_errors(tree, match, path):
    with pytest.raises(EncodeError, match=match) as info:
        encode_ber_tlv(tree)
    assert info.value.path == path


def test_ber_encode_refuses_cycles_and_non_mappings():
    loop: dict = {}
    loop["70"] = loop
    with pytest.raises(EncodeError, match="nested deeper"):
        encode_ber_tlv(loop)
    with pytest.raises(EncodeError, match="mapping of tags"):
        encode_ber_tlv(["9C", "00"])  # type: ignore[arg-type]


# ------------------------------------------------------------------- BER properties


def _tag(first: int, rest: list[int], last: int | None) -> str:
    return bytes([first, *rest, *([] if last is None else [last])]).hex().upper()


def _tags(constructed: bool) -> st.SearchStrategy[str]:
    flag = 0x20 if constructed else 0x00
    one_byte = st.sampled_from(
        [b for b in range(1, 0xFF) if b & 0x20 == flag and b & 0x1F != 0x1F]
    ).map(lambda b: _tag(b, [], None))
    multi = st.builds(
        _tag,
        st.sampled_from([c | flag | 0x1F for c in (0x00, 0x40, 0x80, 0xC0) if c | flag != 0xE0]),
        st.lists(st.integers(0x80, 0xFF), max_size=2),
        st.integers(0x00, 0x7F),
    )
    return st.one_of(one_byte, multi)


hex_values = st.one_of(st.binary(max_size=12), st.binary(min_size=120, max_size=300)).map(
    lambda b: b.hex().upper()
)
primitive_items = st.tuples(_tags(constructed=False), hex_values)


def _levels(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    items = st.one_of(primitive_items, st.tuples(_tags(constructed=True), children))
    return st.lists(items, max_size=5, unique_by=lambda kv: kv[0]).map(dict)


trees = st.recursive(
    st.lists(primitive_items, max_size=5, unique_by=lambda kv: kv[0]).map(dict),
    _levels,
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_ber_encode_decode_round_trip(tree):
    wire = encode_ber_tlv(tree)
    decoded = decode_ber_tlv(wire)
    assert decoded == tree
    assert _order(decoded) == _order(tree)
    assert encode_ber_tlv(decoded) == wire  # canonical bytes survive decode -> encode


def _order(tree: dict) -> list:
    return [(k, _order(v) if isinstance(v, dict) else v) for k, v in tree.items()]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 1000))
def test_ber_arbitrary_bytes_only_decode_error(data, base):
    try:
        tree = decode_ber_tlv(data, base_offset=base)
    except DecodeError as exc:
        error = exc
    else:
        # whatever decodes is a valid model: it re-encodes, canonically, to the same tree
        assert decode_ber_tlv(encode_ber_tlv(tree)) == tree
        return
    assert error.offset is not None
    assert base <= error.offset <= base + len(data)


# ------------------------------------------------------------------- simple TLV

ASCII_23 = TlvFormat(TlvEncoding.ASCII, tag_size=2, length_size=3)
ASCII_32 = TlvFormat(TlvEncoding.ASCII, tag_size=3, length_size=2)
BINARY_11 = TlvFormat(TlvEncoding.BINARY, tag_size=1, length_size=1)
BINARY_22 = TlvFormat(TlvEncoding.BINARY, tag_size=2, length_size=2)


@pytest.mark.parametrize(
    ("fmt", "wire", "mapping"),
    [
        (ASCII_23, b"01005HELLO02003ABC", {"01": "HELLO", "02": "ABC"}),
        (ASCII_23, b"A1000", {"A1": ""}),
        (ASCII_32, b"00105 12 4", {"001": " 12 4"}),
        (BINARY_11, bytes.fromhex("01 02 ABCD  02 00"), {"01": "ABCD", "02": ""}),
        (BINARY_22, bytes.fromhex("DF01 0003 010203"), {"DF01": "010203"}),
        (ASCII_23, b"", {}),
    ],
)
def test_simple_golden(fmt, wire, mapping):
    decoded = decode_simple_tlv(wire, fmt)
    assert decoded == mapping
    assert list(decoded) == list(mapping)
    assert encode_simple_tlv(mapping, fmt) == wire


@pytest.mark.parametrize(
    ("fmt", "wire", "match", "offset", "path"),
    [
        (ASCII_23, b"01002OK0", "truncated tag: 2 bytes expected, 1 left", 7, ()),
        (ASCII_23, b"01002OK02", "truncated length: 3 bytes expected, 0 left", 9, ("tag 02",)),
        (ASCII_23, b"0100A", "is not ASCII digits", 2, ("tag 01",)),
        (ASCII_23, b"01-01X", "is not ASCII digits", 2, ("tag 01",)),
        (ASCII_23, b"01009short", "length 9 runs past the end \\(5 bytes left\\)", 2, ("tag 01",)),
        (ASCII_23, b"0\x00001X", "tag 3000 is not ASCII letters/digits", 0, ()),
        (ASCII_23, b"01003A\xe9B", "value byte E9 is not ASCII", 6, ("tag 01",)),
        (ASCII_23, b"01001A02001B01001C", "duplicate tag \\(first at byte", 12, ("tag 01",)),
        (BINARY_11, bytes.fromhex("01 05 AB"), "length 5 runs past", 1, ("tag 01",)),
        (BINARY_22, bytes.fromhex("DF01 00"), "truncated length", 2, ("tag DF01",)),
        (BINARY_11, bytes.fromhex("0A 00  0A 00"), "duplicate tag", 2, ("tag 0A",)),
    ],
)
@pytest.mark.parametrize("base", [0, 37])
def test_simple_decode_errors(fmt, wire, match, offset, path, base):
    with pytest.raises(DecodeError, match=match) as info:
        decode_simple_tlv(wire, fmt, base_offset=base)
    assert info.value.offset == base + offset
    assert info.value.path == path


@pytest.mark.parametrize(
    ("fmt", "mapping", "match", "path"),
    [
        (ASCII_23, {"1": "x"}, "2 ASCII letters/digits", ("tag 1",)),
        (ASCII_23, {"0 ": "x"}, "2 ASCII letters/digits", ("tag 0 ",)),
        (ASCII_23, {"é1": "x"}, "2 ASCII letters/digits", ("tag é1",)),
        (ASCII_23, {"01": "café"}, "ASCII string", ("tag 01",)),
        (ASCII_23, {"01": 5}, "ASCII string", ("tag 01",)),
        (ASCII_32, {"001": "x" * 100}, "100 bytes exceeds the 99", ("tag 001",)),
        (BINARY_11, {"01": "AB" * 256}, "256 bytes exceeds the 255", ("tag 01",)),
        (BINARY_11, {"0102": "AB"}, "1 bytes of hex", ("tag 0102",)),
        (BINARY_11, {"0x": "AB"}, "1 bytes of hex", ("tag 0x",)),
        (BINARY_11, {"01": "ABC"}, "even-length hex", ("tag 01",)),
        (BINARY_11, {"0a": "", "0A": ""}, "duplicate tag", ("tag 0A",)),
    ],
)
def test_simple_encode_errors(fmt, mapping, match, path):
    with pytest.raises(EncodeError, match=match) as info:
        encode_simple_tlv(mapping, fmt)
    assert info.value.path == path


@pytest.mark.parametrize(
    "kwargs",
    [{"tag_size": 0}, {"length_size": 9}, {"tag_size": True}, {"encoding": "ascii"}],
)
def test_simple_format_validation(kwargs):
    with pytest.raises(SpecError):
        TlvFormat(**kwargs)


simple_formats = st.builds(
    TlvFormat, st.sampled_from(TlvEncoding), st.integers(1, 3), st.integers(1, 3)
)


@st.composite
def simple_cases(draw):
    fmt = draw(simple_formats)
    limit = min(fmt.max_value_length, 300)
    if fmt.encoding is TlvEncoding.ASCII:
        alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        tags = st.text(alnum, min_size=fmt.tag_size, max_size=fmt.tag_size)
        values = st.text(st.characters(max_codepoint=0x7F), max_size=limit)
    else:
        tags = st.binary(min_size=fmt.tag_size, max_size=fmt.tag_size).map(
            lambda b: b.hex().upper()
        )
        values = st.binary(max_size=limit).map(lambda b: b.hex().upper())
    return fmt, draw(st.dictionaries(tags, values, max_size=6))


@settings(max_examples=300, deadline=None)
@given(simple_cases())
def test_simple_round_trip(case):
    fmt, mapping = case
    wire = encode_simple_tlv(mapping, fmt)
    decoded = decode_simple_tlv(wire, fmt)
    assert list(decoded.items()) == list(mapping.items())
    assert encode_simple_tlv(decoded, fmt) == wire


@settings(max_examples=300, deadline=None)
@given(simple_formats, st.binary(max_size=60), st.integers(0, 1000))
def test_simple_arbitrary_bytes_only_decode_error(fmt, data, base):
    try:
        decoded = decode_simple_tlv(data, fmt, base_offset=base)
    except DecodeError as exc:
        error = exc
    else:
        assert encode_simple_tlv(decoded, fmt) == data
        return
    assert error.offset is not None
    assert base <= error.offset <= base + len(data)
