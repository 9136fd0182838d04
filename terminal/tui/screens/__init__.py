"""The POS screens, one per module; the App routes between them."""

from __future__ import annotations

from terminal.tui.screens.card import CardScreen
from terminal.tui.screens.devices import DevicesScreen
from terminal.tui.screens.forms import FormValues, OperationForm
from terminal.tui.screens.home import HomeScreen
from terminal.tui.screens.journal import JournalScreen
from terminal.tui.screens.menu import MenuScreen
from terminal.tui.screens.pin import PinScreen
from terminal.tui.screens.processing import ProcessingScreen
from terminal.tui.screens.qr_cpm import QrCpmScreen
from terminal.tui.screens.qr_mpm import QrMpmScreen
from terminal.tui.screens.result import ResultScreen

__all__ = [
    "CardScreen",
    "DevicesScreen",
    "FormValues",
    "HomeScreen",
    "JournalScreen",
    "MenuScreen",
    "OperationForm",
    "PinScreen",
    "ProcessingScreen",
    "QrCpmScreen",
    "QrMpmScreen",
    "ResultScreen",
]
