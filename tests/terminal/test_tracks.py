"""ISO/IEC 7813 tracks, LRC and serial-reader framing (terminal.core.tracks)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.cards import Brand, Expiry, ServiceCode
from terminal.core.errors import CardDataError
from terminal.core.tracks import (
    Swipe,
    Track1,
    Track2,
    build_track1,
    build_track2,
    compute_lrc,
    parse_swipe,
    parse_track1,
    parse_track2,
)

PAN = "4761739001010010"
DISC = "1000012300"
T1 = "%B4761739001010010^DOE/JOHN^30121011000012300?#"
T2 = ";4761739001010010=30121011000012300?0"
T1_NO_LRC = T1[:-1]
T2_NO_LRC = T2[:-1]
F35 = "4761739001010010=30121011000012300"
F45 = "B4761739001010010^DOE/JOHN^30121011000012300"

# Track-1 LRCs that look like start sentinels (found by search; checked below).
T1_LRC_SEMICOLON = "%B4761739001010010^DOE/JOHN^3012101AX?;"
T1_LRC_PERCENT = "%B4761739001010010^DOE/JOHN^30121010007?%"
T1_LRC_PLUS = "%B4761739001010010^DOE/JOHN^3012101AH?+"
T2_LRC_SEMICOLON = ";4761739001010010=30121010028?;"
T2_LRC_QUESTION = ";4761739001010010=30121010068??"

T1_TEXT = "".join(chr(c) for c in range(0x20, 0x60) if chr(c) not in "%^?")


# --- LRC ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "track", "lrc"),
    [
        # Worked examples from reader manuals: 4-bit columns over ";", data, "?".
        (";0?", 2, "4"),
        (";01?", 2, "5"),
        (";0124?", 2, "3"),
        # 6-bit example: "%7C^SZ?" has LRC bits 011001 -> 0x19 + 0x20.
        ("%7C^SZ?", 1, "9"),
        (T1_NO_LRC, 1, "#"),
        (T2_NO_LRC, 2, "0"),
        (T1_LRC_SEMICOLON[:-1], 1, ";"),
        (T2_LRC_QUESTION[:-1], 2, "?"),
    ],
)
def test_lrc_golden(data, track, lrc):
    assert compute_lrc(data, track=track) == lrc


@pytest.mark.parametrize(
    ("data", "track", "offset"), [(";0A?", 2, 2), ("%b?", 1, 1), ("%\x7f", 1, 1)]
)
def test_lrc_rejects_unencodable_characters(data, track, offset):
    with pytest.raises(CardDataError) as exc:
        compute_lrc(data, track=track)
    assert (exc.value.offset, exc.value.track) == (offset, track)


def test_lrc_only_for_tracks_1_and_2():
    with pytest.raises(CardDataError):
        compute_lrc(";0?", track=3)  # type: ignore[arg-type]


# --- valid tracks -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [T2, T2_NO_LRC, F35, F35.replace("=", "D"), F35.replace("=", "d")])
def test_parse_track2_forms(raw):
    t = parse_track2(raw)
    assert t.pan == PAN
    assert t.expiry == Expiry(2030, 12)
    assert t.service_code == ServiceCode("101")
    assert t.discretionary == DISC
    assert t.for_iso8583() == F35
    assert t.encode() == T2
    assert t.encode(with_lrc=False) == T2_NO_LRC
    assert t.brand is Brand.VISA
    assert t.luhn_valid


@pytest.mark.parametrize("raw", [T1, T1_NO_LRC, F45])
def test_parse_track1_forms(raw):
    t = parse_track1(raw)
    assert (t.pan, t.name, t.discretionary) == (PAN, "DOE/JOHN", DISC)
    assert (t.surname, t.first_name) == ("DOE", "JOHN")
    assert t.expiry.yymm == "3012"
    assert t.service_code.code == "101"
    assert t.encode() == T1
    assert t.for_iso8583() == F45


@pytest.mark.parametrize(
    ("name", "surname", "first"),
    [
        ("DOE/JOHN Q.MR", "DOE", "JOHN Q.MR"),
        ("JOHN DOE", "JOHN DOE", ""),
        (" /", "", ""),
        ("O'BRIEN/ANNE-MARIE", "O'BRIEN", "ANNE-MARIE"),
    ],
)
def test_track1_names(name, surname, first):
    t = parse_track1(build_track1(PAN, name, "3012", "101"))
    assert (t.name, t.surname, t.first_name) == (name, surname, first)


def test_track_length_limits_include_sentinels_and_lrc():
    t1 = build_track1(PAN, "A" * 26, "3012", "101", "9" * 24)
    t2 = build_track2(PAN, "3012", "101", "9" * 13)
    assert (len(t1), len(t2)) == (79, 40)
    assert parse_track1(t1).encode() == t1
    assert parse_track2(t2).encode() == t2
    with pytest.raises(CardDataError) as exc:
        build_track2(PAN, "3012", "101", "9" * 14)
    assert (exc.value.track, exc.value.offset) == (2, 38)
    with pytest.raises(CardDataError) as exc:
        build_track1(PAN, "A" * 26, "3012", "101", "9" * 25)
    assert (exc.value.track, exc.value.offset) == (1, 77)


def test_luhn_is_not_checked_when_reading_tracks():
    t = parse_track2(";4761739001010011=3012101?")
    assert not t.luhn_valid


def test_19_and_12_digit_pans():
    for pan in ("6250946000000016123", "123456789012"):
        assert parse_track2(build_track2(pan, "3012", "101")).pan == pan
        assert parse_track1(build_track1(pan, "A/B", "3012", "101")).pan == pan


# --- invalid tracks: exact offsets --------------------------------------------------------

T2_ERRORS = [
    (";4761739001010010X3012101?", 17, "expected '=' separator"),
    ("4761739001010010X3012101", 16, "expected '=' separator"),
    (";4761739001010010D3012101?", 17, "expected '=' separator"),  # D only in field 35
    (";4761739001010010", 17, "missing end sentinel"),
    (";47617390010100101234=3012101?", 20, "PAN longer than 19 digits"),
    (";47617390010=3012101?", 12, "11 digits"),
    (";=3012101?", 1, "0 digits"),
    (";?", 1, "expected '=' separator"),
    (";", 1, "missing end sentinel"),
    ("", 0, "empty"),
    (";4761739001010010=3013101?", 20, "month 13"),
    (";4761739001010010=30A2101?", 20, "expiry: expected a digit"),
    (";4761739001010010=30?", 20, "4 digits"),
    (";4761739001010010=30121?", 23, "3 digits"),
    (";4761739001010010=3012101ABC?", 25, "discretionary data"),
    (";4761739001010010=3012101?X", 26, "LRC mismatch"),
    (";4761739001010010=3012101?12", 27, "unexpected data after LRC"),
    ("4761739001010010=3012101?", 24, "end sentinel without start sentinel"),
    ("%B4761739001010010^DOE/JOHN^3012101?", 0, "expected start sentinel ';'"),
    (";4761739001010010=3012101" + "1" * 14 + "?", 38, "longer than 40"),
    (";4761739001010010=3012101١?", 25, "discretionary data"),
]

T1_ERRORS = [
    ("%A4761739001010010^DOE/JOHN^3012101?", 1, "format code 'B'"),
    ("%?", 1, "format code 'B'"),
    ("%B4761739001010010=DOE/JOHN^3012101?", 18, "expected '^' separator"),
    ("%B4761739001010010^DOE/JOHN3012101?", 34, "expected '^' separator"),
    ("%B47617390010100101234^DOE/JOHN^3012101?", 21, "PAN longer than 19 digits"),
    ("%B4761739^DOE/JOHN^3012101?", 9, "7 digits"),
    ("%B4761739001010010^" + "A" * 27 + "^3012101?", 45, "name longer than 26"),
    ("%B4761739001010010^" + "A" * 30 + "3012101?", 45, "name longer than 26"),
    ("%B4761739001010010^Doe/JOHN^3012101?", 20, "name: character 'o'"),
    ("%B4761739001010010^X^3012101?", 20, "name shorter than 2"),
    ("%B4761739001010010^^3012101?", 19, "name shorter than 2"),
    ("%B4761739001010010^DOE/JOHN^3099101?", 30, "month 99"),
    ("%B4761739001010010^DOE/JOHN^3012101AB^C?", 37, "discretionary data: character '^'"),
    ("%B4761739001010010^DOE/JOHN^3012101abc?", 35, "discretionary data: character 'a'"),
    ("%B4761739001010010^DOE/JOHN^3012101?X", 36, "LRC mismatch"),
    ("B4761739001010010^DOE/JOHN^3012101?", 34, "end sentinel without start sentinel"),
    (";4761739001010010=3012101?", 0, "expected start sentinel '%'"),
    ("%B4761739001010010^DOE/JOHN^3012101" + "0" * 43 + "?", 77, "longer than 79"),
    ("B4761739001010010^DOE/JOHN^3012101" + "0" * 43, 76, "longer than 79"),
]


@pytest.mark.parametrize(("raw", "offset", "reason"), T2_ERRORS)
def test_track2_errors(raw, offset, reason):
    with pytest.raises(CardDataError) as exc:
        parse_track2(raw)
    assert (exc.value.track, exc.value.offset) == (2, offset)
    assert reason in exc.value.reason
    assert str(exc.value).startswith(f"track 2 offset {offset}: ")


@pytest.mark.parametrize(("raw", "offset", "reason"), T1_ERRORS)
def test_track1_errors(raw, offset, reason):
    with pytest.raises(CardDataError) as exc:
        parse_track1(raw)
    assert (exc.value.track, exc.value.offset) == (1, offset)
    assert reason in exc.value.reason


def test_error_message_example_from_the_spec():
    with pytest.raises(CardDataError, match=r"^track 2 offset 17: expected '=' separator$"):
        parse_track2(";4761739001010010X3012101?")


@pytest.mark.parametrize(
    ("build", "offset", "reason"),
    [
        (lambda: build_track2(PAN, "3013", "101"), 20, "month 13"),
        (lambda: build_track2(PAN, "301", "101"), 21, "4 digits"),
        (lambda: build_track2(PAN, "3012", "10"), 24, "3 digits"),
        (lambda: build_track2(PAN, "3012", "101", "12A"), 27, "discretionary data"),
        (lambda: build_track2("4761 739001010010", "3012", "101"), 5, "expected a digit"),
        (lambda: build_track2("47617390010", "3012", "101"), 12, "11 digits"),
        (lambda: build_track1(PAN, "doe/john", "3012", "101"), 19, "name: character 'd'"),
        (lambda: build_track1(PAN, "DOE^JOHN", "3012", "101"), 22, "name: character '^'"),
        (lambda: build_track1(PAN, "A" * 27, "3012", "101"), 45, "name longer than 26"),
        (lambda: build_track1(PAN, "DOE/JOHN", "1313", "101"), 30, "month 13"),
        (lambda: build_track1(PAN, "DOE/JOHN", "3012", "1X1"), 33, "service code"),
        (lambda: build_track1(PAN, "DOE/JOHN", "3012", "101", "A?B"), 36, "character '?'"),
    ],
)
def test_build_errors_give_offsets_in_the_encoded_track(build, offset, reason):
    with pytest.raises(CardDataError) as exc:
        build()
    assert exc.value.offset == offset
    assert reason in exc.value.reason


def test_track_constructors_want_typed_values():
    with pytest.raises(TypeError):
        Track2(PAN, "3012", ServiceCode("101"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Track1(PAN, "A/B", Expiry(2030, 12), "101")  # type: ignore[arg-type]


# --- no card data in reprs ----------------------------------------------------------------


def test_reprs_hide_pan_discretionary_name_and_raw_data():
    t1, t2 = parse_track1(T1), parse_track2(T2)
    swipe = parse_swipe(T1 + T2)
    for obj in (t1, t2, swipe):
        for text in (repr(obj), str(obj), f"{obj}", repr([obj])):
            assert PAN not in text
            assert DISC not in text
            assert "DOE" not in text
            assert "476173******0010" in text
    assert repr(t2) == "Track2(pan='476173******0010', expiry='3012', service_code='101')"


def test_errors_do_not_carry_the_pan():
    for raw in (";4761739001010010=3013101?", "%B4761739001010010^DOE/JOHN^3012101?X"):
        with pytest.raises(CardDataError) as exc:
            parse_swipe(raw)
        assert PAN not in str(exc.value)


# --- serial-reader framing ----------------------------------------------------------------

STX, ETX = "\x02", "\x03"


@pytest.mark.parametrize(
    ("raw", "tracks", "failed"),
    [
        (T1 + T2, (1, 2), ()),
        (T1_NO_LRC + T2_NO_LRC, (1, 2), ()),
        (T1 + T2_NO_LRC + "\r\n", (1, 2), ()),
        (STX + T1 + T2 + ETX, (1, 2), ()),
        (STX + T1 + ETX + STX + T2 + ETX, (1, 2), ()),
        (STX + T1_NO_LRC + T2_NO_LRC + ETX + "\r\n", (1, 2), ()),
        (T1 + "\r\n" + T2 + "\r\n", (1, 2), ()),
        (T1_NO_LRC + "\r" + T2_NO_LRC + "\r", (1, 2), ()),
        (T2 + "\n", (2,), ()),
        (T2, (2,), ()),
        (T1, (1,), ()),
        (F35, (2,), ()),
        (F35.replace("=", "D") + "\r\n", (2,), ()),
        (F45 + "\r\n" + F35 + "\r\n", (1, 2), ()),
        ("%E?" + T2, (2,), (1,)),
        ("%E?" + T2_NO_LRC + "+E?", (2,), (1, 3)),
        (T1 + ";E?", (1,), (2,)),
        (T1_NO_LRC + ";E?\r\n", (1,), (2,)),
        (STX + "%E?" + T2 + ETX, (2,), (1,)),
        ("E\r\n" + T2_NO_LRC + "\r\n", (2,), (1,)),
        ("E" + T2_NO_LRC, (2,), (1,)),
        (T1_NO_LRC + "\r\nE\r\n", (1,), (2,)),
        (T1 + T2 + "+E?", (1, 2), (3,)),
        (T1 + T2 + ";1234567890=123?", (1, 2), ()),  # track 3 by position: not kept
        (T1 + T2 + "+1234567890=123?", (1, 2), ()),
        (T2 + "\r\n" + F35, (2,), ()),  # bare digits after track 2 are track 3
        # LRCs that look like sentinels must not be mistaken for the next track.
        (T1_LRC_SEMICOLON + T2_LRC_SEMICOLON, (1, 2), ()),
        (T1_LRC_SEMICOLON + T2_LRC_SEMICOLON + "+E?", (1, 2), (3,)),
        (T1_LRC_PERCENT + T2_LRC_QUESTION, (1, 2), ()),
        (T1_LRC_PLUS + T2_LRC_QUESTION + "+E?", (1, 2), (3,)),
        (T1_LRC_PERCENT[:-1] + ";4761739001010010=30121010007?", (1, 2), ()),
    ],
)
def test_parse_swipe_framings(raw, tracks, failed):
    swipe = parse_swipe(raw)
    assert swipe.tracks_read == tracks
    assert swipe.failed == failed
    assert swipe.pan == PAN
    assert swipe.expiry == Expiry(2030, 12)
    assert swipe.brand is Brand.VISA
    assert swipe.masked_pan == "476173******0010"


@pytest.mark.parametrize(
    ("raw", "track", "offset", "reason"),
    [
        ("", None, None, "no readable track"),
        ("\r\n" + STX + ETX, None, None, "no readable track"),
        ("%E?;E?", None, None, "failed: 1, 2"),
        ("E\r\nE\r\n", None, None, "failed: 1, 2"),
        ("E\nE\nE\nE", None, 6, "beyond 3"),
        ("hello", None, 0, "unrecognised"),
        (T2 + "\r\nxyz", None, len(T2) + 2, "unrecognised"),
        (T1 + T1, None, len(T1), "track 1 appears twice"),
        (T1 + "\r\n" + F45, None, len(T1) + 2, "track 1 appears twice"),
        ("%E?" + T1, None, 3, "track 1 appears twice"),
        ("%E?;4761739001010010X3012101?", 2, 17, "expected '=' separator"),
        (T1_NO_LRC + "X" + T2, 1, len(T1_NO_LRC), "LRC mismatch"),
        (T1 + ";4761739001010011=30121011000012300?", None, None, "disagree on the PAN"),
        (T1 + ";4761739001010010=30111011000012300?", None, None, "disagree on the expiry"),
        (T1 + ";4761739001010010=30122011000012300?", None, None, "service code"),
    ],
)
def test_parse_swipe_errors(raw, track, offset, reason):
    with pytest.raises(CardDataError) as exc:
        parse_swipe(raw)
    assert (exc.value.track, exc.value.offset) == (track, offset)
    assert reason in exc.value.reason


def test_swipe_needs_a_track():
    with pytest.raises(CardDataError):
        Swipe(failed=(1, 2))


def test_swipe_prefers_track2():
    swipe = parse_swipe(T1 + T2)
    assert swipe.service_code == swipe.track2.service_code
    assert parse_swipe(T1).pan == PAN


# --- properties ---------------------------------------------------------------------------

DIGITS = "0123456789"
pans = st.integers(12, 19).flatmap(lambda n: st.text(alphabet=DIGITS, min_size=n, max_size=n))
expiries = st.builds(Expiry, st.integers(2000, 2099), st.integers(1, 12))
service_codes = st.text(alphabet=DIGITS, min_size=3, max_size=3).map(ServiceCode)
names = st.text(alphabet=T1_TEXT, min_size=2, max_size=26)


@st.composite
def track1s(draw):
    pan, name = draw(pans), draw(names)
    room = 76 - (1 + len(pan) + 1 + len(name) + 1 + 7)
    disc = draw(st.text(alphabet=T1_TEXT, max_size=room))
    return Track1(pan, name, draw(expiries), draw(service_codes), disc)


@st.composite
def track2s(draw):
    pan = draw(pans)
    disc = draw(st.text(alphabet=DIGITS, max_size=37 - (len(pan) + 1 + 7)))
    return Track2(pan, draw(expiries), draw(service_codes), disc)


@given(track1s(), st.booleans())
def test_track1_round_trip(t, with_lrc):
    raw = build_track1(
        t.pan, t.name, t.expiry.yymm, t.service_code.code, t.discretionary, with_lrc=with_lrc
    )
    assert len(raw) <= 79 - (not with_lrc)
    assert parse_track1(raw) == t
    assert parse_track1(t.for_iso8583()) == t


@given(track2s(), st.booleans())
def test_track2_round_trip(t, with_lrc):
    raw = build_track2(t.pan, t.expiry, t.service_code, t.discretionary, with_lrc=with_lrc)
    assert len(raw) <= 40 - (not with_lrc)
    assert parse_track2(raw) == t
    assert parse_track2(t.for_iso8583()) == t
    assert parse_track2(t.for_iso8583().replace("=", "D")) == t


@given(track1s(), track2s(), st.booleans(), st.sampled_from(["", "\r", "\r\n", STX + ETX]))
def test_swipe_round_trip(t1, t2, with_lrc, sep):
    t1 = Track1(t2.pan, t1.name, t2.expiry, t2.service_code, t1.discretionary[:20])
    raw = t1.encode(with_lrc=with_lrc) + sep + t2.encode(with_lrc=with_lrc)
    swipe = parse_swipe(STX + raw + ETX)
    assert (swipe.track1, swipe.track2, swipe.failed) == (t1, t2, ())


TRACKISH = "%;+?^=BDdE0123456789 /AZ\x02\x03\r\n"


def _only_card_data_errors(parse, raw):
    with contextlib.suppress(CardDataError):
        parse(raw)


@settings(max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet=TRACKISH)))
def test_arbitrary_input_raises_only_card_data_error(raw):
    for parse in (parse_track1, parse_track2, parse_swipe):
        _only_card_data_errors(parse, raw)


@given(track2s(), st.integers(0, 60), st.characters())
def test_corrupted_tracks_raise_only_card_data_error(t, pos, char):
    raw = t.encode()
    pos = min(pos, len(raw))
    for corrupted in (raw[:pos] + char + raw[pos + 1 :], raw[:pos], raw[:pos] + char + raw[pos:]):
        for parse in (parse_track2, parse_swipe):
            _only_card_data_errors(parse, corrupted)
