"""A scannable QR symbol drawn with half blocks, with its full quiet zone.

Dark modules are inked in black on a white field whatever the theme (``invert=True``), and
the 4-module quiet zone the QR standard asks for is drawn as part of the symbol (white), so
a phone can scan it off the screen. A symbol that does not fit the space it is given is
not drawn cut off or squeezed: the widget says how much room it needs instead
(:meth:`fit`), and shows the payload text.
"""

from __future__ import annotations

from textual.widgets import Static

from terminal.core.qr import QrError, render_qr

__all__ = ["QUIET_ZONE", "QrView"]

#: Modules of light margin around the symbol (ISO/IEC 18004 asks for 4).
QUIET_ZONE = 4


class QrView(Static):
    """Shows ``payload`` as a QR code (or why it cannot)."""

    def __init__(self, payload: str = "", *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.payload = ""
        self.lines: list[str] = []
        self.too_small = False
        self.set_payload(payload)

    @property
    def needed(self) -> tuple[int, int]:
        """(columns, rows) the symbol needs with its quiet zone: 0, 0 when there is none."""
        if not self.lines:
            return 0, 0
        return len(self.lines[0]), len(self.lines)

    def set_payload(self, payload: str) -> None:
        self.payload = payload
        self.lines = []
        if not payload:
            self.update("")
            return
        try:
            self.lines = render_qr(payload, border=QUIET_ZONE, invert=True)
        except QrError as exc:
            self.update(f"cannot draw this QR code: {exc}")
            return
        self.update("\n".join(self.lines))

    def fit(self, columns: int, rows: int) -> bool:
        """Draw the symbol if ``columns`` x ``rows`` cells hold it, else say why not."""
        need_cols, need_rows = self.needed
        if not self.lines:
            return True
        self.too_small = need_cols > columns or need_rows > rows
        self.styles.width = max(columns, 20) if self.too_small else "auto"
        if self.too_small:
            self.update(
                f"Window too small for a scannable QR code: it needs {need_cols} x "
                f"{need_rows} cells here, this window gives {columns} x {rows}.\n"
                "Enlarge the window (or use a smaller font).\n\nPayload:\n" + self.payload
            )
        else:
            self.update("\n".join(self.lines))
        return not self.too_small
