"""Draw a QR symbol with Unicode half blocks so a text UI can show a merchant QR.

Each text line carries two module rows: the upper half of a cell is the first row, the
lower half the second, using ``'█'``, ``'▀'``, ``'▄'`` and ``' '``. A symbol plus its quiet
zone always has an odd number of rows, so the last line's lower half is one extra row of
light modules (harmless: it only widens the quiet zone).

Polarity: a glyph is painted in the terminal's *foreground* colour. On the usual dark
terminal with light text, the foreground is the light colour, so by default *light*
modules (and the quiet zone) are inked and dark modules are left blank, which shows the
expected dark-on-light symbol that phone cameras scan. Use ``invert=True`` on a light
terminal or for paper, where ink is dark.

The symbol uses error correction level M exactly (no boosting), no ECI header, and the
payload text as-is: ASCII payloads let segno pick the densest mode, anything else is
byte mode in UTF-8, the encoding EMVCo payloads and their CRC assume.
"""

from __future__ import annotations

from terminal.core.qr.errors import QrRenderError

__all__ = ["qr_matrix", "render_qr"]

_GLYPHS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(payload: str, *, border: int = 4) -> tuple[tuple[bool, ...], ...]:
    """Module rows of the QR symbol for ``payload`` (``True`` = dark), quiet zone included."""
    if border < 0:
        raise QrRenderError(f"border must be 0 or more modules, got {border}")
    if not payload:
        raise QrRenderError("payload is empty")
    try:
        payload.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QrRenderError(
            f"character U+{ord(payload[exc.start]):04X} cannot be encoded as UTF-8",
            offset=exc.start,
        ) from None
    options = {} if payload.isascii() else {"mode": "byte", "encoding": "utf-8"}
    import segno  # here, not at the top: ~30 ms that `posemu qr parse` need not pay

    try:
        symbol = segno.make_qr(payload, error="m", boost_error=False, eci=False, **options)
    except ValueError as exc:
        raise QrRenderError(f"payload does not fit a QR code at level M: {exc}") from None
    return tuple(tuple(bool(module) for module in row) for row in symbol.matrix_iter(border=border))


def render_qr(payload: str, *, border: int = 4, invert: bool = False) -> list[str]:
    """Text lines drawing ``payload`` as a QR symbol with a ``border``-module quiet zone.

    ``invert=False`` suits dark terminals (light modules inked); ``True`` inks dark ones.
    """
    matrix = qr_matrix(payload, border=border)
    light_row = (False,) * len(matrix[0])
    lines = []
    for y in range(0, len(matrix), 2):
        top = matrix[y]
        bottom = matrix[y + 1] if y + 1 < len(matrix) else light_row
        lines.append(
            "".join(
                _GLYPHS[(upper == invert, lower == invert)]
                for upper, lower in zip(top, bottom, strict=True)
            )
        )
    return lines
