"""TCP framing: golden frames per header kind, stream reassembly, error contract."""

from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583.errors import FramingError, SpecError
from iso8583.framing import Frame, FrameFormat, LengthHeader, StreamFramer, Tpdu

PAYLOAD = b"0800\x82\x20\x00\x00\x00\x00\x00\x00"  # 12 bytes: MTI + start of a bitmap

# ------------------------------------------------------------------- golden bytes


@pytest.mark.parametrize(
    ("kind", "includes_itself", "header"),
    [
        (LengthHeader.BINARY2, False, bytes.fromhex("000C")),
        (LengthHeader.BINARY2, True, bytes.fromhex("000E")),
        (LengthHeader.ASCII4, False, b"0012"),
        (LengthHeader.ASCII4, True, b"0016"),
        (LengthHeader.BCD2, False, bytes.fromhex("0012")),
        (LengthHeader.BCD2, True, bytes.fromhex("0014")),
        (LengthHeader.NONE, False, b""),
    ],
)
def test_golden_length_headers(kind, includes_itself, header):
    fmt = FrameFormat(kind, includes_itself=includes_itself)
    wire = fmt.wrap(PAYLOAD)
    assert wire == header + PAYLOAD
    assert fmt.unwrap(wire) == Frame(tpdu=None, header=b"", payload=PAYLOAD)


def test_golden_tpdu_and_fixed_header():
    fmt = FrameFormat(LengthHeader.BINARY2, tpdu=True, header_length=6)
    cup_header = bytes.fromhex("603100000000")
    wire = fmt.wrap(PAYLOAD, tpdu=Tpdu(0x60, destination=0x0001, source=0x0000), header=cup_header)
    # 5 TPDU + 6 header + 12 payload = 23 = 0x17
    assert wire == bytes.fromhex("00176000010000603100000000") + PAYLOAD
    frame = fmt.unwrap(wire)
    assert frame == Frame(tpdu=Tpdu(0x60, 1, 0), header=cup_header, payload=PAYLOAD)


def test_golden_bcd_tpdu_includes_itself():
    fmt = FrameFormat(LengthHeader.BCD2, includes_itself=True, tpdu=True)
    wire = fmt.wrap(b"0800", tpdu=Tpdu.from_hex("6000030000"))
    assert wire == bytes.fromhex("00116000030000") + b"0800"  # 2 + 5 + 4 = 11
    assert fmt.unwrap(wire).tpdu == Tpdu(0x60, 3, 0)


def test_none_header_unwrap_splits_tpdu():
    fmt = FrameFormat(LengthHeader.NONE, tpdu=True)
    frame = fmt.unwrap(bytes.fromhex("6000050007") + b"0810")
    assert frame == Frame(tpdu=Tpdu(0x60, 5, 7), header=b"", payload=b"0810")


def test_tpdu_response_swaps_addresses():
    request = Tpdu(0x60, destination=0x0001, source=0x0002)
    assert request.response() == Tpdu(0x60, destination=0x0002, source=0x0001)
    assert request.response().response() == request
    assert request.hex() == "6000010002"
    assert request.response().to_bytes() == bytes.fromhex("6000020001")
    assert Tpdu.from_bytes(request.to_bytes()) == request


@pytest.mark.parametrize("text", ["60000100", "600001000G", "6000 10000", "600001000000"])
def test_tpdu_from_hex_rejects_bad_text(text):
    with pytest.raises(FramingError, match="TPDU"):
        Tpdu.from_hex(text)


@pytest.mark.parametrize(
    "kwargs",
    [{"id": 256}, {"destination": 0x10000}, {"source": -1}, {"destination": "0001"}],
)
def test_tpdu_rejects_out_of_range_fields(kwargs):
    with pytest.raises(FramingError, match="TPDU"):
        Tpdu(**kwargs)


def test_keepalive_wraps_to_bare_zero_length():
    assert FrameFormat(LengthHeader.BINARY2).wrap(b"") == b"\x00\x00"
    assert FrameFormat(LengthHeader.ASCII4, includes_itself=True).wrap(b"") == b"0004"


# ------------------------------------------------------------------- wrap / unwrap errors


def test_wrap_checks_tpdu_header_and_size():
    with_tpdu = FrameFormat(tpdu=True, header_length=2)
    with pytest.raises(FramingError, match="needs a TPDU"):
        with_tpdu.wrap(b"x", header=b"HH")
    with pytest.raises(FramingError, match="has no TPDU"):
        FrameFormat().wrap(b"x", tpdu=Tpdu())
    with pytest.raises(FramingError, match="fixed header must be 2 bytes, got 3"):
        with_tpdu.wrap(b"x", tpdu=Tpdu(), header=b"HHH")
    with pytest.raises(FramingError, match="101 bytes exceeds max_length 100"):
        FrameFormat(max_length=100).wrap(b"x" * 101)


