"""Consumer-presented QR: scan (or paste) the customer's wallet payment code.

The code is a bearer credential, so it is typed into a password field and validated
before anything is sent; ``ctrl+g`` fills in a sample code for testing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from terminal.core.qr import QrError, parse_payment_code
from terminal.tui.outcome import format_money
from terminal.tui.screens.base import PosScreen

__all__ = ["SAMPLE_WALLET_CODE", "QrCpmScreen"]

#: An Alipay-shaped 18-digit one-time code (prefix 28): what a wallet app would show.
SAMPLE_WALLET_CODE = "281234567890123456"


class QrCpmScreen(PosScreen[str | None]):
    """Dismisses with the scanned code, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+g", "sample", "Sample code"),
    ]

    def __init__(self, amount: int) -> None:
        super().__init__()
        self.amount = amount

    def body(self) -> Iterator[Widget]:
        currency = self.pos.services.config.currency
        with Vertical(id="cpm"):
            yield Label(f"QR SALE  ·  {format_money(self.amount, currency)}", id="cpm-title")
            yield Label("Scan the customer's payment code (or paste it) and press Enter:")
            yield Input(placeholder="payment code", password=True, id="cpm-code")
            yield Static(
                "Numeric wallet codes (16-24 digits) and EMVCo CPM (Base64) are accepted.\n"
                "ctrl+g fills in a sample wallet code.",
                id="cpm-help",
            )

    def on_mount(self) -> None:
        self.query_one("#cpm-code", Input).focus()
        devices = self.pos.services.devices
        scanner = devices.scanner if devices is not None else None
        if scanner is not None:  # scans arrive on the scanner's thread
            self.query_one("#cpm-help", Static).update(
                f"Waiting for a scan on {scanner.url} (or paste the code).\n"
                "ctrl+g fills in a sample wallet code."
            )
            self._unsubscribe = scanner.subscribe(self.from_device(self._scanned))

    def on_unmount(self) -> None:
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()

    def _scanned(self, code: str) -> None:
        if self.is_current:
            self._take(code)

    def action_sample(self) -> None:
        self.query_one("#cpm-code", Input).value = SAMPLE_WALLET_CODE

    @on(Input.Submitted, "#cpm-code")
    def _submitted(self, event: Input.Submitted) -> None:
        event.input.value = ""
        self._take(event.value.strip())

    def _take(self, code: str) -> None:
        if not code:
            self.notify("Type or scan the customer's payment code first", severity="warning")
            return
        try:
            parse_payment_code(code)
        except QrError as exc:
            self.notify(f"Not a payment code: {exc}", severity="error")
            return
        self.answer(code)
