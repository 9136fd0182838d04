"""ISO/IEC 7813 magnetic-stripe tracks 1 and 2: parse, build, LRC, serial-reader framing.

Track 1: ``%B<PAN>^<NAME>^<YYMM><SC><discretionary>?<LRC>`` (6-bit chars, at most 79).
Track 2: ``;<PAN>=<YYMM><SC><discretionary>?<LRC>`` (4-bit chars, at most 40).
Both limits count sentinels and LRC, which is why ISO 8583 fields 45/35 cap at 76/37.

Parsers accept a track with sentinels (LRC optional, checked when present) or without them
(the ISO 8583 field 45/35 form; field 35 may use ``D`` as separator, as BCD unpacking gives).
Error offsets are character offsets within the track exactly as given. Parsing never checks
Luhn: a bad check digit is the host's decision (response 14), not an unreadable card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from terminal.core.cards import (
    PAN_MAX_LENGTH,
    Brand,
    Expiry,
    ServiceCode,
    detect_brand,
    luhn_valid,
    masked_pan,
    validate_pan,
)
from terminal.core.errors import CardDataError

__all__ = [
    "NAME_MAX_LENGTH",
    "NAME_MIN_LENGTH",
    "TRACK1_MAX_LENGTH",
    "TRACK2_MAX_LENGTH",
    "Swipe",
    "Track1",
    "Track2",
    "build_track1",
    "build_track2",
    "compute_lrc",
    "parse_swipe",
    "parse_track1",
    "parse_track2",
    "parse_track2_equivalent",
]

TRACK1_MAX_LENGTH = 79
TRACK2_MAX_LENGTH = 40
NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 26

_SS1, _SS2, _SS3, _ES = "%", ";", "+", "?"
_FS1, _FS2 = "^", "="
_FORMAT_B = "B"
_DIGITS = frozenset("0123456789")
# Track 1 free text (name, discretionary): the 6-bit set minus sentinels and separator.
_T1_TEXT = frozenset(chr(c) for c in range(0x20, 0x60)) - {_SS1, _FS1, _ES}
# Overhead of the sentinel form: start sentinel, end sentinel, LRC.
_FRAMING = 3

_STX, _ETX = "\x02", "\x03"
_BREAKS = frozenset((_STX, _ETX, "\r", "\n"))
_FAILED = "E"


def compute_lrc(data: str, *, track: Literal[1, 2]) -> str:
    """ISO/IEC 7811 LRC of ``data`` (start sentinel through end sentinel, inclusive).

    Each LRC bit is the even parity of that bit over every character's data bits: track 1
    characters are ``ord(c) - 0x20`` (6 bits), track 2 ``ord(c) - 0x30`` (4 bits). The
    per-character parity bit exists only on the stripe, so it plays no part here.
    """
    if track not in (1, 2):
        raise CardDataError("LRC is defined for track 1 or 2 only", track=track)
    base, size = (0x20, 0x40) if track == 1 else (0x30, 0x10)
    acc = 0
    for i, c in enumerate(data):
        value = ord(c) - base
        if not 0 <= value < size:
            raise CardDataError(f"character {c!r} is not encodable", offset=i, track=track)
        acc ^= value
    return chr(acc + base)


def _shift(err: CardDataError, delta: int, track: int | None) -> CardDataError:
    """Re-express an error found in a sub-field at its position within the whole track."""
    offset = None if err.offset is None else err.offset + delta
    return CardDataError(err.reason, offset=offset, track=track)


def _check_text(text: str, at: int, what: str, allowed: frozenset[str], track: int) -> None:
    for i, c in enumerate(text):
        if c not in allowed:
            raise CardDataError(f"{what}: character {c!r} not allowed", offset=at + i, track=track)


def _check_pan(pan: str, at: int, track: int) -> None:
    try:
        validate_pan(pan, check_luhn=False)
    except CardDataError as err:
        raise _shift(err, at, track) from None


def _check_name(name: str, at: int, *, complete: bool = True) -> None:
    """Name rules; ``complete=False`` skips the minimum length (the name may be cut short)."""
    _check_text(name[:NAME_MAX_LENGTH], at, "name", _T1_TEXT, 1)
    if len(name) > NAME_MAX_LENGTH:
        raise CardDataError(
            f"name longer than {NAME_MAX_LENGTH} characters", offset=at + NAME_MAX_LENGTH, track=1
        )
    if complete and len(name) < NAME_MIN_LENGTH:
        raise CardDataError(
            f"name shorter than {NAME_MIN_LENGTH} characters", offset=at + len(name), track=1
        )


def _check_types(expiry: object, service_code: object) -> None:
    """Catch a bare "YYMM" or "201" early (the build_* helpers accept those)."""
    if not isinstance(expiry, Expiry) or not isinstance(service_code, ServiceCode):
        raise TypeError("expiry must be an Expiry and service_code a ServiceCode")


def _check_length(body_length: int, body_at: int, track: Literal[1, 2]) -> None:
    """``body_length`` excludes sentinels and LRC; the ISO limit includes them."""
    limit = TRACK1_MAX_LENGTH if track == 1 else TRACK2_MAX_LENGTH
    if body_length > limit - _FRAMING:
        raise CardDataError(
            f"track {track} longer than {limit} characters (sentinels and LRC included)",
            offset=body_at + limit - _FRAMING,
            track=track,
        )


@dataclass(frozen=True, repr=False)
class Track1:
    """A decoded track 1 (format B). Its repr shows only the masked PAN."""

    pan: str
    name: str
    expiry: Expiry
    service_code: ServiceCode
    discretionary: str = ""

    def __post_init__(self) -> None:
        _check_types(self.expiry, self.service_code)
        # Offsets refer to the sentinel form: "%B" puts the PAN at offset 2.
        _check_pan(self.pan, 2, 1)
        name_at = 2 + len(self.pan) + 1
        _check_name(self.name, name_at)
        disc_at = name_at + len(self.name) + 1 + 7
        _check_text(self.discretionary, disc_at, "discretionary data", _T1_TEXT, 1)
        _check_length(disc_at - 1 + len(self.discretionary), 1, 1)

    def for_iso8583(self) -> str:
        """The ISO 8583 field 45 form: no sentinels, no LRC."""
        return (
            f"{_FORMAT_B}{self.pan}{_FS1}{self.name}{_FS1}"
            f"{self.expiry.yymm}{self.service_code.code}{self.discretionary}"
        )

    def encode(self, *, with_lrc: bool = True) -> str:
        """The stripe form with sentinels, followed by the LRC unless ``with_lrc`` is False."""
        data = f"{_SS1}{self.for_iso8583()}{_ES}"
        return data + compute_lrc(data, track=1) if with_lrc else data

    @property
    def surname(self) -> str:
        """Part before ``/`` (the whole name when there is no ``/``)."""
        return self.name.partition("/")[0].strip()

    @property
    def first_name(self) -> str:
        """Part after ``/`` (first name, initials, title); empty without ``/``."""
        return self.name.partition("/")[2].strip()

    @property
    def masked_pan(self) -> str:
        return masked_pan(self.pan)

    @property
    def brand(self) -> Brand:
        return detect_brand(self.pan)

    @property
    def luhn_valid(self) -> bool:
        return luhn_valid(self.pan)

    def __repr__(self) -> str:
        return (
            f"Track1(pan={self.masked_pan!r}, expiry={self.expiry.yymm!r}, "
            f"service_code={self.service_code.code!r})"
        )


@dataclass(frozen=True, repr=False)
class Track2:
    """A decoded track 2. Its repr shows only the masked PAN."""

    pan: str
    expiry: Expiry
    service_code: ServiceCode
    discretionary: str = ""

    def __post_init__(self) -> None:
        _check_types(self.expiry, self.service_code)
        # Offsets refer to the sentinel form: ";" puts the PAN at offset 1.
        _check_pan(self.pan, 1, 2)
        disc_at = 1 + len(self.pan) + 1 + 7
        _check_text(self.discretionary, disc_at, "discretionary data", _DIGITS, 2)
        _check_length(disc_at - 1 + len(self.discretionary), 1, 2)

    def for_iso8583(self) -> str:
        """The ISO 8583 field 35 form: no sentinels, no LRC, ``=`` separator."""
        return f"{self.pan}{_FS2}{self.expiry.yymm}{self.service_code.code}{self.discretionary}"

    def encode(self, *, with_lrc: bool = True) -> str:
        """The stripe form with sentinels, followed by the LRC unless ``with_lrc`` is False."""
        data = f"{_SS2}{self.for_iso8583()}{_ES}"
        return data + compute_lrc(data, track=2) if with_lrc else data

    def equivalent_data(self) -> bytes:
        """EMV track 2 equivalent data (tag 57): BCD nibbles, ``D`` separator, ``F`` pad."""
        nibbles = f"{self.pan}D{self.expiry.yymm}{self.service_code.code}{self.discretionary}"
        return bytes.fromhex(nibbles + "F" * (len(nibbles) % 2))

    @property
    def masked_pan(self) -> str:
        return masked_pan(self.pan)

    @property
    def brand(self) -> Brand:
        return detect_brand(self.pan)

    @property
    def luhn_valid(self) -> bool:
        return luhn_valid(self.pan)

    def __repr__(self) -> str:
        return (
            f"Track2(pan={self.masked_pan!r}, expiry={self.expiry.yymm!r}, "
            f"service_code={self.service_code.code!r})"
        )


# --- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """Where the body of a track sits in the given string, and its LRC if one was given."""

    body: str
    start: int
    lrc: str | None
    lrc_at: int


def _unframe(raw: str, sentinel: str, track: Literal[1, 2]) -> _Frame:
    if not raw:
        raise CardDataError("empty track data", offset=0, track=track)
    if raw[0] != sentinel:
        if raw[0] in (_SS1, _SS2, _SS3):
            raise CardDataError(f"expected start sentinel {sentinel!r}", offset=0, track=track)
        es = raw.find(_ES)
        if es >= 0:
            raise CardDataError("end sentinel without start sentinel", offset=es, track=track)
        return _Frame(raw, 0, None, len(raw))
    es = raw.find(_ES, 1)
    if es < 0:
        raise CardDataError(f"missing end sentinel {_ES!r}", offset=len(raw), track=track)
    tail = raw[es + 1 :]
    if len(tail) > 1:
        raise CardDataError("unexpected data after LRC", offset=es + 2, track=track)
    return _Frame(raw[1:es], 1, tail or None, es + 1)


def _check_lrc(raw: str, frame: _Frame, track: Literal[1, 2]) -> None:
    if frame.lrc is not None and compute_lrc(raw[: frame.lrc_at], track=track) != frame.lrc:
        raise CardDataError(f"LRC mismatch (got {frame.lrc!r})", offset=frame.lrc_at, track=track)


def _scan_pan(body: str, at: int, delta: int, separators: str, track: Literal[1, 2]) -> int:
    """Index in ``body`` of the separator ending the PAN that starts at ``at``.

    ``delta`` is the body's offset in the track as given, for error positions.
    """
    i = at
    while i < len(body) and i - at < PAN_MAX_LENGTH and body[i] in _DIGITS:
        i += 1
    if i == len(body) or body[i] not in separators:
        too_long = i < len(body) and body[i] in _DIGITS
        hint = " (PAN longer than 19 digits)" if too_long else ""
        raise CardDataError(
            f"expected {separators[0]!r} separator{hint}", offset=i + delta, track=track
        )
    return i


def _scan_tail(
    body: str, at: int, delta: int, track: Literal[1, 2]
) -> tuple[Expiry, ServiceCode, str]:
    """Expiry, service code and discretionary data starting at ``body[at]``."""
    try:
        expiry = Expiry.parse(body[at : at + 4])
    except CardDataError as err:
        raise _shift(err, at + delta, track) from None
    try:
        service_code = ServiceCode(body[at + 4 : at + 7])
    except CardDataError as err:
        raise _shift(err, at + 4 + delta, track) from None
    return expiry, service_code, body[at + 7 :]


def parse_track1(raw: str) -> Track1:
    """Parse track 1 with or without sentinels (LRC checked when present) or field 45."""
    frame = _unframe(raw, _SS1, 1)
    body, d = frame.body, frame.start
    _check_length(len(body), d, 1)
    if not body.startswith(_FORMAT_B):
        raise CardDataError(f"expected format code {_FORMAT_B!r}", offset=d, track=1)
    fs = _scan_pan(body, 1, d, _FS1, 1)
    pan = body[1:fs]
    _check_pan(pan, 1 + d, 1)
    name_at = fs + 1
    fs2 = body.find(_FS1, name_at)
    if fs2 < 0:
        _check_name(body[name_at:], name_at + d, complete=False)
        raise CardDataError(f"expected {_FS1!r} separator", offset=len(body) + d, track=1)
    name = body[name_at:fs2]
    _check_name(name, name_at + d)
    expiry, service_code, disc = _scan_tail(body, fs2 + 1, d, 1)
    _check_text(disc, fs2 + 8 + d, "discretionary data", _T1_TEXT, 1)
    result = Track1(pan, name, expiry, service_code, disc)
    _check_lrc(raw, frame, 1)
    return result


def parse_track2(raw: str) -> Track2:
    """Parse track 2 with or without sentinels (LRC checked when present) or field 35."""
    frame = _unframe(raw, _SS2, 2)
    body, d = frame.body, frame.start
    _check_length(len(body), d, 2)
    # "D" is field 35's separator after BCD unpacking; it never appears on a stripe.
    fs = _scan_pan(body, 0, d, _FS2 if d else _FS2 + "Dd", 2)
    pan = body[:fs]
    _check_pan(pan, d, 2)
    expiry, service_code, disc = _scan_tail(body, fs + 1, d, 2)
    _check_text(disc, fs + 8 + d, "discretionary data", _DIGITS, 2)
    result = Track2(pan, expiry, service_code, disc)
    _check_lrc(raw, frame, 2)
    return result


def parse_track2_equivalent(data: bytes) -> Track2:
    """Parse EMV track 2 equivalent data (tag 57, as in a CPM QR code or field 55)."""
    nibbles = data.hex().upper()
    if nibbles.endswith("F"):
        nibbles = nibbles[:-1]
    if "F" in nibbles:
        raise CardDataError("pad nibble F before the end", offset=nibbles.index("F"), track=2)
    return parse_track2(nibbles)


def build_track1(
    pan: str,
    name: str,
    expiry: Expiry | str,
    service_code: ServiceCode | str,
    discretionary: str = "",
    *,
    with_lrc: bool = True,
) -> str:
    """Encode track 1 with sentinels (and LRC); errors give offsets in that encoding."""
    at = 2 + len(pan) + 1 + len(name) + 1
    exp, sc = _coerce(expiry, service_code, at, 1)
    return Track1(pan, name, exp, sc, discretionary).encode(with_lrc=with_lrc)


def build_track2(
    pan: str,
    expiry: Expiry | str,
    service_code: ServiceCode | str,
    discretionary: str = "",
    *,
    with_lrc: bool = True,
) -> str:
    """Encode track 2 with sentinels (and LRC); errors give offsets in that encoding."""
    exp, sc = _coerce(expiry, service_code, 1 + len(pan) + 1, 2)
    return Track2(pan, exp, sc, discretionary).encode(with_lrc=with_lrc)


def _coerce(
    expiry: Expiry | str, service_code: ServiceCode | str, at: int, track: Literal[1, 2]
) -> tuple[Expiry, ServiceCode]:
    try:
        exp = expiry if isinstance(expiry, Expiry) else Expiry.parse(expiry)
    except CardDataError as err:
        raise _shift(err, at, track) from None
    try:
        sc = service_code if isinstance(service_code, ServiceCode) else ServiceCode(service_code)
    except CardDataError as err:
        raise _shift(err, at + 4, track) from None
    return exp, sc


# --- a whole swipe from a reader ----------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Swipe:
    """What one swipe yielded: the tracks read, and the tracks the reader reported failed.

    At least one of track 1 and track 2 is present; when both are, they agree on PAN,
    expiry and service code. Track 3 is recognised in reader output but not kept.
    """

    track1: Track1 | None = None
    track2: Track2 | None = None
    failed: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        t1, t2 = self.track1, self.track2
        if t1 is None and t2 is None:
            raise CardDataError("a swipe needs at least one readable track")
        if t1 is not None and t2 is not None:
            for what, a, b in (
                ("PAN", t1.pan, t2.pan),
                ("expiry", t1.expiry, t2.expiry),
                ("service code", t1.service_code, t2.service_code),
            ):
                if a != b:
                    raise CardDataError(f"track 1 and track 2 disagree on the {what}")

    @property
    def _primary(self) -> Track1 | Track2:
        """Track 2 is what authorization uses; track 1 stands in when it is missing."""
        track = self.track2 if self.track2 is not None else self.track1
        assert track is not None  # guaranteed by __post_init__
        return track

    @property
    def pan(self) -> str:
        return self._primary.pan

    @property
    def expiry(self) -> Expiry:
        return self._primary.expiry

    @property
    def service_code(self) -> ServiceCode:
        return self._primary.service_code

    @property
    def masked_pan(self) -> str:
        return masked_pan(self.pan)

    @property
    def brand(self) -> Brand:
        return detect_brand(self.pan)

    @property
    def tracks_read(self) -> tuple[int, ...]:
        return tuple(n for n, t in ((1, self.track1), (2, self.track2)) if t is not None)

    def __repr__(self) -> str:
        return (
            f"Swipe(pan={self.masked_pan!r}, tracks_read={self.tracks_read!r}, "
            f"failed={self.failed!r})"
        )


@dataclass(frozen=True)
class _Token:
    """One track (or failure marker) cut out of the reader output; ``at`` is its offset."""

    kind: str  # a start sentinel, "E" for a bare failure marker, "" for no sentinel
    text: str
    at: int


def _segments(raw: str) -> list[tuple[int, str]]:
    """Split on STX/ETX/CR/LF, keeping each piece's offset in ``raw``."""
    out: list[tuple[int, str]] = []
    start = 0
    for i, c in enumerate(raw):
        if c in _BREAKS:
            if i > start:
                out.append((start, raw[start:i]))
            start = i + 1
    if start < len(raw):
        out.append((start, raw[start:]))
    return out


