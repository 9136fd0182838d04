"""Search every file under a directory for full card numbers and track data."""

from __future__ import annotations

import re
from pathlib import Path

from terminal.core.cards import Brand, detect_brand, luhn_valid
from terminal.core.testcards import CARDS

_DIGIT_RUN = re.compile(rb"(?<![0-9])[0-9]{13,19}(?![0-9])")
_TRACK2 = re.compile(rb"[0-9]{12,19}[=D][0-9]{7}")
_TRACK1 = re.compile(rb"B[0-9]{12,19}\^")


def card_data_in_files(root: Path) -> list[str]:
    """Findings as 'file: what' (never the number itself).

    Flags: any catalogue PAN (ASCII, or packed BCD as a binary dialect would write it), any
    Luhn-valid 13-19 digit run with a known card brand (timestamps such as 20251123... have
    none), and anything shaped like track 1 or track 2.
    """
    pans = [c.pan for c in CARDS]
    needles = [p.encode() for p in pans]
    needles += [bytes.fromhex(p + "F" * (len(p) % 2)) for p in pans]
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        name = str(path.relative_to(root))
        if any(n in data for n in needles):
            found.append(f"{name}: a test-card PAN")
        for run in _DIGIT_RUN.findall(data):
            text = run.decode()
            if luhn_valid(text) and detect_brand(text) is not Brand.UNKNOWN:
                found.append(f"{name}: a Luhn-valid card number")
        if _TRACK2.search(data) or _TRACK1.search(data):
            found.append(f"{name}: track data")
    return found
