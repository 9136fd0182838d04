"""A scannable QR symbol drawn with half blocks.

Dark modules are inked in black on a white field whatever the theme (``invert=True``), and
the widget's white padding is the quiet zone, so a phone can scan it off the screen.
"""

from __future__ import annotations

from textual.widgets import Static

from terminal.core.qr import QrError, render_qr

__all__ = ["QrView"]


class QrView(Static):
    """Shows ``payload`` as a QR code (or why it cannot)."""

    def __init__(self, payload: str = "", *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.payload = ""
        self.set_payload(payload)

    def set_payload(self, payload: str) -> None:
        self.payload = payload
        if not payload:
            self.update("")
            return
        try:
            lines = render_qr(payload, border=0, invert=True)
        except QrError as exc:
            self.update(f"cannot draw this QR code: {exc}")
            return
        self.update("\n".join(lines))
