"""The one reader parser, fed the way serial lines deliver bytes: split, noisy, framed."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.reader_text import (
    KeyedCard,
    ReaderFraming,
    ReaderStream,
    SwipeFailed,
    SwipeRead,
    parse_card_text,
)
from terminal.core.testcards import CARDS, get_card

CARD = get_card("visa-approve")
T1, T2 = CARD.track1(), CARD.track2()


def feed_all(stream: ReaderStream, data: bytes, cuts: list[int] | None = None) -> list:
    """Feed ``data`` cut at ``cuts`` (every byte alone by default), then end the stream."""
    points = sorted({0, len(data), *(cuts if cuts is not None else range(len(data)))})
    out = []
    for a, b in itertools.pairwise(points):
        out += stream.feed(data[a:b])
    return out + stream.idle() + stream.flush()


def pans(outcomes: list) -> list[str]:
    return [o.swipe.pan if isinstance(o, SwipeRead) else "FAILED" for o in outcomes]


@pytest.mark.parametrize(
    "wire",
    [
        (T1 + T2 + "\r").encode(),
        (T1 + T2 + "\r\n").encode(),
        (T1 + T2 + "\n").encode(),
        ("\x02" + T1 + T2 + "\x03").encode(),
        ("\x02" + T1 + "\r\n" + T2 + "\r\n\x03").encode(),
        (T1 + "\r" + T2 + "\r").encode(),  # one track per line
        (T2 + "\r").encode(),
        (T2[1:-2] + "\r").encode(),  # bare track 2 without sentinels or LRC
    ],
    ids=["cr", "crlf", "lf", "stx", "stx-lines", "line-per-track", "t2", "bare-t2"],
)
def test_framings_give_one_swipe(wire: bytes) -> None:
    out = feed_all(ReaderStream(), wire)
    assert pans(out) == [CARD.pan]


def test_noise_between_swipes_is_dropped_with_a_warning() -> None:
    wire = b"\x00\x00\xff\xfeREADY\r\n" + (T1 + T2 + "\r").encode() + b"\x80\x81junk\r\n"
    wire += b"garbage" + ("\x02" + T2 + "\x03").encode()
    out = feed_all(ReaderStream(), wire)
    assert pans(out) == [CARD.pan, CARD.pan]
    assert any("noise" in w or "without track data" in w for o in out for w in o.warnings)


def test_failed_track_marker_and_all_failed() -> None:
    out = feed_all(ReaderStream(), ("%E?" + T2 + "\r" + "%E?;E?\r").encode())
    assert isinstance(out[0], SwipeRead)
    assert out[0].swipe.failed == (1,)
    assert isinstance(out[1], SwipeFailed)
    assert "no readable track" in out[1].reason


def test_partial_swipes_are_read_errors_not_cards() -> None:
    stx_cut = b"\x02" + T1[:15].encode() + b"\x02" + (T2 + "\x03").encode()
    out = feed_all(ReaderStream(), stx_cut)
    assert [type(o) for o in out] == [SwipeFailed, SwipeRead]
    out = feed_all(ReaderStream(), (T1[:15] + "\r").encode())
    assert [type(o) for o in out] == [SwipeFailed]
    assert CARD.pan not in out[0].reason
    # The stream ends in the middle of a swipe (port closed).
    out = feed_all(ReaderStream(), ("\x02" + T1).encode())
    assert [type(o) for o in out] == [SwipeFailed]


def test_bad_lrc_is_a_read_error() -> None:
    bad = T2[:-1] + chr(ord(T2[-1]) ^ 1)
    (out,) = feed_all(ReaderStream(), (bad + "\r").encode())
    assert isinstance(out, SwipeFailed)
    assert "LRC" in out.reason


def test_preamble_and_postamble() -> None:
    framing = ReaderFraming(preamble=b"\x1b[", postamble=b"\x1b]")
    wire = (b"\x1b[" + (T1 + T2).encode() + b"\r\x1b]") * 2
    out = feed_all(ReaderStream(framing), wire)
    assert pans(out) == [CARD.pan, CARD.pan]
    with pytest.raises(ValueError, match="preamble"):
        ReaderFraming(preamble=b"x" * 33)


def test_runaway_line_is_bounded() -> None:
    stream = ReaderStream(ReaderFraming(max_record=64))
    (failed,) = stream.feed(b"\x02" + b"9" * 200)
    assert failed.reason == "partial swipe: no terminator"
    assert failed.warnings == ("dropped 200 bytes without a terminator",)
    assert pans(feed_all(stream, (T2 + "\r").encode())) == [CARD.pan]


def test_parse_card_text_keyed_and_swiped() -> None:
    keyed = parse_card_text(f" {CARD.pan} 3012 ")
    assert isinstance(keyed, KeyedCard)
    assert CARD.pan not in repr(keyed)
    assert parse_card_text(T2).pan == CARD.pan


_SWIPES = st.sampled_from(
    [(c.track1() + c.track2(), c.pan) for c in CARDS] + [(c.track2(), c.pan) for c in CARDS]
)
_NOISE = st.binary(max_size=12).map(lambda b: bytes(x for x in b if x not in b"%;+\x02\x03"))


@settings(max_examples=150, deadline=None)
@given(
    swipes=st.lists(st.tuples(_SWIPES, _NOISE, st.sampled_from(["\r", "\r\n", "stx"])), max_size=4),
    data=st.data(),
)
def test_any_split_any_noise_same_swipes(swipes, data) -> None:
    wire, expected = b"", []
    for (tracks, pan), noise, end in swipes:
        framed = "\x02" + tracks + "\x03" if end == "stx" else tracks + end
        wire += noise + (b"\r\n" if noise else b"") + framed.encode()
        expected.append(pan)
    cuts = data.draw(st.lists(st.integers(0, max(len(wire), 1)), max_size=20))
    out = feed_all(ReaderStream(), wire, cuts)
    assert pans([o for o in out if isinstance(o, SwipeRead)]) == expected
    assert not [o for o in out if isinstance(o, SwipeFailed)]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(wire: bytes) -> None:
    out = feed_all(ReaderStream(), wire, list(range(0, len(wire), 7)))
    assert all(isinstance(o, SwipeRead | SwipeFailed) for o in out)
