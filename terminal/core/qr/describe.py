"""What is in a QR payload, all of it: the MPM record tree with EMVCo names, and telling
an MPM payload from a consumer-presented code by its content.

Why: a tester looks at a payload from the field to see what a wallet will see, so nothing
may be dropped (merchant account templates 26-51, additional data 62, the language
template 64, unreserved templates 80-99), and a payload that is neither kind gets an answer
that says what is wrong with it, not the error of whichever parser happened to be tried.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from terminal.core.qr.errors import MpmError, QrError
from terminal.core.qr.mpm import MpmPayload, MpmRecord

__all__ = ["QrKind", "detect_kind", "mpm_name", "mpm_text", "mpm_tree"]

QrKind = Literal["mpm", "emv-cpm", "wallet-code"]

_TOP: Final[dict[str, str]] = {
    "00": "Payload Format Indicator",
    "01": "Point of Initiation Method",
    "52": "Merchant Category Code",
    "53": "Transaction Currency",
    "54": "Transaction Amount",
    "55": "Tip or Convenience Indicator",
    "56": "Value of Convenience Fee Fixed",
    "57": "Value of Convenience Fee Percentage",
    "58": "Country Code",
    "59": "Merchant Name",
    "60": "Merchant City",
    "61": "Postal Code",
    "62": "Additional Data Field Template",
    "63": "CRC",
    "64": "Merchant Information - Language Template",
}
_NETWORKS: Final = (
    ("02", "03", "Visa"),
    ("04", "05", "Mastercard"),
    ("06", "08", "EMVCo"),
    ("09", "10", "Discover"),
    ("11", "12", "Amex"),
    ("13", "14", "JCB"),
    ("15", "16", "UnionPay"),
    ("17", "25", "EMVCo"),
)
_ADDITIONAL: Final[dict[str, str]] = {
    "01": "Bill Number",
    "02": "Mobile Number",
    "03": "Store Label",
    "04": "Loyalty Number",
    "05": "Reference Label",
    "06": "Customer Label",
    "07": "Terminal Label",
    "08": "Purpose of Transaction",
    "09": "Additional Consumer Data Request",
    "10": "Merchant Tax ID",
    "11": "Merchant Channel",
}
_LANGUAGE: Final[dict[str, str]] = {
    "00": "Language Preference",
    "01": "Merchant Name - Alternate Language",
    "02": "Merchant City - Alternate Language",
}
_INITIATION: Final = {"11": "static", "12": "dynamic"}


def mpm_name(path: str) -> str:
    """The EMVCo name of the record at ``path`` (``"59"``, ``"62.05"``, ``"29.00"``)."""
    parts = path.split(".")
    top = int(parts[0])
    if len(parts) == 1:
        if path in _TOP:
            return _TOP[path]
        for low, high, network in _NETWORKS:
            if low <= path <= high:
                return f"Merchant Account Information ({network})"
        if 26 <= top <= 51:
            return "Merchant Account Information"
        if 65 <= top <= 79:
            return "Reserved for future use (EMVCo)"
        return "Unreserved Template"
    sub, number = parts[-1], int(parts[-1])
    if parts[0] == "62":
        if len(parts) == 3:
            return "Globally Unique Identifier" if sub == "00" else "Payment System Specific"
        if sub in _ADDITIONAL:
            return _ADDITIONAL[sub]
        return "Payment System Specific Template" if number >= 50 else "Reserved for future use"
    if parts[0] == "64":
        return _LANGUAGE.get(sub, "Reserved for future use")
    if sub == "00":
        return "Globally Unique Identifier"
    if 26 <= top <= 51:
        return "Payment Network Specific"
    return "Context Specific Data"


def _node(record: MpmRecord, parent: str | None) -> dict[str, Any]:
    path = record.id if parent is None else f"{parent}.{record.id}"
    node: dict[str, Any] = {"id": record.id, "path": path, "name": mpm_name(path)}
    if record.children:
        node["children"] = [_node(kid, path) for kid in record.children]
    else:
        node["value"] = record.value
        if path == "01" and record.value in _INITIATION:
            node["meaning"] = _INITIATION[record.value]
    if record.offset is not None:
        node["offset"] = record.offset
    return node


def mpm_tree(payload: MpmPayload) -> list[dict[str, Any]]:
    """Every record, nested, with its EMVCo name (JSON-ready)."""
    return [_node(record, None) for record in payload.records]


def mpm_text(tree: list[dict[str, Any]], indent: str = "") -> list[str]:
    """The tree as aligned lines: ``ID  name  value``."""
    lines = []
    for node in tree:
        label = f"{indent}{node['id']}  {node['name']}"
        if "children" in node:
            lines.append(label)
            lines.extend(mpm_text(node["children"], indent + "    "))
        else:
            meaning = f" ({node['meaning']})" if "meaning" in node else ""
            lines.append(f"{label:<52} {node['value']}{meaning}")
    return lines


_RECORD_START = re.compile(r"[0-9]{4}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def detect_kind(text: str) -> QrKind:
    """Which kind of payload ``text`` is, judged by its content; QrError when it is none.

    MPM: ID-length records (``0002 01...``) with a ``6304`` CRC record; EMV CPM: base64 of
    BER-TLV that starts with tag 85 (``hQ``); a wallet code: 16-24 digits.
    """
    if text.isascii() and text.isdigit() and 16 <= len(text) <= 24:
        return "wallet-code"
    if text.startswith("000201"):
        return "mpm"
    if _RECORD_START.match(text) and "6304" in text[-8:]:
        first = text[:2]
        raise MpmError(
            f"looks like an EMVCo MPM payload, but it starts with ID {first}: the payload "
            "format indicator (ID 00, value 01) must come first",
            offset=0,
            tag=first,
        )
    if len(text) >= 8 and _BASE64.fullmatch(text):
        return "emv-cpm"  # its own parser says what is wrong inside
    if text.isascii() and text.isdigit():
        raise QrError(f"a {len(text)}-digit number is not a payment code (codes have 16-24)")
    raise QrError(
        "not a QR payment payload: an EMVCo MPM payload starts with 000201 and ends with a "
        "6304 CRC record, an EMV CPM code is base64 (starting 'hQ'), a wallet code is 16-24 "
        "digits"
    )