def _track_starts_at(seg: str, i: int) -> bool:
    """True when ``seg[i:]`` plausibly begins a sentinel-framed track or failure marker."""
    if i + 1 >= len(seg) or seg[i] not in (_SS1, _SS2, _SS3):
        return False
    nxt = seg[i + 1]
    return nxt in (_FORMAT_B, _FAILED) if seg[i] == _SS1 else nxt in _DIGITS or nxt == _FAILED


def _tokens(seg: str, at: int) -> list[_Token]:
    """Cut a segment into tracks.

    After an end sentinel the next character is taken as that track's LRC unless a new
    track plausibly starts there: an LRC can itself be ';' or '%', so one character of
    look-ahead decides.
    """
    out: list[_Token] = []
    pos = 0
    while pos < len(seg):
        c = seg[pos]
        if c in (_SS1, _SS2, _SS3):
            es = seg.find(_ES, pos + 1)
            nxt = len(seg) if es < 0 else es + 1
            if nxt < len(seg) and not _track_starts_at(seg, nxt):
                nxt += 1
            out.append(_Token(c, seg[pos:nxt], at + pos))
            pos = nxt
        elif c == _FAILED and (pos + 1 == len(seg) or _track_starts_at(seg, pos + 1)):
            out.append(_Token(_FAILED, c, at + pos))
            pos += 1
        else:
            out.append(_Token("", seg[pos:], at + pos))
            pos = len(seg)
    return out


