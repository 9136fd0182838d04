"""``posemu cards``, ``posemu card parse``, ``posemu qr parse|mpm``: card and QR tools.

Offline helpers for testers: list the test-card catalogue, decode what a magnetic-stripe
reader sent, decode a QR payload, build a merchant-presented QR. Card numbers are always
shown masked (first 6, last 4); discretionary data is never shown.

Exit status: 0 success, 2 bad input (one ``error:`` line on stderr naming the offset).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from terminal.core.errors import TerminalError
from terminal.core.money import parse_amount
from terminal.core.qr import (
    CpmPayload,
    NumericPaymentCode,
    parse_mpm,
    parse_payment_code,
    render_qr,
)
from terminal.core.receipts import Currency
from terminal.core.testcards import CARDS
from terminal.core.tracks import parse_swipe

__all__ = ["EXIT_BAD_INPUT", "add_parser"]

EXIT_BAD_INPUT = 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    cards = sub.add_parser("cards", help="list the named test cards")
    cards.add_argument("--json", action="store_true", help="print a JSON array")
    cards.set_defaults(func=cmd_cards)

    card = sub.add_parser("card", help="card data tools")
    card_cmds = card.add_subparsers(dest="card_cmd", required=True)
    parse = card_cmds.add_parser("parse", help="decode magnetic-stripe reader output (masked)")
    parse.add_argument("track", metavar="TRACKDATA", help="tracks as read, e.g. ';PAN=YYMM...?'")
    parse.add_argument("--json", action="store_true", help="print one JSON object")
    parse.set_defaults(func=cmd_card_parse)

    qr = sub.add_parser("qr", help="QR payload tools")
    qr_cmds = qr.add_subparsers(dest="qr_cmd", required=True)
    qparse = qr_cmds.add_parser("parse", help="decode an EMVCo MPM payload or a payment code")
    qparse.add_argument("payload", metavar="PAYLOAD")
    qparse.add_argument("--json", action="store_true", help="print one JSON object")
    qparse.add_argument(
        "--strict",
        action="store_true",
        help="refuse a payload that breaks the EMVCo rules (default: warn and show it)",
    )
    qparse.set_defaults(func=cmd_qr_parse)
    mpm = qr_cmds.add_parser("mpm", help="build a dynamic merchant-presented QR payload")
    mpm.add_argument("--amount", required=True, help="amount in major units, e.g. 12.34")
    mpm.add_argument("--ref", default="ORDER0001", help="order reference (ID 62.05)")
    mpm.add_argument("--render", action="store_true", help="draw the QR with half blocks")
    mpm.set_defaults(func=cmd_qr_mpm)


def _guard(func: Any) -> Any:
    """Core errors (bad track, bad payload, bad amount) become one line and exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except TerminalError as exc:
            from terminal.cli.options import emit_error

            as_json = bool(getattr(args, "json", False))
            return emit_error(str(exc), as_json=as_json, code=EXIT_BAD_INPUT, kind="input")

    run.__doc__ = func.__doc__
    return run


def _emit(data: dict[str, Any] | list[Any], as_json: bool, lines: list[str]) -> int:
    print(json.dumps(data, ensure_ascii=False) if as_json else "\n".join(lines))
    return 0


@_guard
def cmd_cards(args: argparse.Namespace) -> int:
    from iso8583.acquirer.codes import response_text  # here: only `cards` needs the host codes

    rows = [
        {
            "name": c.name,
            "brand": c.brand.display_name,
            "masked_pan": c.masked_pan,
            "expiry": c.expiry.yymm,
            "pin": c.pin_required,
            "expected_response": c.expected_response,
            "expected_text": response_text(c.expected_response),
            "note": c.note,
        }
        for c in CARDS
    ]
    lines = [
        f"{r['name']:<20} {r['brand']:<17} {r['masked_pan']:<19} {r['expiry']}  "
        f"{'PIN' if r['pin'] else '   '}  {r['expected_response']} {r['expected_text']}"
        for r in rows
    ]
    return _emit(rows, args.json, lines)


