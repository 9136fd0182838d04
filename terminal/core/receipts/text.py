"""Lay a receipt out in fixed columns, and render it as plain text.

Layout is shared with the ESC/POS renderer: :func:`layout_lines` yields :class:`Line` items
whose content always fits the width, measured in display columns (East Asian wide and
fullwidth characters take two), so a slip never wraps on the printer or the screen.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Final

from terminal.core.receipts.model import Receipt, ReceiptError, ReceiptKind

__all__ = [
    "DATETIME_FORMAT",
    "DUPLICATE_MARK",
    "SIGNATURE_NOTICE",
    "SUPPORTED_WIDTHS",
    "Align",
    "Line",
    "display_width",
    "layout_lines",
    "render_text",
    "wrap",
]

#: Font A columns of common 58 mm (32) and 80 mm (42 or 48) receipt printers.
SUPPORTED_WIDTHS: Final = (32, 42, 48)
DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
DUPLICATE_MARK: Final = "*** DUPLICATE ***"
SIGNATURE_NOTICE: Final = "I AGREE TO PAY ABOVE TOTAL AMOUNT ACCORDING TO CARD ISSUER AGREEMENT"


class Align(Enum):
    """Horizontal placement; CENTER lines are padded by the renderer, not by the layout."""

    LEFT = "left"
    CENTER = "center"


@dataclass(frozen=True)
class Line:
    """One printed line; ``bold`` marks what a printer emphasises (amount, result), ``big``
    what it prints in a larger size (merchant name, result); plain text shows neither."""

    text: str = ""
    align: Align = Align.LEFT
    bold: bool = False
    big: bool = False


def display_width(text: str) -> int:
    """Columns ``text`` occupies on a monospaced slip: wide/fullwidth characters count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _split_at_width(word: str, width: int) -> tuple[str, str]:
    used = 0
    for index, char in enumerate(word):
        used += display_width(char)
        if used > width:
            return word[:index], word[index:]
    return word, ""


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap by display width; words wider than a line (CJK runs) are split."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while display_width(word) > width:
            if current:
                lines.append(current)
                current = ""
            head, word = _split_at_width(word, width)
            lines.append(head)
        if not word:
            continue
        if not current:
            current = word
        elif display_width(current) + 1 + display_width(word) <= width:
            current = f"{current} {word}"
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


class _Builder:
    """Accumulates lines at one width; every text goes through ``clean`` before measuring."""

    def __init__(self, width: int, clean: Callable[[str], str]) -> None:
        self.width = width
        self.clean = clean
        self.lines: list[Line] = []

    def blank(self) -> None:
        self.lines.append(Line())

    def rule(self) -> None:
        self.lines.append(Line("-" * self.width))

    def center(self, text: str, *, bold: bool = False, big: bool = False) -> None:
        # Bold is emulated in plain text by upper case, so upper-case before measuring.
        content = self.clean(text.upper() if bold else text)
        for part in wrap(content, self.width):
            self.lines.append(Line(part, Align.CENTER, bold, big))

    def row(self, label: str, value: str | None, *, bold: bool = False) -> None:
        """``LABEL      value`` with the value flush right; long values go below the label."""
        if value is None:
            return
        label = self.clean(label.upper() if bold else label)
        value = self.clean(value.upper() if bold else value)
        gap = self.width - display_width(label) - display_width(value)
        if gap >= 1:
            self.lines.append(Line(label + " " * gap + value, Align.LEFT, bold))
            return
        self.lines.append(Line(label, Align.LEFT, bold))
        for part in wrap(value, self.width):
            pad = " " * (self.width - display_width(part))
            self.lines.append(Line(pad + part, Align.LEFT, bold))


def _header(out: _Builder, receipt: Receipt) -> None:
    out.center(receipt.merchant_name, big=True)
    for line in receipt.merchant_address:
        out.center(line)