def _track_number(token: _Token, last: int) -> int:
    """Which track a token is: by sentinel, by shape, else by position after ``last``."""
    if token.kind == _SS1:
        return 1
    if token.kind == _SS3:
        return 3
    if token.kind == _FAILED:
        return last + 1
    if token.kind == _SS2 or token.text[0] in _DIGITS:
        return 2 if last < 2 else 3
    if token.text[0] == _FORMAT_B:
        return 1
    raise CardDataError("unrecognised data in reader output", offset=token.at)


def parse_swipe(raw: str) -> Swipe:
    """Parse a magnetic-stripe reader's output for one swipe.

    Handles STX/ETX framing, CR/LF terminators, several tracks in one read (with or without
    sentinels, LRC optional) and failure markers (``%E?``, ``;E?``, ``+E?``, or a bare ``E``
    standing for the next track in order). A failed track is listed in ``Swipe.failed``;
    only a swipe with no readable track 1 or 2, or a malformed track, raises. Errors inside
    a track give the offset within that track; others give the offset within ``raw``.
    """
    track1: Track1 | None = None
    track2: Track2 | None = None
    failed: list[int] = []
    seen: set[int] = set()
    last = 0
    for seg_at, seg in _segments(raw):
        for token in _tokens(seg, seg_at):
            number = _track_number(token, last)
            if number > 3:
                raise CardDataError("failure marker for a track beyond 3", offset=token.at)
            if number in seen:
                # Not inside one track, so the offset is within ``raw`` and track stays None.
                raise CardDataError(f"track {number} appears twice in one read", offset=token.at)
            seen.add(number)
            last = max(last, number)
            if token.kind == _FAILED or token.text.startswith(token.kind + _FAILED + _ES):
                failed.append(number)
            elif number == 1:
                track1 = parse_track1(token.text)
            elif number == 2:
                track2 = parse_track2(token.text)
    if track1 is None and track2 is None:
        detail = f" (failed: {', '.join(map(str, sorted(failed)))})" if failed else ""
        raise CardDataError(f"no readable track 1 or 2 in reader output{detail}")
    return Swipe(track1, track2, tuple(sorted(failed)))
