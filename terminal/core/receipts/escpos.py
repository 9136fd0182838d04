"""ESC/POS bytes for a receipt, built in memory with python-escpos's ``Dummy`` printer.

Nothing is sent anywhere: the caller gets ``bytes`` and hands them to a port. The capability
profile is pinned so that output is reproducible across machines, and text is forced into one
code page (CP437) with unprintable characters replaced by ``?``, so that python-escpos never
switches code pages on its own nor emits raw GB18030 for Chinese text (which a printer
without a Chinese font would print as garbage).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from terminal.core.receipts.model import Receipt, ReceiptError
from terminal.core.receipts.text import SUPPORTED_WIDTHS, Align, layout_lines

if TYPE_CHECKING:
    from escpos.printer import Dummy

__all__ = ["CODEPAGE", "DEFAULT_PROFILE", "PROFILE_COLUMNS", "render_escpos"]

#: Epson TM-T88V: the common 80 mm receipt printer; font A has 42 columns, partial cut.
DEFAULT_PROFILE: Final = "TM-T88V"
#: Code page 0 on virtually every ESC/POS printer, selected explicitly after ESC @.
CODEPAGE: Final = "CP437"
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


def _cleaner(printer: Dummy) -> Callable[[str], str]:
    """Map characters the pinned code page cannot print to ``?`` before layout measures them."""
    encoder = printer.magic.encoder
    if CODEPAGE not in encoder.codepages:
        raise ReceiptError(f"{printer.profile.name!r} lacks code page {CODEPAGE}", field="profile")

    def clean(text: str) -> str:
        return "".join(_printable(c) for c in text)

    def _printable(char: str) -> str:
        if unicodedata.category(char) == "Zs":  # no-break and ideographic spaces
            return " "
        if char.isprintable() and encoder.can_encode(CODEPAGE, char):
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
        lines = layout_lines(receipt, width, clean=_cleaner(printer))
        printer.hw("INIT")
        printer.charcode(CODEPAGE)
        printer.set(font="a", align="left", bold=False)
        align, bold = Align.LEFT, False
        for line in lines:
            if not line.text:  # a blank line needs no style change
                printer.ln()
                continue
            if line.align is not align:
                align = line.align
                printer.set(align=align.value)
            if line.bold is not bold:
                bold = line.bold
                printer.set(bold=bold)
            printer.textln(line.text)
        printer.set(align="left", bold=False)
        printer.cut(mode="PART")
        return printer.output
    finally:
        printer.close()