@pytest.mark.parametrize(
    ("fmt", "wire", "match", "offset"),
    [
        (FrameFormat(), b"\x00", "shorter than its 2-byte length header", 0),
        (FrameFormat(), b"\x00\x05abc", "declares 5 bytes but 3 follow", 2),
        (FrameFormat(), b"\x00\x01ab", "declares 1 bytes but 2 follow", 2),
        (FrameFormat(max_length=10), b"\x00\x0b" + b"x" * 11, "length 11 exceeds max_length 10", 0),
        (FrameFormat(LengthHeader.ASCII4), b"00+1x", "non-digit ASCII length header", 0),
        (FrameFormat(LengthHeader.BCD2), b"\x0a\x01" + b"x" * 10, "invalid BCD nibble", 0),
        (FrameFormat(tpdu=True), b"\x00\x03abc", "smaller than TPDU \\+ header \\(5 bytes\\)", 0),
        (FrameFormat(includes_itself=True), b"\x00\x01", "smaller than the length header", 0),
        (FrameFormat(LengthHeader.NONE, tpdu=True), b"\x60\x00", "smaller than TPDU", 0),
        (FrameFormat(LengthHeader.NONE, max_length=3), b"abcd", "length 4 exceeds max_length 3", 0),
    ],
)
def test_unwrap_errors(fmt, wire, match, offset):
    with pytest.raises(FramingError, match=match) as info:
        fmt.unwrap(wire)
    assert info.value.offset == offset


@pytest.mark.parametrize(
    "kwargs",
    [
        {"header_length": -1},
        {"length_header": LengthHeader.ASCII4, "max_length": 10000},
        {"length_header": LengthHeader.BCD2, "includes_itself": True, "max_length": 9998},
        {"length_header": LengthHeader.BINARY2, "max_length": 0x10000},
        {"length_header": LengthHeader.NONE, "includes_itself": True},
        {"tpdu": True, "max_length": 4},
        {"length_header": "binary2"},
    ],
)
def test_invalid_frame_formats(kwargs):
    with pytest.raises(SpecError):
        FrameFormat(**kwargs)


# ------------------------------------------------------------------- stream framer


def test_stream_several_frames_in_one_read():
    fmt = FrameFormat(LengthHeader.ASCII4)
    framer = StreamFramer(fmt)
    frames = framer.feed(fmt.wrap(b"0800A") + fmt.wrap(b"0800B") + b"00")
    assert [f.payload for f in frames] == [b"0800A", b"0800B"]
    assert framer.needed == 2  # rest of the next length header


def test_stream_one_frame_over_many_reads_reports_needed():
    fmt = FrameFormat(tpdu=True)
    wire = fmt.wrap(b"0200xyz", tpdu=Tpdu(0x60, 1, 2))
    framer = StreamFramer(fmt)
    assert framer.needed == 0
    assert framer.feed(wire[:1]) == []
    assert framer.needed == 1
    assert framer.feed(wire[1:4]) == []
    assert framer.needed == len(wire) - 4
    assert framer.feed(wire[4:-1]) == []
    assert framer.needed == 1
    assert framer.feed(wire[-1:]) == [Frame(Tpdu(0x60, 1, 2), b"", b"0200xyz")]
    assert framer.needed == 0


def test_stream_keepalives_are_counted_not_returned():
    fmt = FrameFormat()
    framer = StreamFramer(fmt)
    frames = framer.feed(b"\x00\x00" + fmt.wrap(b"0800") + b"\x00\x00\x00")
    assert [f.payload for f in frames] == [b"0800"]
    assert framer.keepalives == 2
    assert framer.needed == 1
    assert framer.feed(b"\x00") == []
    assert framer.keepalives == 3
    assert framer.needed == 0


def test_stream_rejects_zero_length_when_tpdu_expected():
    framer = StreamFramer(FrameFormat(tpdu=True))
    with pytest.raises(FramingError, match="length 0 is smaller than TPDU"):
        framer.feed(b"\x00\x00")


@pytest.mark.parametrize(
    ("fmt", "bad", "match"),
    [
        (FrameFormat(LengthHeader.ASCII4), b"12a4", "non-digit ASCII length header b'12a4'"),
        (FrameFormat(LengthHeader.ASCII4), b" 123", "non-digit ASCII"),
        (FrameFormat(LengthHeader.BCD2), b"\x1f\x00", "invalid BCD nibble in length header 1F00"),
        (FrameFormat(max_length=1000), b"\x03\xe9", "length 1001 exceeds max_length 1000"),
        (
            FrameFormat(includes_itself=True, max_length=1000),
            b"\x03\xeb",
            r"length 1003 \(1001 bytes of body\) exceeds max_length 1000",
        ),
        (FrameFormat(header_length=6), b"\x00\x05", r"length 5 is smaller than TPDU \+ header"),
    ],
)
def test_stream_bad_header_offset_is_stream_position(fmt, bad, match):
    """The error is raised as soon as the header arrives, with its offset in the stream."""
    framer = StreamFramer(fmt)
    good = fmt.wrap(b"x" * 7, header=b"H" * fmt.header_length)
    assert len(framer.feed(good)) == 1
    with pytest.raises(FramingError, match=match) as info:
        framer.feed(good + bad)  # a whole frame, then the bad header, no body
    assert info.value.offset == 2 * len(good)


