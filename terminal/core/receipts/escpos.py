"""ESC/POS bytes for a receipt, built in memory with python-escpos's ``Dummy`` printer.

Nothing is sent anywhere: the caller gets ``bytes`` and hands them to a port. The capability
profile is pinned so that output is reproducible across machines. Each receipt is printed
in one code page, selected after ESC @: CP437 when it covers every character (it does for
ASCII and most Western European names), else the first of a short preference list the
profile has that covers them all (a Polish, Czech or Russian merchant name), else CP437 with
unprintable characters replaced by ``?``. python-escpos is never left to switch code pages
on its own nor to emit raw GB18030 for Chinese text (garbage on a printer without a
Chinese font). The merchant name and the result print in double size (double height
only when the line is too wide for it); a QR order reference prints as a native QR code, or
as a raster image on a profile without one; the job ends with a partial cut.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from terminal.core.receipts.model import Receipt, ReceiptError
from terminal.core.receipts.text import (
    SUPPORTED_WIDTHS,
    Align,
    Line,
    display_width,
    layout_lines,
)

if TYPE_CHECKING:
    from escpos.printer import Dummy

__all__ = ["CODEPAGE", "CODEPAGES", "DEFAULT_PROFILE", "PROFILE_COLUMNS", "render_escpos"]

#: Epson TM-T88V: the common 80 mm receipt printer; font A has 42 columns, partial cut.
DEFAULT_PROFILE: Final = "TM-T88V"
#: Code page 0 on virtually every ESC/POS printer, selected explicitly after ESC @.
CODEPAGE: Final = "CP437"
#: Tried in order when CP437 cannot print the receipt (python-escpos names).
CODEPAGES: Final = (CODEPAGE, "CP858", "CP1252", "CP852", "CP1250", "CP866", "CP1251",
                    "CP1253", "CP1254", "CP1257", "ISO_8859-15", "ISO_8859-2")  # fmt: skip
#: What python-escpos 3.1's capability database says about the default profile's font A.
PROFILE_COLUMNS: Final = 42
_REPLACEMENT: Final = "?"


def _new_printer(profile: str) -> Dummy:
    """Build a ``Dummy`` printer without letting python-escpos configure global logging.

    ``escpos.capabilities`` calls ``logging.basicConfig()`` at import, which would attach a
    stderr handler to the root logger (and scribble over a full-screen UI); a temporary
    handler on the root logger makes that call a no-op.
    """
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        from escpos.printer import Dummy
    finally:
        root.removeHandler(guard)
    try:
        return Dummy(profile=profile)
    except KeyError:
        raise ReceiptError(f"unknown python-escpos profile {profile!r}", field="profile") from None


def _codepage(printer: Dummy, receipt: Receipt, width: int) -> str:
    """The first code page of :data:`CODEPAGES` the profile has that prints every character."""
    encoder = printer.magic.encoder
    if CODEPAGE not in encoder.codepages:
        raise ReceiptError(f"{printer.profile.name!r} lacks code page {CODEPAGE}", field="profile")
    chars = {
        c
        for line in layout_lines(receipt, width)
        for c in line.text
        if ord(c) > 0x7E and c.isprintable() and unicodedata.category(c) != "Zs"
    }
    for name in CODEPAGES:
        if name in encoder.codepages and all(encoder.can_encode(name, c) for c in chars):
            return name
    return CODEPAGE


def _cleaner(printer: Dummy, codepage: str) -> Callable[[str], str]:
    """Map characters the code page cannot print to ``?`` before layout measures them."""
    encoder = printer.magic.encoder

    def clean(text: str) -> str:
        return "".join(_printable(c) for c in text)

    def _printable(char: str) -> str:
        if unicodedata.category(char) == "Zs":  # no-break and ideographic spaces
            return " "
        if char.isprintable() and encoder.can_encode(codepage, char):
            return char
        return _REPLACEMENT

    return clean


def _columns(printer: Dummy, columns: int | None) -> int:
    available = printer.profile.get_columns("a")
    chosen = available if columns is None else columns
    if chosen not in SUPPORTED_WIDTHS:
        raise ReceiptError(f"{chosen!r} is not one of {SUPPORTED_WIDTHS}", field="columns")
    if chosen > available:
        raise ReceiptError(f"{chosen} exceeds the profile's {available} (font A)", field="columns")
    return chosen


def render_escpos(
    receipt: Receipt, *, profile: str = DEFAULT_PROFILE, columns: int | None = None
) -> bytes:
    """ESC/POS job: ESC @, code page, font A, the slip, then feed and a partial cut.

    ``columns`` defaults to the profile's font A width and must be one of 32, 42, 48. The
    cut is omitted (feed only) if the profile has no cutter, as python-escpos decides.
    """
    printer = _new_printer(profile)
    try:
        width = _columns(printer, columns)
        codepage = _codepage(printer, receipt, width)
        lines = layout_lines(receipt, width, clean=_cleaner(printer, codepage))
        printer.hw("INIT")
        printer.charcode(codepage)
        printer._raw(_print_area(printer, width))
        printer.set(font="a", align="left", bold=False)
        align, bold, size = Align.LEFT, False, (1, 1)
        for line in lines:
            if not line.text:  # a blank line needs no style change
                printer.ln()
                continue
            if line.align is not align:
                align = line.align
                printer.set(align=align.value)
            wanted = _size(line, width)
            if wanted != size:  # ESC ! also clears emphasis: set it again below
                size = wanted
                if size == (1, 1):
                    printer.set(normal_textsize=True)  # double_*=False alone emits nothing
                else:
                    printer.set(double_width=size[0] == 2, double_height=size[1] == 2)
                bold = not line.bold
            if line.bold is not bold:
                bold = line.bold
                printer.set(bold=bold)
            printer.textln(line.text)
        printer.set(align="left", bold=False, normal_textsize=True)
        if receipt.qr is not None and receipt.qr.order_ref:
            _qr(printer, receipt.qr.order_ref)
        printer.cut(mode="PART")
        return printer.output
    finally:
        printer.close()


def _print_area(printer: Dummy, width: int) -> bytes:
    """GS L / GS W: a slip laid out at fewer columns than the paper has is printed in a
    centred area of that many columns, so centred lines (ESC a 1) and the QR centre on the
    slip, not on the paper. Nothing when the widths match or the profile lacks the media."""
    available = printer.profile.get_columns("a")
    pixels = (printer.profile.profile_data.get("media") or {}).get("width", {}).get("pixels")
    if width >= available or not isinstance(pixels, int):
        return b""
    dots = pixels // available  # font A cell width
    area = width * dots
    left = (pixels - area) // 2
    return b"\x1dL" + left.to_bytes(2, "little") + b"\x1dW" + area.to_bytes(2, "little")


def _size(line: Line, width: int) -> tuple[int, int]:
    """(width, height) multipliers: big lines double, in height only when too wide."""
    if not line.big:
        return (1, 1)
    return (2, 2) if display_width(line.text) * 2 <= width else (1, 2)


def _qr(printer: Dummy, content: str) -> None:
    """A QR code of ``content``, centred: native where the profile has it, else raster."""
    printer.set(align="center")
    printer.qr(content, size=4, native=printer.profile.supports("qrCode"))
    printer.set(align="left")