@_guard
def cmd_card_parse(args: argparse.Namespace) -> int:
    from datetime import date

    from iso8583.masking import luhn_ok

    swipe = parse_swipe(args.track)
    sc = swipe.service_code
    luhn = luhn_ok(swipe.pan)
    expired = swipe.expiry.is_expired(date.today())
    data = {
        "masked_pan": swipe.masked_pan,
        "luhn": "valid" if luhn else "INVALID (check digit wrong: a host declines it)",
        "luhn_valid": luhn,
        "brand": swipe.brand.display_name,
        "expiry": swipe.expiry.yymm,
        "expires": f"end of {swipe.expiry.last_valid_day:%Y-%m}"
        + (" (EXPIRED)" if expired else ""),
        "expired": expired,
        "service_code": sc.code,
        "interchange": sc.interchange.value,
        "chip": sc.chip_capable,
        "authorization": sc.authorization.value,
        "services": sc.services.value,
        "pin": sc.pin_requirement.value,
        "service_meaning": (
            f"{sc.code[0]}: {sc.interchange.value}; "
            f"{sc.code[1]}: authorization {sc.authorization.value}; "
            f"{sc.code[2]}: {sc.services.value}, {sc.pin_requirement.value}"
        ),
        "tracks_read": list(swipe.tracks_read),
        "tracks_failed": list(swipe.failed),
        "cardholder": swipe.track1.name if swipe.track1 is not None else None,
    }
    hidden = {"luhn_valid", "expired", "interchange", "authorization", "services", "pin"}
    lines = _table({k: v for k, v in data.items() if v is not None and k not in hidden})
    return _emit(data, args.json, lines)


def _table(data: dict[str, Any]) -> list[str]:
    """``key  value`` lines, the values in one column however long the longest key."""
    width = max((len(key) for key in data), default=0)
    return [f"{key:<{width}}  {value}" for key, value in data.items()]


@_guard
def cmd_qr_parse(args: argparse.Namespace) -> int:
    from terminal.core.qr.describe import detect_kind

    text = args.payload.strip()
    kind = detect_kind(text)
    if kind == "mpm":
        return _mpm_parse(text, args)
    code = parse_payment_code(text)
    data: dict[str, Any]
    if isinstance(code, NumericPaymentCode):
        data = {"type": "wallet-code", "scheme": code.scheme.value, "code": code.masked}
    else:
        data = _cpm(code)
    lines = _table({k: v for k, v in data.items() if v is not None})
    return _emit(data, args.json, lines)


def _mpm_parse(text: str, args: argparse.Namespace) -> int:
    """The whole record tree; spec violations as warnings (errors with ``--strict``)."""
    from terminal.core.qr.describe import mpm_text, mpm_tree
    from terminal.core.qr.mpm import inspect_mpm

    if args.strict:
        mpm, warnings = parse_mpm(text), ()
    else:
        mpm, warnings = inspect_mpm(text)
    extra = mpm.get("62")
    summary = {
        "type": "mpm",
        "initiation": mpm.point_of_initiation.name.lower() if mpm.point_of_initiation else None,
        "merchant_name": mpm.value("59"),
        "city": mpm.value("60"),
        "country": mpm.value("58"),
        "mcc": mpm.value("52"),
        "currency": mpm.value("53"),
        "amount": mpm.value("54"),
        "accounts": [
            kid.value
            for record in mpm.records
            if 26 <= int(record.id) <= 51
            for kid in record.children
            if kid.id == "00"
        ],
        "reference": _child(extra, "05"),
        "terminal": _child(extra, "07"),
        "crc": mpm.value("63"),
        "crc_valid": True,  # an invalid CRC is an error, never a warning
    }
    tree = mpm_tree(mpm)
    problems = [{"tag": w.tag, "offset": w.offset, "message": w.reason} for w in warnings]
    if args.json:
        print(json.dumps({**summary, "records": tree, "warnings": problems}, ensure_ascii=False))
        return 0
    lines = _table({k: v for k, v in summary.items() if v not in (None, [])})
    lines += ["", "records:", *("  " + line for line in mpm_text(tree))]
    if warnings:
        lines += ["", f"warnings ({len(warnings)}, use --strict to refuse):"]
        lines += [f"  {w}" for w in warnings]
    print("\n".join(lines))
    return 0


def _child(record: Any, sub_id: str) -> str | None:
    if record is None:
        return None
    kid = record.child(sub_id)
    return kid.value if kid is not None else None


def _cpm(code: CpmPayload) -> dict[str, Any]:
    apps = [
        {"aid": app.aid, "label": app.label, "masked_pan": app.pan.masked if app.pan else None}
        for app in code.applications
    ]
    return {
        "type": "emv-cpm",
        "format": code.format_indicator,
        "masked_pan": code.pan.masked if code.pan else None,
        "applications": apps,
    }


@_guard
def cmd_qr_mpm(args: argparse.Namespace) -> int:
    from terminal.core.config import TerminalConfig  # here: keys and framing, for mpm only
    from terminal.core.qr.order import mpm_payload

    config = TerminalConfig()
    amount = parse_amount(args.amount, Currency.lookup(config.currency).exponent)
    payload = mpm_payload(config, amount, args.ref)
    print(payload)
    if args.render:
        print("\n".join(render_qr(payload)))
    return 0
