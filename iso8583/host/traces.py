"""Sample traces and tables of docs/host-protocol.md, made by the real host (so they are true).

``python -m iso8583.host.traces`` prints the generated part of the page: per built-in dialect,
a sign-on, a sale and its reversal as framed hex, request and answer, decided by
:class:`~iso8583.host.engine.HostEngine`; and the tables of mandatory fields and processing
codes from ``iso8583.host.validate``. A test reads the traces back from the page, decrypts the
working keys with the published TMK and verifies every MAC.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime

from iso8583.acquirer.codes import RESPONSE_TEXT
from iso8583.acquirer.model import Original, Request, TxnKind
from iso8583.acquirer.profiles import Iso93Profile, profile_for
from iso8583.acquirer.security import TEST_TMK, apply_mac, open_session_keys
from iso8583.dialects import get_spec
from iso8583.framing import Tpdu
from iso8583.host.engine import HostEngine
from iso8583.host.validate import PROCESSING_CODES, REQUIRED, dialect_fields

__all__ = ["DIALECTS", "SAMPLE_PAN", "Trace", "render", "sample_traces"]

DIALECTS = ("iso87ascii", "iso87binary", "iso93ascii", "cup")
SAMPLE_PAN = "4761739001010119"  # a public Visa test card number
SAMPLE_TIME = datetime(2026, 12, 6, 12, 30, 45)
_TID, _MID = "POSEMU01", "POSEMU000000001"


@dataclass(frozen=True)
class Trace:
    label: str
    request: bytes  # framed, as on the wire
    response: bytes


def _hex(data: bytes) -> str:
    return "\n".join(textwrap.wrap(data.hex().upper(), 64))


def sample_traces(spec_name: str) -> list[Trace]:
    """Sign-on, sale (manual entry, MAC'd) and the sale's reversal, through a real engine."""
    spec = get_spec(spec_name)
    engine = HostEngine(spec)
    profile = profile_for(spec)
    fmt = spec.frame_format
    tpdu = Tpdu(0x60, destination=0x0001, source=0x0000) if fmt.tpdu else None
    header = bytes.fromhex("603100000000") if fmt.header_length == 6 else bytes(fmt.header_length)
    traces: list[Trace] = []
    keys = None

    def exchange(label: str, req: Request) -> bytes:
        msg = profile.request_to_message(req)
        if keys is not None and (req.kind.financial or req.kind is TxnKind.REVERSAL):
            msg = apply_mac(msg, spec, keys.mac_key)
        payload = spec.codec.pack(msg)
        result = engine.handle(payload, now=SAMPLE_TIME)
        assert result.reply is not None, result.summary
        request = fmt.wrap(payload, tpdu=tpdu, header=header)
        reply_tpdu = tpdu.response() if tpdu is not None else None
        traces.append(Trace(label, request, fmt.wrap(result.reply, tpdu=reply_tpdu, header=header)))
        return result.reply

    def req(kind: TxnKind, stan: str, **kw: object) -> Request:
        return Request(
            kind, stan=stan, local_time=SAMPLE_TIME, terminal_id=_TID, merchant_id=_MID, **kw
        )  # type: ignore[arg-type]

    reply = exchange("sign-on", req(TxnKind.SIGNON, "000001"))
    wire = profile.response_from_message(spec.codec.unpack(reply), TxnKind.SIGNON).keys
    assert wire is not None
    keys = open_session_keys(wire, TEST_TMK)
    sale = req(TxnKind.SALE, "000002", amount=1000, pan=SAMPLE_PAN, expiry="3012", entry_mode="012")
    exchange("sale 10.00", sale)
    original = Original(TxnKind.SALE, stan="000002", local_time=SAMPLE_TIME, batch="000001")
    exchange(
        "reversal of the sale", req(TxnKind.REVERSAL, "000003", amount=1000, original=original)
    )
    return traces


def _table(rows: list[tuple[str, ...]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def _required_table() -> str:
    names = {
        "pc": "3",
        "amount": "4",
        "currency": "49",
        "entry": "22",
        "merchant": "42",
        "card": "2 / 35 / 55",
        "qr": "59",
    }
    layouts = {
        n: dialect_fields(profile_for(get_spec(n))) for n in ("iso87ascii", "iso93ascii", "cup")
    }
    rows: list[tuple[str, ...]] = [("kind", "iso87ascii / iso87binary", "iso93ascii", "cup")]
    for kind, items in REQUIRED.items():
        cells = []
        for layout in layouts.values():
            fields = ["11", "41", layout["time"]]
            for item in items:
                where = names.get(item) or layout.get(item)
                if item == "original":
                    where = f"{layout['original']} or 37/38"
                fields.append(str(where))
            cells.append(", ".join(fields))
        rows.append((kind.value, *cells))
    return _table(rows)


def _pc_table() -> str:
    rows: list[tuple[str, ...]] = [("message class", "processing codes (field 3, first 2 digits)")]
    for cls, codes in PROCESSING_CODES.items():
        rows.append((f"{cls}x", ", ".join(sorted(codes))))
    return _table(rows)


def _codes_table() -> str:
    action = Iso93Profile._ACTION
    rows: list[tuple[str, ...]] = [("code", "meaning", "iso93ascii action code")]
    for code, text in RESPONSE_TEXT.items():
        rows.append((code, text, action.get(code, "909")))
    return _table(rows)


def render() -> str:
    """The generated part of docs/host-protocol.md."""
    out = [
        "### Mandatory fields per kind",
        "",
        "Every request needs the STAN (11), the terminal ID (41) and the local time; then:",
        "",
        _required_table(),
        "",
        "### Processing codes",
        "",
        _pc_table(),
        "",
        "### Response codes",
        "",
        _codes_table(),
        "",
        "### Sample traces",
        "",
        f"Terminal `{_TID}`, merchant `{_MID}`, local time {SAMPLE_TIME:%Y-%m-%d %H:%M:%S}, "
        f"test PAN `{SAMPLE_PAN}` keyed in (entry mode 012), the default TMK. Each block is "
        "the whole frame as sent (length header, TPDU and header where the dialect has them).",
    ]
    for name in DIALECTS:
        out += ["", f"#### {name}", ""]
        for trace in sample_traces(name):
            out += [
                f"{trace.label}, request:",
                "",
                "```",
                _hex(trace.request),
                "```",
                "",
                f"{trace.label}, response:",
                "",
                "```",
                _hex(trace.response),
                "```",
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
