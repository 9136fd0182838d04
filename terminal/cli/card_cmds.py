"""``posemu cards``, ``posemu card parse``, ``posemu qr parse|mpm``: card and QR tools.

Offline helpers for testers: list the test-card catalogue, decode what a magnetic-stripe
reader sent, decode a QR payload, build a merchant-presented QR. Card numbers are always
shown masked (first 6, last 4); discretionary data is never shown.

Exit status: 0 success, 2 bad input (one ``error:`` line on stderr naming the offset).
"""

from __future__ import annotations

import argparse
import json
import sys
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
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT

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
    swipe = parse_swipe(args.track)
    sc = swipe.service_code
    data = {
        "masked_pan": swipe.masked_pan,
        "brand": swipe.brand.display_name,
        "expiry": swipe.expiry.yymm,
        "service_code": sc.code,
        "interchange": sc.interchange.value,
        "pin": sc.pin_requirement.value,
        "chip": sc.chip_capable,
        "tracks_read": list(swipe.tracks_read),
        "tracks_failed": list(swipe.failed),
        "cardholder": swipe.track1.name if swipe.track1 is not None else None,
    }
    lines = [f"{key:<14} {value}" for key, value in data.items() if value is not None]
    return _emit(data, args.json, lines)


@_guard
def cmd_qr_parse(args: argparse.Namespace) -> int:
    text = args.payload.strip()
    data: dict[str, Any]
    if text.startswith("000201"):
        mpm = parse_mpm(text)
        extra = mpm.additional_data
        data = {
            "type": "mpm",
            "initiation": mpm.point_of_initiation.name.lower() if mpm.point_of_initiation else None,
            "merchant_name": mpm.merchant_name,
            "city": mpm.city,
            "country": mpm.country,
            "mcc": mpm.mcc,
            "currency": mpm.currency,
            "amount": str(mpm.amount) if mpm.amount is not None else None,
            "accounts": [a.guid for a in mpm.merchant_accounts],
            "reference": extra.reference_label if extra else None,
            "terminal": extra.terminal_label if extra else None,
            "crc": mpm.crc,
        }
    else:
        code = parse_payment_code(text)
        if isinstance(code, NumericPaymentCode):
            data = {"type": "wallet-code", "scheme": code.scheme.value, "code": code.masked}
        else:
            data = _cpm(code)
    lines = [f"{key:<14} {value}" for key, value in data.items() if value is not None]
    return _emit(data, args.json, lines)


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
