"""What an ESC/POS printer would put on paper, as readable text: the printer simulator's eye.

An interpreter for the commands receipt software sends (Epson ESC/POS): text in the selected
code page, alignment, emphasis and character size, feeds, QR codes and raster images
(shown as placeholders), cuts. Real-time status queries (DLE EOT n, GS r n) are answered the
moment they arrive, even inside a job, as a real printer does. Unknown commands are skipped
by their documented length and counted, so a tester sees that something was not understood.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["EscPosInterpreter", "PrintedReceipt"]

ESC, GS, DLE, FS, LF, CR, HT = 0x1B, 0x1D, 0x10, 0x1C, 0x0A, 0x0D, 0x09
_DOTS_PER_COLUMN = 12  # font A on 80 mm thermal printers (TM-T88: 512 dots, 42 columns)
#: ESC t n -> Python codec (Epson's standard numbering).
CODE_PAGES = {
    0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 15: "iso8859_7", 16: "cp1252",
    17: "cp866", 18: "cp852", 19: "cp858", 33: "cp775", 34: "cp855", 35: "cp861", 36: "cp862",
    37: "cp864", 38: "cp869", 39: "iso8859_2", 40: "iso8859_15", 45: "cp1250", 46: "cp1251",
    47: "cp1253", 48: "cp1254", 49: "cp1255", 50: "cp1256", 51: "cp1257", 52: "cp1258",
}  # fmt: skip
# ESC x: how many parameter bytes follow (variable-length ones are handled in _esc).
_ESC_ARGS = {
    0x40: 0, 0x74: 1, 0x21: 1, 0x45: 1, 0x47: 1, 0x2D: 1, 0x61: 1, 0x4D: 1, 0x64: 1, 0x4A: 1,
    0x32: 0, 0x33: 1, 0x20: 1, 0x52: 1, 0x7B: 1, 0x56: 1, 0x70: 3, 0x3D: 1, 0x25: 1, 0x63: 2,
    0x72: 1, 0x24: 2, 0x5C: 2, 0x44: -1, 0x69: 0, 0x6D: 0, 0x4C: 0, 0x53: 0, 0x54: 1,
}  # fmt: skip
_GS_ARGS = {
    0x21: 1, 0x42: 1, 0x48: 1, 0x66: 1, 0x68: 1, 0x77: 1, 0x61: 1, 0x4C: 2, 0x57: 2, 0x24: 2,
    0x2F: 1, 0x49: 1, 0x72: 1, 0x62: 1, 0x3A: 0, 0x5C: 2, 0x50: 2,
}  # fmt: skip


@dataclass
class PrintedReceipt:
    """One job from ESC @ (or the last cut) to the next cut."""

    lines: list[str] = field(default_factory=list)
    raw: bytes = b""
    cut: bool = False
    started_with_init: bool = False
    lost_lines: int = 0  # lines that never reached paper (paper out, cover open, offline)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class _Style:
    align: int = 0
    bold: bool = False
    width: int = 1
    height: int = 1
    codepage: str = "cp437"
    area: int = 0  # GS W print area in columns (0: the whole paper); lines show that area


class EscPosInterpreter:
    """Feed bytes; answer status queries through ``reply``; collect receipts at each cut.

    ``can_print`` is asked before each line reaches paper; when it says no, the line is
    counted lost (the sim decides: paper out, cover open, offline). ``on_line`` lets the
    simulator run out of paper after a number of lines.
    """

    def __init__(
        self,
        *,
        columns: int = 42,
        reply: Callable[[bytes], None],
        status: Callable[[int], int],
        gs_r: Callable[[int], int | None],
        can_print: Callable[[], bool] = lambda: True,
        on_line: Callable[[], None] = lambda: None,
    ) -> None:
        self.columns = columns
        self._reply = reply
        self._status = status
        self._gs_r = gs_r
        self._can_print = can_print
        self._on_line = on_line
        self._buf = bytearray()
        self._style = _Style()
        self._text = bytearray()
        self.current = PrintedReceipt()
        self.done: list[PrintedReceipt] = []
        self.unknown = 0
        self._qr_data = ""

    def feed(self, data: bytes) -> list[PrintedReceipt]:
        """Interpret ``data``; returns the receipts completed (cut) by it."""
        self._buf += data
        while self._buf:
            job = self.current
            used = self._step()
            if used == 0:
                break  # an incomplete command: wait for more bytes
            chunk = bytes(self._buf[:used])
            del self._buf[:used]
            if chunk[:2] == b"\x1b@":
                job = self.current  # ESC @ starts the next job
            if not (chunk[:2] == b"\x10\x04" or chunk[:2] == b"\x1d\x72"):
                job.raw += chunk
        done, self.done = self.done, []
        return done

    # --- one command or character; returns bytes consumed (0 = need more) -------------------

    def _step(self) -> int:
        b = self._buf
        c = b[0]
        if c == LF:
            self._newline()
            return 1
        if c == CR:
            return 1
        if c == HT:
            self._text += b" " * 4
            return 1
        if c == DLE:
            return self._dle()
        if c == ESC:
            return self._esc()
        if c == GS:
            return self._gs()
        if c == FS:
            return 2 if len(b) >= 2 else 0  # FS . / FS & (Kanji on/off)
        if c < 0x20:
            return 1
        self._text.append(c)
        return 1

    def _dle(self) -> int:
        b = self._buf
        if len(b) < 3:
            return 0
        if b[1] == 0x04:  # DLE EOT n: real-time status
            if 1 <= b[2] <= 4:
                self._reply(bytes([self._status(b[2])]))
            return 3
        if b[1] == 0x05:  # DLE ENQ n
            return 3
        if b[1] == 0x14:  # DLE DC4 fn m t
            return 5 if len(b) >= 5 else 0
        self.unknown += 1
        return 1

    def _esc(self) -> int:
        b = self._buf
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd == 0x2A:  # ESC * m nL nH d1..dk: bit image
            if len(b) < 5:
                return 0
            dots = b[3] + 256 * b[4]
            size = 5 + dots * (3 if b[2] in (32, 33) else 1)
            if len(b) < size:
                return 0
            self._placeholder(f"[image {dots} dots wide]")
            return size
        nargs = _ESC_ARGS.get(cmd)
        if nargs is None:
            self.unknown += 1
            return 2
        if nargs == -1:  # ESC D n1 ... NUL (tab stops)
            end = b.find(0, 2)
            return end + 1 if end >= 0 else 0
        if len(b) < 2 + nargs:
            return 0
        arg = b[2] if nargs else 0
        s = self._style
        if cmd == 0x40:  # ESC @
            self._flush_text()
            self._style = _Style()
            if self.current.lines or self.current.raw:
                self._finish(cut=False)
            self.current.started_with_init = True
        elif cmd == 0x74:
            s.codepage = CODE_PAGES.get(arg, "cp437")
        elif cmd == 0x21:  # ESC ! n: print mode
            s.bold = bool(arg & 0x08)
            s.height = 2 if arg & 0x10 else 1
            s.width = 2 if arg & 0x20 else 1
        elif cmd in (0x45, 0x47):
            s.bold = bool(arg & 1)
        elif cmd == 0x61:
            s.align = arg % 48 if arg >= 48 else arg
        elif cmd in (0x64, 0x4A):  # feed n lines / n dots
            self._flush_text()
            for _ in range(arg if cmd == 0x64 else (1 if arg else 0)):
                self._put("")
        return 2 + nargs

    def _gs(self) -> int:
        b = self._buf
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd == 0x56:  # GS V m [n]: cut
            if len(b) < 3:
                return 0
            size = 4 if b[2] in (65, 66, 97, 98, 103, 104) else 3
            if len(b) < size:
                return 0
            self._flush_text()
            self._finish(cut=True)
            return size
        if cmd == 0x28:  # GS ( x pL pH ...: functions with a length
            if len(b) < 5:
                return 0
            size = 5 + b[3] + 256 * b[4]
            if len(b) < size:
                return 0
            if b[2] == 0x6B:
                self._qr(bytes(b[5:size]))
            return size
        if cmd == 0x76:  # GS v 0 m xL xH yL yH data: raster image
            if len(b) < 8:
                return 0
            width, height = b[4] + 256 * b[5], b[6] + 256 * b[7]
            size = 8 + width * height
            if len(b) < size:
                return 0
            self._placeholder(f"[image {width * 8}x{height} dots]")
            return size
        if cmd == 0x6B:  # GS k m ...: barcode
            if len(b) < 3:
                return 0
            if b[2] < 32:
                end = b.find(0, 3)
                return end + 1 if end >= 0 else 0
            if len(b) < 4 or len(b) < 4 + b[3]:
                return 0
            self._placeholder(f"[barcode {bytes(b[4 : 4 + b[3]]).decode('latin-1')}]")
            return 4 + b[3]
        if cmd == 0x72:  # GS r n: transmit status
            if len(b) < 3:
                return 0
            answer = self._gs_r(b[2])
            if answer is not None:
                self._reply(bytes([answer]))
            return 3
        nargs = _GS_ARGS.get(cmd)
        if nargs is None:
            self.unknown += 1
            return 2
        if len(b) < 2 + nargs:
            return 0
        if cmd == 0x21:  # GS ! n: character size
            self._style.width = (b[2] >> 4) + 1
            self._style.height = (b[2] & 0x0F) + 1
        elif cmd == 0x57:  # GS W nL nH: print area width in dots (font A: 12 dots a column)
            self._style.area = max(1, (b[2] | b[3] << 8) // _DOTS_PER_COLUMN)
        return 2 + nargs

    # --- drawing ----------------------------------------------------------------------------

    def _qr(self, data: bytes) -> None:
        # GS ( k cn fn ...: fn 0x50 stores the data (cn 49 = QR), 0x51 prints it.
        if len(data) >= 3 and data[0] == 49 and data[1] == 0x50:
            self._qr_data = data[3:].decode("latin-1")
        elif len(data) >= 2 and data[0] == 49 and data[1] == 0x51:
            self._placeholder(f"[QR {self._qr_data}]")

    def _placeholder(self, text: str) -> None:
        self._flush_text()
        self._put(self._aligned(text))

    def _newline(self) -> None:
        self._flush_text(force=True)

    def _flush_text(self, *, force: bool = False) -> None:
        if not self._text and not force:
            return
        text = codecs.decode(bytes(self._text), self._style.codepage, errors="replace")
        self._text.clear()
        # Double-width characters take two columns: a line holds half as many and the rest
        # wraps onto the next, as on paper. Shown unspaced, so the text stays searchable.
        fits = max(1, self._columns() // self._style.width)
        for start in range(0, max(len(text), 1), fits):
            self._put(self._aligned(text[start : start + fits]))

    def _columns(self) -> int:
        return min(self._style.area or self.columns, self.columns)

    def _aligned(self, text: str) -> str:
        pad = max(0, self._columns() - len(text))
        if self._style.align == 1:
            text = " " * (pad // 2) + text
        elif self._style.align == 2:
            text = " " * pad + text
        return text.rstrip()

    def _put(self, line: str) -> None:
        if self._can_print():
            self.current.lines.append(line)
            self._on_line()
        else:
            self.current.lost_lines += 1

    def _finish(self, *, cut: bool) -> None:
        self.current.cut = cut
        self.done.append(self.current)
        self.current = PrintedReceipt()
