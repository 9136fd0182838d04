"""Issue 8, a strict host: mandatory fields and formats per message type, 30 naming the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from iso8583 import get_spec
from iso8583.acquirer import (
    Original,
    Request,
    Totals,
    TxnKind,
    apply_mac,
    open_session_keys,
    profile_for,
)
from iso8583.host import HostEngine
from terminal.core.testcards import get_card

NOW = datetime(2026, 6, 15, 12, 0, 0)
TRACK2 = get_card("visa-approve").track2_data().for_iso8583()


class _Terminal:
    def __init__(self, spec_name: str) -> None:
        self.spec = get_spec(spec_name)
        self.engine = HostEngine(self.spec)
        self.profile = profile_for(self.spec)
        self.keys = None
        self.stan = 0
        resp = self.profile.response_from_message(
            self.spec.codec.unpack(self.engine.handle(self.pack(self.req(TxnKind.SIGNON))).reply),
            TxnKind.SIGNON,
        )
        self.keys = open_session_keys(resp.keys)

    def req(self, kind: TxnKind, **kw: Any) -> Request:
        self.stan += 1
        return Request(
            kind,
            stan=f"{self.stan:06d}",
            local_time=NOW,
            terminal_id="TERM0001",
            merchant_id="MERCHANT0000001",
            **kw,
        )

    def pack(self, req: Request, *, drop: tuple[int, ...] = (), **changes: Any) -> bytes:
        msg = self.profile.request_to_message(req)
        for n in drop:
            msg.fields.pop(n, None)
        for name, value in changes.items():
            msg.fields[int(name.lstrip("f"))] = value
        if self.keys is not None and (req.kind.financial or req.kind is TxnKind.REVERSAL):
            msg = apply_mac(msg, self.spec, self.keys.mac_key)
        return self.spec.codec.pack(msg)

    def answer(self, req: Request, **edits: Any) -> tuple[str, str]:
        result = self.engine.handle(self.pack(req, **edits), now=NOW)
        assert result.reply is not None, result.summary
        reply = self.spec.codec.unpack(result.reply)
        code = self.profile.response_from_message(reply, req.kind).response_code
        return code, result.summary

    def sale(self, **kw: Any) -> Request:
        return self.req(TxnKind.SALE, amount=1000, track2=TRACK2, entry_mode="902", **kw)


@pytest.fixture
def t() -> _Terminal:
    return _Terminal("iso87ascii")


def test_a_good_sale_is_approved(t: _Terminal) -> None:
    assert t.answer(t.sale())[0] == "00"


@pytest.mark.parametrize(
    ("drop", "field"),
    [
        ((11,), "field 11"),
        ((12,), "field 12"),
        ((13,), "field 13"),
        ((12, 13), "field 12"),
        ((3,), "field 3"),
        ((49,), "field 49"),
        ((42,), "field 42"),
        ((22,), "field 22"),
        ((60,), "field 60"),
        ((35,), "field 2/35/55"),
    ],
)
def test_a_sale_without_a_mandatory_field_is_a_format_error(
    t: _Terminal, drop: tuple[int, ...], field: str
) -> None:
    code, summary = t.answer(t.sale(), drop=drop)
    assert code == "30"
    assert f"format error ({field}" in summary


def test_a_missing_terminal_id_is_a_format_error_not_key_exchange(t: _Terminal) -> None:
    code, summary = t.answer(t.sale(), drop=(41,))
    assert code == "30"
    assert "field 41" in summary


@pytest.mark.parametrize(
    ("kind", "pc"),
    [(TxnKind.SALE, "310000"), (TxnKind.SALE, "990000"), (TxnKind.PREAUTH, "000000")],
)
def test_an_unknown_processing_code_is_refused(t: _Terminal, kind: TxnKind, pc: str) -> None:
    req = t.sale() if kind is TxnKind.SALE else t.req(kind, amount=1000, track2=TRACK2)
    code, summary = t.answer(req, f3=pc)
    assert code == "30"
    assert "field 3" in summary
    assert pc in summary


@pytest.mark.parametrize(
    ("field", "value"),
    [(13, "0230"), (13, "1332"), (12, "256000"), (41, "        "), (60, "1")],
)
def test_malformed_values_are_format_errors(t: _Terminal, field: int, value: str) -> None:
    code, summary = t.answer(t.sale(), **{f"f{field}": value})
    assert code == "30", summary
    assert f"field {field}" in summary or (field in (12, 13) and "field 1" in summary)


def test_a_void_needs_a_reference(t: _Terminal) -> None:
    void = t.req(TxnKind.VOID, amount=1000)
    code, summary = t.answer(void)
    assert code == "30"
    assert "90/37" in summary


def test_settlement_needs_its_totals(t: _Terminal) -> None:
    settle = t.req(TxnKind.SETTLEMENT, totals=Totals())
    code, summary = t.answer(settle, drop=(74,))
    assert code == "30"
    assert "field 74" in summary


@pytest.mark.parametrize("spec", ["iso87binary", "iso93ascii", "cup"])
def test_every_dialect_checks_its_own_layout(spec: str) -> None:
    t = _Terminal(spec)
    assert t.answer(t.sale())[0] == "00"
    code, summary = t.answer(t.sale(), drop=(11,))
    assert code == "30"
    assert "field 11" in summary
    orig = Original(TxnKind.SALE, stan="000002", local_time=NOW)
    reversal = t.req(TxnKind.REVERSAL, amount=1000, original=orig)
    assert t.answer(reversal)[0] == "00"


@pytest.mark.parametrize(
    ("edits", "field"),
    [
        ({"f2": "4761739001010010", "f35": get_card("visa-blocked").track2_data().for_iso8583()},
         "field 35"),
        ({"f2": "4761739001010010", "f55": {"5A": "4000000000009979"}}, "field 55"),
    ],
)  # fmt: skip
def test_a_pan_that_differs_between_card_fields_is_a_format_error(
    t: _Terminal, edits: dict[str, Any], field: str
) -> None:
    """A stolen card's track must not ride behind another card's field 2 (a terminal bug)."""
    code, summary = t.answer(t.sale(), **edits)
    assert code == "30", summary
    assert f"format error ({field}" in summary
    assert "4000000000009979" not in summary
