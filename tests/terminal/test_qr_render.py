"""Half-block QR rendering: decoding the text must give back segno's module matrix exactly."""

from __future__ import annotations

import pytest
import segno

from terminal.core.qr import QrRenderError, qr_matrix, render_qr

EMVCO_EXAMPLE = (
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678"
    "520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京"
    "540523.7253031565502016233030412340603***0708A60086670902ME9132"
    "0016A0112233449988770708123456786304A13A"
)
PAYLOADS = [
    EMVCO_EXAMPLE,
    "00020101021226270015com.example.pay0104M123520458125303156540512.505802CN",
    "134567890123456789",
    "HELLO WORLD",
    "x",
]
# (upper half inked, lower half inked) for each glyph.
HALVES = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}


def reference_matrix(payload: str, border: int) -> list[list[bool]]:
    """segno's own matrix for the documented settings: level M, no boost, no ECI, UTF-8."""
    options = {} if payload.isascii() else {"mode": "byte", "encoding": "utf-8"}
    symbol = segno.make_qr(payload, error="m", boost_error=False, eci=False, **options)
    assert symbol.error == "M"
    return [[bool(m) for m in row] for row in symbol.matrix_iter(border=border)]


def decode(lines: list[str], *, invert: bool) -> list[list[bool]]:
    """Turn text back into module rows (True = dark) for the given polarity."""
    rows: list[list[bool]] = []
    for line in lines:
        halves = [HALVES[char] for char in line]
        rows.append([upper == invert for upper, _ in halves])
        rows.append([lower == invert for _, lower in halves])
    return rows


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p[:12])
@pytest.mark.parametrize("border", [0, 1, 4])
@pytest.mark.parametrize("invert", [False, True])
def test_rendered_text_decodes_to_segno_matrix(payload: str, border: int, invert: bool) -> None:
    lines = render_qr(payload, border=border, invert=invert)
    expected = reference_matrix(payload, border)
    size = len(expected)
    assert size % 2 == 1
    assert len(lines) == (size + 1) // 2
    assert {len(line) for line in lines} == {size}
    rows = decode(lines, invert=invert)
    assert rows[-1] == [False] * size  # the padding half-row is light
    assert rows[:-1] == expected
    assert [list(row) for row in qr_matrix(payload, border=border)] == expected


def test_default_polarity_inks_light_modules() -> None:
    dark_terminal = render_qr("HELLO", border=2)
    light_terminal = render_qr("HELLO", border=2, invert=True)
    assert dark_terminal[0] == "█" * len(dark_terminal[0])  # quiet zone is light: inked
    assert light_terminal[0] == " " * len(light_terminal[0])
    swap = str.maketrans("█▀▄ ", " ▄▀█")
    body = len(dark_terminal) - 1  # the last line mixes symbol and padding
    assert [line.translate(swap) for line in dark_terminal[:body]] == light_terminal[:body]


def test_default_border_is_four_modules() -> None:
    assert render_qr("HELLO") == render_qr("HELLO", border=4)
    assert len(render_qr("HELLO")[0]) == 21 + 8


def test_non_ascii_payload_is_utf8_byte_mode() -> None:
    symbol = segno.make_qr("最佳运输", error="m", boost_error=False, mode="byte", encoding="utf-8")
    assert symbol.mode == "byte"
    assert [list(r) for r in qr_matrix("最佳运输", border=0)] == [
        [bool(m) for m in row] for row in symbol.matrix_iter(border=0)
    ]


@pytest.mark.parametrize(
    ("payload", "border", "reason"),
    [
        ("HELLO", -1, "border must be 0 or more modules, got -1"),
        ("", 4, "payload is empty"),
        ("ab\ud800", 4, "character U+D800 cannot be encoded as UTF-8"),
    ],
)
def test_render_errors(payload: str, border: int, reason: str) -> None:
    with pytest.raises(QrRenderError) as info:
        render_qr(payload, border=border)
    assert info.value.reason == reason


def test_payload_too_long_for_level_m() -> None:
    with pytest.raises(QrRenderError, match="does not fit a QR code at level M"):
        render_qr("é" * 2000)
