"""Reusable widgets of the POS screen: status bar, keypad, amount field, receipt, QR."""

from __future__ import annotations

from terminal.tui.widgets.amount_field import AmountField
from terminal.tui.widgets.footer import PosFooter
from terminal.tui.widgets.keypad import Keypad
from terminal.tui.widgets.qr_view import QrView
from terminal.tui.widgets.receipt_pane import ReceiptPane
from terminal.tui.widgets.status_bar import StatusBar, StatusInfo

__all__ = ["AmountField", "Keypad", "PosFooter", "QrView", "ReceiptPane", "StatusBar", "StatusInfo"]
