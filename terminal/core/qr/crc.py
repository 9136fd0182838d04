"""CRC-16/CCITT-FALSE, the checksum EMVCo MPM carries in ID 63.

Parameters: polynomial 0x1021, initial value 0xFFFF, no input/output reflection, no final
XOR; check value 0x29B1 for ``b"123456789"``. The standard library's ``binascii.crc_hqx``
implements exactly this polynomial and bit order with a caller-chosen seed, so seeding it
with 0xFFFF gives CCITT-FALSE at C speed without a hand-rolled table.
"""

from __future__ import annotations

import binascii

from terminal.core.qr.errors import MpmError

__all__ = ["crc16_ccitt_false", "mpm_crc"]

_INIT = 0xFFFF


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` as an integer in 0..0xFFFF."""
    return binascii.crc_hqx(data, _INIT)


def mpm_crc(text: str) -> str:
    """CRC of an MPM payload prefix as 4 uppercase hex digits.

    ``text`` is everything up to and including ``"6304"``. The checksum is taken over the
    UTF-8 bytes (not the characters), which is what makes non-ASCII merchant names in the
    ID 64 template verify the same on every scanner.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MpmError(
            f"character U+{ord(text[exc.start]):04X} cannot be encoded as UTF-8",
            offset=exc.start,
        ) from None
    return f"{crc16_ccitt_false(data):04X}"
