"""Receipts: the slip model, its plain-text rendering and its ESC/POS bytes.

Everything here is pure: rendering builds text or bytes in memory and never talks to a printer.
"""

from __future__ import annotations

from terminal.core.receipts.escpos import DEFAULT_PROFILE, render_escpos
from terminal.core.receipts.model import (
    Copy,
    Currency,
    EntryMode,
    OriginalReference,
    Outcome,
    QrDetails,
    Receipt,
    ReceiptError,
    ReceiptKind,
    ReceiptResult,
    check_masked_pan,
)
from terminal.core.receipts.text import SUPPORTED_WIDTHS, display_width, render_text

__all__ = [
    "DEFAULT_PROFILE",
    "SUPPORTED_WIDTHS",
    "Copy",
    "Currency",
    "EntryMode",
    "OriginalReference",
    "Outcome",
    "QrDetails",
    "Receipt",
    "ReceiptError",
    "ReceiptKind",
    "ReceiptResult",
    "check_masked_pan",
    "display_width",
    "render_escpos",
    "render_text",
]
