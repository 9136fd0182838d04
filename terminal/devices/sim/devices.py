"""The simulated devices: what each does with a command and with bytes from the terminal.

Commands (one per line, from ``--script``, stdin or the command line; ``#`` starts a comment):

reader   ``swipe [CARD]`` (a test card, default the ``--card``), ``fallback`` is not a reader
         thing: the terminal decides. ``raw TEXT`` sends TEXT with ``\\r``, ``\\n``, ``\\xNN``
         escapes; ``bad KIND`` sends a malformed swipe (``no-end``, ``lrc``, ``failed``,
         ``partial``, ``noise``); an empty line swipes the default card.
printer  ``paper out|in|low|ok``, ``cover open|closed``, ``offline``, ``online``,
         ``paper-out-after N`` (paper runs out after N more printed lines), ``status``.
scanner  ``scan CODE``; an empty line scans the default ``--code``.
all      ``sleep SECONDS``, ``quit``.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from terminal.core.devices import PrinterStatus
from terminal.core.errors import TerminalError
from terminal.core.testcards import get_card
from terminal.devices.escpos_status import encode_dle_eot, encode_gs_r1
from terminal.devices.sim.escpos_text import EscPosInterpreter, PrintedReceipt
from terminal.devices.sim.transport import SimEnd

__all__ = ["PrinterSim", "ReaderSim", "ScannerSim", "SimCommandError", "unescape"]

Say = Callable[[str], None]


class SimCommandError(ValueError):
    """A command the simulator does not understand (the message says what it expected)."""


def unescape(text: str) -> bytes:
    """``\\r``, ``\\n``, ``\\t``, ``\\xNN`` and ``\\\\`` in a command become bytes."""
    try:
        return codecs.escape_decode(text.encode("latin-1"))[0]
    except (ValueError, UnicodeEncodeError) as exc:
        raise SimCommandError(f"bad escape in {text!r}: {exc}") from None


class ReaderSim:
    """A magnetic-stripe reader: sends swipes framed as the options say."""

    kind = "reader"

    def __init__(
        self, end: SimEnd, *, card: str, stx: bool = False, crlf: bool = False,
        preamble: bytes = b"", postamble: bytes = b"", say: Say = print,
    ) -> None:  # fmt: skip
        get_card(card)  # an unknown default card is an error at start, not at the first swipe
        self.end, self.card, self.say = end, card, say
        self.stx, self.crlf, self.preamble, self.postamble = stx, crlf, preamble, postamble

    def frame(self, tracks: str) -> bytes:
        body = tracks.encode("ascii")
        body = b"\x02" + body + b"\x03" if self.stx else body + (b"\r\n" if self.crlf else b"\r")
        return self.preamble + body + self.postamble

    def swipe(self, name: str | None = None) -> None:
        card = get_card(name or self.card)
        self.send(
            self.frame(card.track1() + card.track2()), f"swiped {card.name} {card.masked_pan}"
        )

    def send(self, data: bytes, what: str) -> None:
        delivered = self.end.write(data)
        self.say(what if delivered else f"{what}: no terminal connected, nothing sent")

    def command(self, verb: str, arg: str) -> None:
        if verb in ("", "swipe"):
            try:
                self.swipe(arg or None)
            except TerminalError as exc:
                raise SimCommandError(str(exc)) from None
        elif verb == "raw":
            self.send(unescape(arg), f"sent {len(unescape(arg))} raw bytes")
        elif verb == "bad":
            card = get_card(self.card)
            t1, t2 = card.track1(), card.track2()
            bad = {
                "no-end": self.frame(t2.replace("?", "")[:-1]),
                "lrc": self.frame(t2[:-1] + chr(ord(t2[-1]) ^ 1)),
                "failed": self.frame("%E?;E?"),
                "partial": (b"\x02" + t1[:20].encode()) if self.stx else t1[:20].encode(),
                "noise": bytes(range(0x80, 0x90)) + b"\r\n",
            }
            if arg not in bad:
                raise SimCommandError(f"bad KIND: one of {', '.join(bad)}")
            self.send(bad[arg], f"sent a malformed swipe ({arg})")
        else:
            raise SimCommandError(f"unknown reader command {verb!r} (swipe, raw, bad)")

    def on_bytes(self, data: bytes) -> None:
        """A reader ignores what the terminal sends it."""


class ScannerSim:
    kind = "scanner"

    def __init__(self, end: SimEnd, *, code: str, crlf: bool = False, say: Say = print) -> None:
        self.end, self.code, self.crlf, self.say = end, code, crlf, say

    def command(self, verb: str, arg: str) -> None:
        if verb not in ("", "scan"):
            raise SimCommandError(f"unknown scanner command {verb!r} (scan CODE)")
        code = arg or self.code
        if not code:
            raise SimCommandError("scan needs a CODE (or start with --code)")
        sent = self.end.write(code.encode("utf-8") + (b"\r\n" if self.crlf else b"\r"))
        self.say(f"scanned {len(code)} characters" if sent else "no terminal connected")

    def on_bytes(self, data: bytes) -> None:
        """A scanner ignores what the terminal sends it."""


class PrinterSim:
    """An ESC/POS printer with a paper roll, a cover and a power switch."""

    kind = "printer"

    def __init__(
        self, end: SimEnd, *, status: PrinterStatus, columns: int = 42,
        save: Path | None = None, say: Say = print, show: Say = print,
    ) -> None:  # fmt: skip
        self.end, self.status, self.save, self.say, self.show = end, status, save, say, show
        self.lines_left: int | None = None
        self.receipts: list[PrintedReceipt] = []
        self._lock = threading.Lock()
        self.interpreter = EscPosInterpreter(
            columns=columns,
            reply=self._reply,
            status=lambda n: encode_dle_eot(n, self.status),
            gs_r=lambda n: encode_gs_r1(self.status) if n in (1, 49) else None,
            can_print=lambda: self.status.can_print,
            on_line=self._line_printed,
        )

    def _reply(self, data: bytes) -> None:
        self.end.write(data)

    def _line_printed(self) -> None:
        if self.lines_left is not None:
            self.lines_left -= 1
            if self.lines_left <= 0:
                self.lines_left = None
                self.status = replace(self.status, paper_out=True, paper_near_end=True)
                self.say("paper ran out")

    def on_bytes(self, data: bytes) -> None:
        with self._lock:
            for receipt in self.interpreter.feed(data):
                self._done(receipt)

    def _done(self, receipt: PrintedReceipt) -> None:
        self.receipts.append(receipt)
        number = len(self.receipts)
        lost = f", {receipt.lost_lines} lines NOT printed" if receipt.lost_lines else ""
        cut = "cut" if receipt.cut else "no cut"
        self.show(f"----- receipt {number} ({len(receipt.raw)} bytes, {cut}{lost}) -----")
        if receipt.text:
            self.show(receipt.text)
        self.show(f"----- end of receipt {number} -----")
        if self.save is not None:
            with self.save.open("ab") as out:
                out.write(receipt.raw)

    def command(self, verb: str, arg: str) -> None:
        s = self.status
        changes = {
            ("paper", "out"): replace(s, paper_out=True, paper_near_end=True),
            ("paper", "in"): replace(s, paper_out=False, paper_near_end=False),
            ("paper", "ok"): replace(s, paper_out=False, paper_near_end=False),
            ("paper", "low"): replace(s, paper_out=False, paper_near_end=True),
            ("cover", "open"): replace(s, cover_open=True),
            ("cover", "closed"): replace(s, cover_open=False),
            ("cover", "close"): replace(s, cover_open=False),
            ("offline", ""): replace(s, online=False),
            ("online", ""): replace(s, online=True),
        }
        if (verb, arg) in changes:
            self.status = changes[(verb, arg)]
            if verb == "paper" and arg in ("in", "ok"):
                self.lines_left = None
            self.say(f"printer: {self.status.describe()}")
        elif verb == "paper-out-after":
            if not arg.isdigit() or int(arg) < 1:
                raise SimCommandError("paper-out-after N: N printed lines, at least 1")
            self.lines_left = int(arg)
            self.say(f"paper runs out after {arg} more lines")
        elif verb == "status":
            self.say(f"printer: {self.status.describe()}, {len(self.receipts)} receipts")
        else:
            raise SimCommandError(
                f"unknown printer command {' '.join((verb, arg)).strip()!r} "
                "(paper out|in|low|ok, cover open|closed, offline, online, paper-out-after N)"
            )
