"""What a magnetic-stripe reader sends, as text or as a byte stream: the one reader parser.

Three callers share it: ``posemu card parse`` and ``posemu pay --track`` (one string), the
TUI's paste field (one string, or ``PAN YYMM`` keyed in) and the serial reader adapter (a
byte stream). :func:`parse_card_text` handles the first two; :class:`ReaderStream` cuts a
byte stream into swipes and hands each to :func:`terminal.core.tracks.parse_swipe`.

Real readers differ in framing, so the stream accepts: STX/ETX around a swipe or not; CR,
LF or CR/LF after a swipe or after each track; an optional preamble and postamble (bytes a
reader is configured to send around every swipe); tracks split across any number of reads.
It is strict about the tracks themselves (sentinels, LRC when present, lengths: a damaged
swipe is a read error, never a guessed card) and tolerant of the transport: bytes outside
any track (line noise, a reader's banner, NULs after power-up) are dropped with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from terminal.core.errors import CardDataError
from terminal.core.tracks import Swipe, parse_swipe

__all__ = [
    "KeyedCard",
    "ReaderFraming",
    "ReaderStream",
    "SwipeFailed",
    "SwipeRead",
    "parse_card_text",
]

_STX, _ETX = 0x02, 0x03
_MANUAL = re.compile(r"\s*(\d{12,19})\s+(\d{4})\s*")
#: A start sentinel followed by what may follow it: a format code, a digit or ``E``.
_TRACK_START = re.compile(r"%[BE]|;[0-9E]|\+[0-9E]")
_SENTINEL_TRACK = {"%": 1, ";": 2, "+": 3}
#: Any start sentinel with something after it (the parser decides whether it is a track).
_ANY_SENTINEL = re.compile(r"[%;+](?=.)", re.DOTALL)
#: A track without sentinels (ISO 8583 field 45/35 form): it must look like one to count.
_BARE_TRACK = re.compile(r"^\s*(B?\d{12,19}[=D^])")
#: A track 1 + 2 + 3 swipe with framing is under 230 bytes; anything far longer is noise.
DEFAULT_MAX_RECORD = 512


@dataclass(frozen=True, repr=False)
class KeyedCard:
    """``PAN YYMM`` typed at the paste field: a keyed (manual) entry, not a swipe."""

    pan: str
    expiry: str

    def __repr__(self) -> str:
        from terminal.core.cards import masked_pan

        return f"KeyedCard(pan={masked_pan(self.pan)!r})"


def parse_card_text(text: str) -> Swipe | KeyedCard:
    """Reader output, a single track 2 (sentinels optional, ``=`` or ``D``), or ``PAN YYMM``."""
    manual = _MANUAL.fullmatch(text)
    if manual:
        return KeyedCard(manual.group(1), manual.group(2))
    return parse_swipe(text.strip(" \t"))


@dataclass(frozen=True)
class ReaderFraming:
    """How a reader frames a swipe beyond the tracks themselves.

    ``preamble``/``postamble`` are removed wherever they appear around a swipe. ``max_record``
    bounds a swipe that never ends (a lost terminator) so memory stays bounded.
    """

    preamble: bytes = b""
    postamble: bytes = b""
    max_record: int = DEFAULT_MAX_RECORD

    def __post_init__(self) -> None:
        for name, value in (("preamble", self.preamble), ("postamble", self.postamble)):
            if len(value) > 32:
                raise ValueError(f"reader {name} longer than 32 bytes")
        if not 64 <= self.max_record <= 65536:
            raise ValueError("reader max_record must be 64..65536")


@dataclass(frozen=True)
class SwipeRead:
    """A swipe that parsed; ``warnings`` name the noise dropped around it."""

    swipe: Swipe
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SwipeFailed:
    """A swipe the reader saw but that cannot be used: a read error, never card data."""

    reason: str
    warnings: tuple[str, ...] = ()


@dataclass
class ReaderStream:
    """Incremental parser: ``feed`` bytes as they arrive, ``idle`` when the line goes quiet.

    A swipe is complete at ETX (STX-framed readers), or at the end of a line that holds
    tracks 1 and 2 (or track 3, the last one); a line with a single track may be followed by
    the next track on its own line, so it completes when a line starts over at a lower
    track or when the caller reports the line idle (``idle()``, after a few tens of ms of
    silence). ``flush()`` ends the stream: a pending partial swipe becomes a failure.
    """

    framing: ReaderFraming = field(default_factory=ReaderFraming)
    _buf: bytearray = field(default_factory=bytearray)
    _in_stx: bool = False
    _lines: list[str] = field(default_factory=list)  # completed lines of the pending swipe
    _tracks: list[int] = field(default_factory=list)  # track numbers seen in them
    _warnings: list[str] = field(default_factory=list)

    def feed(self, data: bytes) -> list[SwipeRead | SwipeFailed]:
        out: list[SwipeRead | SwipeFailed] = []
        self._buf += data
        self._strip_amble()
        while True:
            if self._in_stx:
                end = self._buf.find(_ETX)
                restart = self._buf.find(_STX)
                if 0 <= restart < (end if end >= 0 else len(self._buf)):
                    self._buf = self._buf[restart + 1 :]
                    out.append(SwipeFailed("partial swipe: STX without ETX", self._take_warnings()))
                    self._lines.clear()
                    self._tracks.clear()
                    continue
                if end < 0:
                    out += self._overflow()
                    return out
                record, self._buf = bytes(self._buf[:end]), self._buf[end + 1 :]
                self._in_stx = False
                for line in _split_lines(record):
                    self._add_line(line)
                out += self._complete()
                self._strip_amble()
                continue
            stx = self._buf.find(_STX)
            eol = _line_end(self._buf)
            if stx >= 0 and (eol < 0 or stx < eol):
                out += self._pending_before(bytes(self._buf[:stx]))
                self._buf = self._buf[stx + 1 :]
                self._in_stx = True
                continue
            if eol < 0:
                out += self._overflow()
                return out
            line, self._buf = bytes(self._buf[:eol]), self._buf[eol + 1 :]
            out += self._line(line)
            self._strip_amble()

    def idle(self) -> list[SwipeRead | SwipeFailed]:
        """The line went quiet: whatever complete lines are pending form one swipe.

        A line still missing its terminator stays buffered (its end may yet arrive); an
        STX-framed swipe waits for its ETX.
        """
        return self._complete() if self._lines else []

    def flush(self) -> list[SwipeRead | SwipeFailed]:
        """End of stream (port closed, timeout): pending data is a swipe or a failure."""
        out = self._complete() if self._lines else []
        rest = _text(bytes(self._buf)).strip()
        if self._in_stx or _has_track(rest):
            out.append(SwipeFailed("partial swipe: data ended mid-swipe", self._take_warnings()))
        elif rest:
            self._warnings.append(f"dropped {len(rest)} bytes of noise")
        self._buf.clear()
        self._in_stx = False
        return out

    def reset(self) -> None:
        """Forget everything buffered (the port was reopened)."""
        self._buf.clear()
        self._in_stx = False
        self._lines.clear()
        self._tracks.clear()
        self._warnings.clear()

    @property
    def warnings(self) -> tuple[str, ...]:
        """Noise warnings not yet attached to a swipe."""
        return tuple(self._warnings)

    # --- internals ------------------------------------------------------------------------

    def _strip_amble(self) -> None:
        for amble in (self.framing.preamble, self.framing.postamble):
            if amble:
                while (i := self._buf.find(amble)) >= 0:
                    del self._buf[i : i + len(amble)]

    def _overflow(self) -> list[SwipeRead | SwipeFailed]:
        if len(self._buf) <= self.framing.max_record:
            return []
        dropped = len(self._buf)
        self._buf.clear()
        was_swipe, self._in_stx = self._in_stx, False
        self._warnings.append(f"dropped {dropped} bytes without a terminator")
        return (
            [SwipeFailed("partial swipe: no terminator", self._take_warnings())]
            if was_swipe
            else []
        )

    def _pending_before(self, junk: bytes) -> list[SwipeRead | SwipeFailed]:
        """Bytes before an STX: noise, and the end of any line-framed swipe pending."""
        text = _text(junk).strip()
        if text:
            self._warnings.append(f"dropped {len(text)} bytes of noise before STX")
        return self._complete() if self._lines else []

    def _line(self, raw: bytes) -> list[SwipeRead | SwipeFailed]:
        text = _text(raw)
        if not text.strip():
            return []  # the LF of a CR/LF pair, or a blank line
        numbers = _track_numbers(text)
        if not numbers:
            self._warnings.append(f"dropped a line of {len(raw)} bytes without track data")
            return []
        out: list[SwipeRead | SwipeFailed] = []
        if self._tracks and min(numbers) <= max(self._tracks):
            out += self._complete()  # this line starts the next swipe
        self._add_line(text)
        if len(numbers) > 1 or max(numbers) == 3:
            out += self._complete()
        return out

    def _add_line(self, line: str | bytes) -> None:
        text = _text(line) if isinstance(line, bytes) else line
        start = _first_start(text)
        if start is None:
            if text.strip():
                self._warnings.append(f"dropped {len(text.strip())} bytes without track data")
            return
        if start:
            self._warnings.append(f"dropped {start} bytes of noise before a track")
        self._lines.append(text[start:].rstrip())
        self._tracks.extend(_track_numbers(text[start:]) or [0])

    def _complete(self) -> list[SwipeRead | SwipeFailed]:
        if not self._lines:
            return [SwipeFailed("empty swipe: no track data", self._take_warnings())]
        raw = "\r".join(self._lines)
        self._lines.clear()
        self._tracks.clear()
        warnings = self._take_warnings()
        try:
            return [SwipeRead(parse_swipe(raw), warnings)]
        except CardDataError as exc:
            return [SwipeFailed(str(exc), warnings)]

    def _take_warnings(self) -> tuple[str, ...]:
        taken = tuple(self._warnings)
        self._warnings.clear()
        return taken


def _line_end(buf: bytearray) -> int:
    """Offset of the first CR or LF in ``buf``, or -1."""
    ends = [i for i in (buf.find(b"\r"), buf.find(b"\n")) if i >= 0]
    return min(ends) if ends else -1


def _split_lines(record: bytes) -> list[bytes]:
    return [part for part in re.split(rb"[\r\n]+", record) if part.strip()]


def _text(raw: bytes | str) -> str:
    """ASCII text; other bytes become NUL, which no track contains (so they read as noise)."""
    if isinstance(raw, str):
        return raw
    return raw.decode("ascii", errors="replace").replace("\ufffd", "\x00")


def _first_start(text: str) -> int | None:
    """Offset of the first plausible track (sentinel, or a bare track 2 / ``E`` marker)."""
    sentinel = _ANY_SENTINEL.search(text)
    if sentinel is not None:
        return sentinel.start()
    bare = _BARE_TRACK.search(text)
    return bare.start(1) if bare else None


def _has_track(text: str) -> bool:
    return _first_start(text) is not None


def _track_numbers(text: str) -> list[int]:
    """Which tracks a line holds, by sentinel (bare lines count as track 2)."""
    numbers = [_SENTINEL_TRACK[m.group()[0]] for m in _TRACK_START.finditer(text)]
    if numbers:
        return numbers
    bare = _BARE_TRACK.search(text)
    if bare is None:
        return []
    return [1] if bare.group(1).startswith("B") else [2]
