"""Response codes (ISO 8583:1987 field 39) the simulator and the terminal understand."""

from __future__ import annotations

from typing import Final

__all__ = ["APPROVED", "RESPONSE_TEXT", "response_text"]

APPROVED: Final = "00"

RESPONSE_TEXT: Final[dict[str, str]] = {
    "00": "APPROVED",
    "01": "REFER TO ISSUER",
    "03": "INVALID MERCHANT",
    "05": "DO NOT HONOUR",
    "09": "REQUEST IN PROGRESS",
    "12": "INVALID TRANSACTION",
    "13": "INVALID AMOUNT",
    "14": "INVALID CARD NUMBER",
    "25": "ORIGINAL NOT FOUND",
    "30": "FORMAT ERROR",
    "43": "STOLEN CARD, PICK UP",
    "51": "INSUFFICIENT FUNDS",
    "54": "EXPIRED CARD",
    "55": "INCORRECT PIN",
    "58": "TRANSACTION NOT PERMITTED",
    "61": "EXCEEDS AMOUNT LIMIT",
    "64": "ORIGINAL AMOUNT INCORRECT",
    "77": "BATCH NUMBER MISMATCH",
    "91": "ISSUER UNAVAILABLE",
    "94": "DUPLICATE TRANSMISSION",
    "95": "RECONCILE ERROR",
    "96": "SYSTEM MALFUNCTION",
    "A0": "MAC VERIFICATION FAILED",
    "A7": "KEY EXCHANGE REQUIRED",
}


def response_text(code: str) -> str:
    return RESPONSE_TEXT.get(code, "DECLINED")