def _identifiers(out: _Builder, receipt: Receipt) -> None:
    out.center(receipt.copy.label)
    out.row("MID", receipt.merchant_id)
    out.row("TID", receipt.terminal_id)


def _details(out: _Builder, receipt: Receipt) -> None:
    out.center(receipt.kind.label, bold=True)
    out.row("CARD NO", receipt.masked_pan)
    out.row("CARD TYPE", receipt.card_brand)
    out.row("ENTRY", None if receipt.entry_mode is None else receipt.entry_mode.label)
    if receipt.qr is not None:
        out.row("WALLET", receipt.qr.wallet)
        out.row("ORDER NO", receipt.qr.order_ref)
    out.row("DATE/TIME", receipt.timestamp.strftime(DATETIME_FORMAT))
    out.row("BATCH NO", receipt.batch_no)
    out.row("TRACE NO", receipt.stan)
    out.row("INVOICE NO", receipt.invoice_no)
    out.row("AUTH CODE", receipt.auth_code)
    out.row("REF NO", receipt.rrn)
    if receipt.original is not None:
        out.row("ORIG TRACE", receipt.original.stan)
        out.row("ORIG REF NO", receipt.original.rrn)
        out.row("ORIG AUTH", receipt.original.auth_code)


def _amounts(out: _Builder, receipt: Receipt) -> None:
    currency, negative = receipt.currency, receipt.kind.is_credit
    if receipt.tip_minor is None:
        label = "BALANCE" if receipt.kind is ReceiptKind.BALANCE else "AMOUNT"
        out.row(label, currency.format(receipt.amount_minor, negative=negative), bold=True)
        return
    out.row("BASE", currency.format(receipt.amount_minor, negative=negative))
    out.row("TIP", currency.format(receipt.tip_minor, negative=negative))
    out.row("TOTAL", currency.format(receipt.total_minor, negative=negative), bold=True)


def _outcome(out: _Builder, receipt: Receipt) -> None:
    result = receipt.result
    out.center(result.outcome.value, bold=True, big=True)
    if not result.approved or result.response_code != "00":
        out.row("RESP CODE", result.response_code)
    if result.message:
        out.center(result.message)
    if receipt.pin_verified:
        out.center("PIN VERIFIED")
    if receipt.needs_signature:
        out.blank()
        out.blank()
        out.lines.append(Line("X" + "_" * (out.width - 1)))
        out.center(SIGNATURE_NOTICE)


#: Sections in print order; a rule separates consecutive sections.
_SECTIONS: Final = (_header, _identifiers, _details, _amounts, _outcome)


def layout_lines(
    receipt: Receipt, width: int, *, clean: Callable[[str], str] | None = None
) -> tuple[Line, ...]:
    """Lines of ``receipt`` at ``width`` columns; ``clean`` maps text a printer cannot show."""
    if width not in SUPPORTED_WIDTHS:
        raise ReceiptError(f"{width!r} is not one of {SUPPORTED_WIDTHS}", field="width")
    out = _Builder(width, clean or (lambda text: text))
    if receipt.duplicate and receipt.reprinted_at is not None:
        out.center(DUPLICATE_MARK, bold=True)
        out.center(f"REPRINT {receipt.reprinted_at.strftime(DATETIME_FORMAT)}")
        out.blank()
    for index, section in enumerate(_SECTIONS):
        if index:
            out.rule()
        section(out, receipt)
    if receipt.footer:
        out.blank()
        for line in receipt.footer:
            out.center(line)
    if receipt.duplicate:
        out.blank()
        out.center(DUPLICATE_MARK, bold=True)
    return tuple(out.lines)


def render_text(receipt: Receipt, width: int = 32) -> str:
    """Plain-text slip, one ``\\n``-terminated line each, no trailing spaces."""
    rendered = []
    for line in layout_lines(receipt, width):
        text = line.text
        if line.align is Align.CENTER:
            text = " " * ((width - display_width(text)) // 2) + text
        rendered.append(text.rstrip() + "\n")
    return "".join(rendered)