def test_stream_is_unusable_after_an_error():
    fmt = FrameFormat(max_length=10)
    framer = StreamFramer(fmt)
    with pytest.raises(FramingError):
        framer.feed(b"\xff\xff")
    assert framer.error is not None
    assert framer.needed == 0
    with pytest.raises(FramingError, match="unusable after an earlier error") as info:
        framer.feed(fmt.wrap(b"fine"))
    assert info.value.offset == 0


def test_stream_refuses_none_length_header():
    with pytest.raises(SpecError, match="length header"):
        StreamFramer(FrameFormat(LengthHeader.NONE))


# ------------------------------------------------------------------- properties

formats = st.builds(
    FrameFormat,
    length_header=st.sampled_from([LengthHeader.BINARY2, LengthHeader.ASCII4, LengthHeader.BCD2]),
    includes_itself=st.booleans(),
    tpdu=st.booleans(),
    header_length=st.integers(0, 6),
    max_length=st.just(600),
)
tpdus = st.builds(Tpdu, st.integers(0, 255), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))


@st.composite
def framed_streams(draw):
    """A format, the frames it should yield, keep-alive count, wire bytes, cuts, frame ends."""
    fmt = draw(formats)
    messages = draw(
        st.lists(
            st.tuples(
                st.binary(max_size=300),
                tpdus,
                st.binary(min_size=fmt.header_length, max_size=fmt.header_length),
            ),
            max_size=8,
        )
    )
    expected = []
    wire = b""
    boundaries = {0}
    for payload, tpdu, header in messages:
        wire += fmt.wrap(payload, tpdu=tpdu if fmt.tpdu else None, header=header)
        boundaries.add(len(wire))
        if payload or fmt.prefix_size:
            expected.append(Frame(tpdu if fmt.tpdu else None, header, payload))
    cuts = sorted(draw(st.lists(st.integers(0, len(wire)), max_size=12)))
    return fmt, expected, len(messages) - len(expected), wire, cuts, boundaries


@settings(max_examples=200, deadline=None)
@given(framed_streams())
def test_split_stream_yields_same_frames_in_order(case):
    fmt, expected, keepalives, wire, cuts, _ = case
    framer = StreamFramer(fmt)
    got = []
    bounds = [0, *cuts, len(wire)]
    for start, end in itertools.pairwise(bounds):
        got += framer.feed(wire[start:end])
    assert got == expected
    assert framer.keepalives == keepalives
    assert framer.needed == 0


@settings(max_examples=200, deadline=None)
@given(framed_streams())
def test_needed_is_positive_exactly_while_a_frame_is_pending(case):
    fmt, _, _, wire, cuts, boundaries = case
    framer = StreamFramer(fmt)
    fed = 0
    for cut in [*cuts, len(wire)]:
        framer.feed(wire[fed:cut])
        fed = cut
        assert (framer.needed == 0) == (fed in boundaries)
        assert fed + framer.needed <= len(wire)
    assert framer.needed == 0


@settings(max_examples=300, deadline=None)
@given(formats, st.lists(st.binary(max_size=40), max_size=6))
def test_arbitrary_bytes_only_frame_or_framing_error(fmt, chunks):
    framer = StreamFramer(fmt)
    for chunk in chunks:
        try:
            frames = framer.feed(chunk)
        except FramingError:
            continue
        assert all(isinstance(f, Frame) for f in frames)
    with contextlib.suppress(FramingError):
        fmt.unwrap(b"".join(chunks))


@settings(max_examples=100, deadline=None)
@given(formats, st.integers(601, 9000))
def test_oversized_lengths_rejected_on_header_alone(fmt, length):
    declared = length + (fmt.length_header.size if fmt.includes_itself else 0)
    if fmt.length_header is LengthHeader.BINARY2:
        header = declared.to_bytes(2, "big")
    elif fmt.length_header is LengthHeader.ASCII4:
        header = b"%04d" % declared
    else:
        header = bytes.fromhex(f"{declared:04d}")
    framer = StreamFramer(fmt)
    with pytest.raises(FramingError, match="exceeds max_length 600") as info:
        framer.feed(header)
    assert info.value.offset == 0
