"""BER-TLV list form: wire order and repeated tags kept, same strictness as the dict form."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583.errors import DecodeError, EncodeError
from iso8583.tlv import (
    MAX_BER_DEPTH,
    BerTlvNode,
    ber_tag_bytes,
    decode_ber_tlv,
    decode_ber_tlv_nodes,
    encode_ber_tlv,
    encode_ber_tlv_nodes,
)
from tests.iso8583.test_tlv import _tags, hex_values

# EMVCo CPM shape: two application templates (61) with the same child tags.
CPM_WIRE = bytes.fromhex("85 02 4350  61 03 4F 01 A0  61 06 4F 01 B0 50 01 41")


def test_repeated_templates_kept_in_order_with_offsets() -> None:
    assert decode_ber_tlv_nodes(CPM_WIRE, base_offset=100) == [
        BerTlvNode("85", "4350", 100),
        BerTlvNode("61", [BerTlvNode("4F", "A0", 106)], 104),
        BerTlvNode("61", [BerTlvNode("4F", "B0", 111), BerTlvNode("50", "41", 114)], 109),
    ]
    assert encode_ber_tlv_nodes(decode_ber_tlv_nodes(CPM_WIRE)) == CPM_WIRE
    with pytest.raises(DecodeError, match="duplicate tag"):
        decode_ber_tlv(CPM_WIRE)  # the dict form cannot hold both


def test_plain_pairs_encode() -> None:
    nodes = [("9C", "00"), ["70", [("5A", "12"), ("5A", "34")]], ("9C", "01")]
    assert encode_ber_tlv_nodes(nodes) == bytes.fromhex("9C0100 7006 5A0112 5A0134 9C0101")


def test_padding_skipped_unless_refused() -> None:
    wire = bytes.fromhex("00 9C 01 00 FF")
    assert decode_ber_tlv_nodes(wire) == [BerTlvNode("9C", "00", 1)]
    with pytest.raises(DecodeError) as info:
        decode_ber_tlv_nodes(wire, padding=False, base_offset=5)
    assert (info.value.reason, info.value.offset) == (
        "byte 00 is not a tag (padding is not allowed)",
        5,
    )


@pytest.mark.parametrize(
    ("hex_data", "kwargs", "reason", "offset", "path"),
    [
        ("9F8101 00", {"max_tag_bytes": 3}, None, None, None),
        ("9F81818101 00", {"max_tag_bytes": 3}, "tag longer than 3 bytes", 0, ()),
        ("70 05 9F81818101", {"max_tag_bytes": 3}, "tag longer than 3 bytes", 2, ("tag 70",)),
        ("9F01 00", {"max_tag_bytes": 1}, "tag longer than 1 bytes", 0, ()),
        (
            "70 02 71 00",
            {"max_depth": 1},
            "templates nested deeper than 1",
            2,
            ("tag 70", "tag 71"),
        ),
        ("70 02 71 00", {"max_depth": 2}, None, None, None),
        ("70 80", {}, "indefinite length (0x80) not allowed", 1, ("tag 70",)),
        (
            "70 03 5A 05 00",
            {},
            "length 5 runs past the end (1 byte left)",
            3,
            ("tag 70", "tag 5A"),
        ),
    ],
)
def test_profile_limits_and_errors(
    hex_data: str, kwargs: dict[str, Any], reason: str | None, offset: int | None, path: Any
) -> None:
    data = bytes.fromhex(hex_data)
    if reason is None:
        assert encode_ber_tlv_nodes(decode_ber_tlv_nodes(data, **kwargs)) == data
        return
    with pytest.raises(DecodeError) as info:
        decode_ber_tlv_nodes(data, **kwargs)
    assert (info.value.reason, info.value.offset, info.value.path) == (reason, offset, path)


def test_bad_profile_arguments() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        decode_ber_tlv_nodes(b"", max_depth=MAX_BER_DEPTH + 1)
    with pytest.raises(ValueError, match="max_tag_bytes"):
        decode_ber_tlv_nodes(b"", max_tag_bytes=0)


@pytest.mark.parametrize(
    ("nodes", "match", "path"),
    [
        ({"9C": "00"}, "expected a list of \\(tag, value\\) nodes, got dict", ()),
        ([("9C",)], "node 0 is not a \\(tag, value\\) pair", ()),
        (["9C00"], "node 0 is not a \\(tag, value\\) pair", ()),
        ([("70", "00")], "constructed tag needs a list of child nodes", ("tag 70",)),
        ([("70", {"9C": "00"})], "constructed tag needs a list of child nodes", ("tag 70",)),
        ([("9C", [])], "primitive tag needs a hex string", ("tag 9C",)),
        ([("9F", "00")], "announce more tag bytes", ("tag 9F",)),
        ([("70", [("5A", "1")])], "even-length hex", ("tag 70", "tag 5A")),
    ],
)
def test_encode_errors(nodes: Any, match: str, path: tuple[str, ...]) -> None:
    with pytest.raises(EncodeError, match=match) as info:
        encode_ber_tlv_nodes(nodes)
    assert info.value.path == path


def test_encode_refuses_cycles() -> None:
    loop: list[Any] = []
    loop.append(("70", loop))
    with pytest.raises(EncodeError, match="nested deeper"):
        encode_ber_tlv_nodes(loop)


def test_ber_tag_bytes() -> None:
    assert ber_tag_bytes("9f02") == bytes.fromhex("9F02")
    with pytest.raises(EncodeError, match="last tag byte has bit 8 set"):
        ber_tag_bytes("9F82")


# ------------------------------------------------------------------- properties


def _plain(nodes: list[BerTlvNode]) -> list[tuple[str, Any]]:
    """Nodes without offsets, for comparing with what was encoded."""
    return [(tag, value if isinstance(value, str) else _plain(value)) for tag, value, _ in nodes]


primitive_nodes = st.tuples(_tags(constructed=False), hex_values)
node_lists = st.recursive(
    st.lists(primitive_nodes, max_size=5),
    lambda children: st.lists(
        st.one_of(primitive_nodes, st.tuples(_tags(constructed=True), children)), max_size=5
    ),
    max_leaves=15,
)


def _check_offsets(wire: bytes, nodes: list[BerTlvNode], base: int) -> None:
    for tag, value, offset in nodes:
        at = offset - base
        assert wire[at : at + len(tag) // 2].hex().upper() == tag
        if not isinstance(value, str):
            _check_offsets(wire, value, base)


@settings(max_examples=300, deadline=None)
@given(node_lists, st.integers(0, 1000))
def test_nodes_round_trip(nodes: list[tuple[str, Any]], base: int) -> None:
    wire = encode_ber_tlv_nodes(nodes)
    decoded = decode_ber_tlv_nodes(wire, base_offset=base)
    assert _plain(decoded) == nodes
    _check_offsets(wire, decoded, base)
    assert encode_ber_tlv_nodes(decoded) == wire  # canonical bytes survive decode -> encode


@settings(max_examples=200, deadline=None)
@given(st.lists(primitive_nodes, min_size=1, max_size=4), st.integers(2, 3))
def test_repeated_tags_kept_in_order(items: list[tuple[str, str]], times: int) -> None:
    nodes = items * times  # every tag at least twice, interleaved
    wire = encode_ber_tlv_nodes([("61", nodes), *nodes])
    decoded = decode_ber_tlv_nodes(wire)
    assert _plain(decoded) == [("61", nodes), *nodes]
    with pytest.raises(DecodeError, match="duplicate tag"):
        decode_ber_tlv(wire)


@settings(max_examples=500, deadline=None)
@given(
    st.binary(max_size=120),
    st.integers(0, 1000),
    st.booleans(),
    st.integers(0, MAX_BER_DEPTH),
    st.sampled_from([None, 1, 2, 3]),
)
def test_garbage_raises_only_decode_error(
    data: bytes, base: int, padding: bool, max_depth: int, max_tag_bytes: int | None
) -> None:
    try:
        nodes = decode_ber_tlv_nodes(
            data,
            base_offset=base,
            padding=padding,
            max_depth=max_depth,
            max_tag_bytes=max_tag_bytes,
        )
    except DecodeError as exc:
        error = exc
    else:
        assert _plain(decode_ber_tlv_nodes(encode_ber_tlv_nodes(nodes))) == _plain(nodes)
        return
    assert error.offset is not None
    assert base <= error.offset <= base + len(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_dict_form_agrees_with_list_form(data: bytes) -> None:
    """The dict form is the list form where tags are unique; same errors otherwise."""
    try:
        nodes = decode_ber_tlv_nodes(data)
    except DecodeError as exc:
        with pytest.raises(DecodeError) as info:
            decode_ber_tlv(data)
        error = exc
    else:
        if len({tag for tag, _, _ in nodes}) < len(nodes) or _nested_repeat(nodes):
            with pytest.raises(DecodeError, match="duplicate tag"):
                decode_ber_tlv(data)
        else:
            assert encode_ber_tlv(decode_ber_tlv(data)) == encode_ber_tlv_nodes(nodes)
        return
    if "duplicate" not in info.value.reason:  # a repeat may come before the fault
        assert (info.value.reason, info.value.offset) == (error.reason, error.offset)


def _nested_repeat(nodes: list[BerTlvNode]) -> bool:
    for _, value, _ in nodes:
        if isinstance(value, list) and (
            len({tag for tag, _, _ in value}) < len(value) or _nested_repeat(value)
        ):
            return True
    return False
