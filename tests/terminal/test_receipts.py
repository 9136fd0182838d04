"""Receipts: model validation, journal round trip, text layout and ESC/POS bytes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import fields, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal.core.errors import TerminalError
from terminal.core.receipts import (
    DEFAULT_PROFILE,
    SUPPORTED_WIDTHS,
    Copy,
    Currency,
    EntryMode,
    OriginalReference,
    QrDetails,
    Receipt,
    ReceiptError,
    ReceiptKind,
    ReceiptResult,
    display_width,
    render_escpos,
    render_text,
)
from terminal.core.receipts.escpos import PROFILE_COLUMNS

FULL_PAN = "6222021234561234"
MASKED_PAN = "622202******1234"
SOLD_AT = datetime(2026, 11, 23, 9, 41, 7)
REPRINTED_AT = datetime(2026, 11, 23, 10, 0, 0)
CNY = Currency.lookup("CNY")

# ESC/POS commands the renderer emits, stripped to measure the printed text.
_ESCPOS_COMMAND = re.compile(rb"\x1b[aEMtd!].|\x1b@|\x1dV.|\x1d[LW]..", re.DOTALL)
_QR_OR_IMAGE = re.compile(rb"\x1d\(k(..)|\x1dv0.(..)(..)", re.DOTALL)


def _strip_graphics(data: bytes) -> bytes:
    """Remove QR (GS ( k pL pH ...) and raster image (GS v 0 m xL xH yL yH ...) blocks."""
    out, pos = bytearray(), 0
    while (match := _QR_OR_IMAGE.search(data, pos)) is not None:
        out += data[pos : match.start()]
        if match.group(1) is not None:
            pos = match.end() + int.from_bytes(match.group(1), "little")
        else:
            x, y = (int.from_bytes(match.group(i), "little") for i in (2, 3))
            pos = match.end() + x * y
    return bytes(out + data[pos:])


def sale(**changes: object) -> Receipt:
    base = Receipt(
        merchant_name="GREEN LEAF TEA HOUSE",
        merchant_address=("88 NANJING RD (W)", "SHANGHAI"),
        merchant_id="898310058120001",
        terminal_id="10062345",
        kind=ReceiptKind.SALE,
        timestamp=SOLD_AT,
        masked_pan=MASKED_PAN,
        card_brand="UNIONPAY",
        entry_mode=EntryMode.CHIP,
        amount_minor=1234,
        currency=CNY,
        auth_code="A1B2C3",
        rrn="332709000123",
        stan="000123",
        batch_no="000001",
        invoice_no="000123",
        result=ReceiptResult.approve(),
        copy=Copy.MERCHANT,
        footer=("THANK YOU", "PLEASE COME AGAIN"),
    )
    return replace(base, **changes)


def qr_sale(**changes: object) -> Receipt:
    return sale(
        kind=ReceiptKind.QR_SALE,
        masked_pan=None,
        card_brand=None,
        auth_code=None,
        entry_mode=EntryMode.QR,
        qr=QrDetails(wallet="ALIPAY", order_ref="2026112322001498761234567890"),
        **changes,
    )


GOLDEN_SALE_32 = """\
      GREEN LEAF TEA HOUSE
       88 NANJING RD (W)
            SHANGHAI
--------------------------------
         MERCHANT COPY
MID              898310058120001
TID                     10062345
--------------------------------
              SALE
CARD NO         622202******1234
CARD TYPE               UNIONPAY
ENTRY                       CHIP
DATE/TIME    2026-11-23 09:41:07
BATCH NO                  000001
TRACE NO                  000123
INVOICE NO                000123
AUTH CODE                 A1B2C3
REF NO              332709000123
--------------------------------
AMOUNT                 CNY 12.34
--------------------------------
            APPROVED


X_______________________________
   I AGREE TO PAY ABOVE TOTAL
AMOUNT ACCORDING TO CARD ISSUER
           AGREEMENT

           THANK YOU
       PLEASE COME AGAIN
"""


# --- text rendering -----------------------------------------------------------------------


def test_golden_sale_receipt_32_columns():
    assert render_text(sale()) == GOLDEN_SALE_32


@pytest.mark.parametrize("width", SUPPORTED_WIDTHS)
def test_rules_span_the_width(width):
    lines = render_text(sale(), width).splitlines()
    assert "-" * width in lines
    assert lines[lines.index("-" * width) + 2] == "MID" + " " * (width - 18) + "898310058120001"


@pytest.mark.parametrize("width", [0, 31, 40, 80])
def test_unsupported_width_is_an_error(width):
    with pytest.raises(ReceiptError) as info:
        render_text(sale(), width)
    assert info.value.field == "width"
    assert isinstance(info.value, TerminalError)


def test_declined_shows_code_and_text_and_no_signature():
    text = render_text(
        sale(auth_code=None, result=ReceiptResult.decline("51", "INSUFFICIENT FUNDS"))
    )
    assert "DECLINED" in text
    assert "APPROVED" not in text
    assert "RESP CODE                     51" in text
    assert "INSUFFICIENT FUNDS" in text
    assert "X____" not in text
    assert "AUTH CODE" not in text


def test_customer_copy_has_no_signature_line():
    text = render_text(sale(copy=Copy.CUSTOMER))
    assert "CUSTOMER COPY" in text
    assert "MERCHANT COPY" not in text
    assert "X____" not in text
    assert "I AGREE" not in text


def test_pin_replaces_signature():
    text = render_text(sale(pin_verified=True))
    assert "PIN VERIFIED" in text
    assert "X____" not in text


def test_duplicate_is_marked_top_and_bottom_and_keeps_original_data():
    original = sale()
    reprint = original.as_duplicate(REPRINTED_AT)
    lines = render_text(reprint).splitlines()
    assert lines[0].strip() == "*** DUPLICATE ***"
    assert lines[1].strip() == "REPRINT 2026-11-23 10:00:00"
    assert lines[-1].strip() == "*** DUPLICATE ***"
    body = "\n".join(lines)
    assert "DATE/TIME    2026-11-23 09:41:07" in body
    for reference in ("A1B2C3", "332709000123", "000123", "000001"):
        assert reference in body
    # Everything between the marks is the original slip.
    assert render_text(original) in render_text(reprint)
    assert (reprint.stan, reprint.rrn, reprint.timestamp) == (
        original.stan,
        original.rrn,
        original.timestamp,
    )
    assert not original.duplicate


def test_void_shows_negative_amount_and_original_references():
    void = sale(
        kind=ReceiptKind.VOID, original=OriginalReference(stan="000120", rrn="332709000120")
    )
    text = render_text(void)
    assert "              VOID\n" in text
    assert "AMOUNT                CNY -12.34" in text
    assert "ORIG TRACE                000120" in text
    assert "ORIG REF NO         332709000120" in text
    assert "X____" not in text


def test_refund():
    refund = sale(kind=ReceiptKind.REFUND, original=OriginalReference(rrn="332709000120"))
    text = render_text(refund, 42)
    assert "REFUND" in text
    assert "CNY -12.34" in text
    assert "ORIG REF NO" in text
    assert "ORIG TRACE" not in text


def test_qr_sale_lines():
    text = render_text(qr_sale())
    assert "QR SALE" in text
    assert "WALLET                    ALIPAY" in text
    # The 28-character order reference does not fit beside its label: it goes below.
    assert "ORDER NO\n    2026112322001498761234567890\n" in text
    assert "ENTRY                         QR" in text
    assert "CARD NO" not in text
    assert "X____" not in text


def test_tip_prints_base_tip_and_total():
    text = render_text(sale(tip_minor=200))
    assert "BASE                   CNY 12.34" in text
    assert "TIP                     CNY 2.00" in text
    assert "TOTAL                  CNY 14.34" in text


def test_long_cjk_merchant_name_wraps_by_display_width():
    text = render_text(sale(merchant_name="上海市静安区绿叶茶馆有限公司南京西路旗舰店"), 32)
    first, second = text.splitlines()[:2]
    assert display_width(first) <= 32
    assert first.strip() == "上海市静安区绿叶茶馆有限公司南京"  # 16 wide chars = 32 columns
    assert second.strip() == "西路旗舰店"


@pytest.mark.parametrize(
    ("currency", "minor", "shown"),
    [
        (Currency.lookup("CNY"), 1234, "CNY 12.34"),
        (Currency.lookup(840), 5, "USD 0.05"),
        (Currency.lookup("978"), 100000, "EUR 1000.00"),
        (Currency.lookup("JPY"), 1500, "JPY 1500"),
        (Currency("048", "BHD", 3), 1234, "BHD 1.234"),
        (Currency.lookup("USD"), 0, "USD 0.00"),
    ],
)
def test_amount_formatting(currency, minor, shown):
    assert currency.format(minor) == shown


def test_zero_is_never_negative():
    assert CNY.format(0, negative=True) == "CNY 0.00"
    assert CNY.format(1, negative=True) == "CNY -0.01"


# --- card data safety ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "pan",
    [FULL_PAN, "622202123456*234", "6222 0212 3456 1234", "4111111111", "622202-***-1234"],
)
def test_full_or_malformed_pan_is_rejected_without_echoing_it(pan):
    with pytest.raises(ReceiptError) as info:
        sale(masked_pan=pan)
    assert info.value.field == "masked_pan"
    assert pan not in str(info.value)


@pytest.mark.parametrize(
    "pan", ["622202******1234", "****1234", "6222 02** **** 1234", "4111XXXXXX1111"]
)
def test_masked_pans_are_accepted(pan):
    assert sale(masked_pan=pan).masked_pan == pan


def test_no_expiry_anywhere():
    assert not [f.name for f in fields(Receipt) if "exp" in f.name.lower()]
    stored = sale().to_dict()
    assert not [key for key in stored if "exp" in key.lower()]
    for text in (render_text(sale()), render_escpos(sale()).decode("cp437")):
        assert "EXP" not in text.upper()
        assert not re.search(r"\b\d{2}/\d{2}\b", text)  # no MM/YY
    with pytest.raises(ReceiptError):
        Receipt.from_dict({**stored, "expiry": "2812"})


def test_full_pan_never_printed():
    for receipt in (sale(), sale().as_duplicate(REPRINTED_AT), sale(copy=Copy.CUSTOMER)):
        text = render_text(receipt, 48)
        data = render_escpos(receipt)
        assert FULL_PAN not in text
        assert FULL_PAN.encode() not in data
        card_line = next(line for line in text.splitlines() if line.startswith("CARD NO"))
        assert sum(c.isdigit() for c in card_line) <= 10


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_minor": -1}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"amount_minor": 10**12}, "amount_minor"),
        ({"merchant_name": "TEA\nHOUSE"}, "merchant_name"),
        ({"merchant_name": "  "}, "merchant_name"),
        ({"terminal_id": "123456789"}, "terminal_id"),
        ({"stan": "12345a"}, "stan"),
        ({"rrn": "1234567890123"}, "rrn"),
        ({"duplicate": True}, "reprinted_at"),
        ({"reprinted_at": REPRINTED_AT}, "reprinted_at"),
        ({"original": OriginalReference(stan="000001")}, "original"),
        ({"qr": QrDetails(wallet="ALIPAY")}, "qr"),
        ({"kind": ReceiptKind.REFUND, "tip_minor": 100}, "tip_minor"),
        ({"kind": ReceiptKind.QR_SALE}, "entry_mode"),
        ({"merchant_address": "ONE LINE"}, "merchant_address"),
    ],
)
def test_invalid_values_raise_receipt_error(changes, field):
    with pytest.raises(ReceiptError) as info:
        sale(**changes)
    assert info.value.field == field


def test_reprint_cannot_precede_the_sale():
    with pytest.raises(ReceiptError):
        sale().as_duplicate(SOLD_AT - timedelta(seconds=1))


def test_declined_needs_a_proper_response_code():
    with pytest.raises(ReceiptError):
        ReceiptResult.decline("5")
    with pytest.raises(ReceiptError):
        Currency.lookup("XXX")


def test_address_list_becomes_a_tuple():
    receipt = sale(merchant_address=["A", "B"])
    assert receipt.merchant_address == ("A", "B")
    hash(receipt)


# --- journal round trip -------------------------------------------------------------------


VARIANTS = {
    "sale": sale(),
    "declined": sale(auth_code=None, result=ReceiptResult.decline("05", "DO NOT HONOUR")),
    "duplicate": sale(copy=Copy.CUSTOMER).as_duplicate(REPRINTED_AT),
    "void": sale(kind=ReceiptKind.VOID, original=OriginalReference(stan="000120")),
    "qr": qr_sale(tip_minor=50),
    "balance": sale(kind=ReceiptKind.BALANCE, amount_minor=987654, auth_code=None),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_round_trip_through_json(name):
    receipt = VARIANTS[name]
    stored = json.loads(json.dumps(receipt.to_dict()))
    assert Receipt.from_dict(stored) == receipt


def test_stored_keys_are_stable():
    assert sorted(sale().to_dict()) == sorted(
        [
            *("schema", "kind", "copy", "duplicate", "reprinted_at", "merchant_name"),
            *("merchant_address", "merchant_id", "terminal_id", "timestamp", "masked_pan"),
            *("card_brand", "entry_mode", "amount_minor", "tip_minor", "currency", "auth_code"),
            *("rrn", "stan", "batch_no", "invoice_no", "result", "pin_verified", "original"),
            *("qr", "footer"),
        ]
    )
    assert sale().to_dict()["currency"] == {"numeric": "156", "alpha": "CNY", "exponent": 2}


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("amount_minor"),
        lambda d: d.update(schema=2),
        lambda d: d.update(kind="TELEPORT"),
        lambda d: d.update(timestamp="yesterday"),
        lambda d: d.update(masked_pan=FULL_PAN),
        lambda d: d.update(currency={"numeric": "156"}),
    ],
)
def test_damaged_journal_entry_raises_receipt_error(damage):
    stored = sale().to_dict()
    damage(stored)
    with pytest.raises(ReceiptError):
        Receipt.from_dict(stored)


# --- properties over random receipts ------------------------------------------------------

_PRINTABLE = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | st.characters(
    min_codepoint=0xFF01, max_codepoint=0xFF5E
)
_texts = st.text(_PRINTABLE | _CJK, min_size=1, max_size=70).filter(str.strip)
_mids = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=15).filter(
    str.strip
)
_ascii_ids = st.text(st.characters(min_codepoint=0x30, max_codepoint=0x39), min_size=1, max_size=6)


@st.composite
def receipts(draw: st.DrawFn) -> Receipt:
    kind = draw(st.sampled_from(ReceiptKind))
    card = not kind.is_qr
    timestamp = draw(st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1)))
    approved = draw(st.booleans())
    duplicate = draw(st.booleans())
    return Receipt(
        merchant_name=draw(_texts),
        merchant_address=tuple(draw(st.lists(_texts, max_size=3))),
        merchant_id=draw(_mids),
        terminal_id=draw(_ascii_ids),
        kind=kind,
        timestamp=timestamp,
        masked_pan=draw(st.sampled_from(["622202******1234", "****1234", None])) if card else None,
        card_brand=draw(st.none() | _texts) if card else None,
        entry_mode=draw(st.sampled_from([m for m in EntryMode if m is not EntryMode.QR]))
        if card
        else EntryMode.QR,
        amount_minor=draw(st.integers(0, 10**11)),
        tip_minor=draw(st.none() | st.integers(0, 10**11)) if kind.takes_tip else None,
        currency=draw(st.sampled_from([Currency.lookup(c) for c in ("CNY", "USD", "EUR", "JPY")])),
        auth_code=draw(st.none() | _ascii_ids),
        rrn=draw(st.none() | st.just("332709000123")),
        stan=draw(st.none() | _ascii_ids),
        batch_no=draw(st.none() | _ascii_ids),
        invoice_no=draw(st.none() | _ascii_ids),
        result=ReceiptResult.approve()
        if approved
        else ReceiptResult.decline("51", draw(st.text(_PRINTABLE | _CJK, max_size=60))),
        copy=draw(st.sampled_from(Copy)),
        pin_verified=card and draw(st.booleans()),
        original=OriginalReference(stan=draw(_ascii_ids)) if kind.refers_to_original else None,
        qr=None if card else QrDetails(wallet=draw(_texts), order_ref=draw(st.none() | _texts)),
        footer=tuple(draw(st.lists(_texts, max_size=2))),
        duplicate=duplicate,
        reprinted_at=timestamp + timedelta(hours=draw(st.integers(0, 1000))) if duplicate else None,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(receipt=receipts(), width=st.sampled_from(SUPPORTED_WIDTHS))
def test_text_lines_never_exceed_width(receipt, width):
    text = render_text(receipt, width)
    assert text.endswith("\n")
    for line in text.splitlines():
        assert display_width(line) <= width, line
    assert receipt.currency.alpha in text


@settings(max_examples=100, deadline=None)
@given(receipt=receipts())
def test_journal_round_trip_property(receipt):
    assert Receipt.from_dict(json.loads(json.dumps(receipt.to_dict()))) == receipt


@settings(max_examples=40, deadline=None)
@given(receipt=receipts(), columns=st.sampled_from([32, 42]))
def test_escpos_lines_fit_the_columns(receipt, columns):
    data = render_escpos(receipt, columns=columns)
    for segment in _ESCPOS_COMMAND.sub(b"", _strip_graphics(data)).split(b"\n"):
        assert len(segment) <= columns  # one byte per column in CP437


# --- ESC/POS ------------------------------------------------------------------------------


def test_escpos_narrow_slip_prints_in_a_centred_area_of_its_width():
    """A 32-column slip on a 42-column printer: GS L/GS W make the print area 32 columns
    (384 of 512 dots, 64 dots in), so centred lines centre on the slip, not on the paper."""
    narrow = render_escpos(sale(), columns=32)
    assert narrow.index(b"\x1dL\x40\x00\x1dW\x80\x01") < narrow.index(b"\x1ba\x01")
    assert b"\x1dW" not in render_escpos(sale(), columns=42)  # the paper's own width


def test_escpos_frame_init_and_partial_cut():
    data = render_escpos(sale())
    assert data.startswith(b"\x1b@")  # ESC @ initialise
    assert data.endswith(b"\x1dV\x01")  # GS V 1 partial cut
    assert b"\x1bt\x00" in data  # code page 0 (CP437) selected explicitly


def test_escpos_content_and_emphasis():
    data = render_escpos(sale())
    assert MASKED_PAN.encode() in data
    assert b"\x1bE\x01AMOUNT" in data
    assert b"CNY 12.34" in data
    assert b"\x1bE\x01APPROVED" in data
    # Centred header in double size (ESC ! 0x30), emphasis off (ESC ! clears it).
    assert re.search(rb"\x1ba\x01(\x1b!.)*\x1b!0(\x1bE\x00)?GREEN LEAF TEA HOUSE", data)
    # The result in double height and width, emphasised.
    assert re.search(rb"\x1b!0\x1bE\x01APPROVED\n", data)
    assert b"-" * PROFILE_COLUMNS + b"\n" in data
    assert b"-" * (PROFILE_COLUMNS + 1) not in data


def test_escpos_code_page_for_the_merchant_name():
    assert render_escpos(sale(merchant_name="Café Müller")).startswith(b"\x1b@\x1bt\x00")
    polish = render_escpos(sale(merchant_name="Łódź Café"))
    assert polish.startswith(b"\x1b@\x1bt\x12")  # CP852 (ESC t 18)
    assert "Łódź Café".encode("cp852") in polish
    russian = render_escpos(sale(merchant_name="Кафе Пушкин"))
    assert russian.startswith(b"\x1b@\x1bt\x11")  # CP866 (ESC t 17)
    chinese = render_escpos(sale(merchant_name="绿叶茶馆"))
    assert chinese.startswith(b"\x1b@\x1bt\x00")  # no code page has it: "?"
    assert b"????" in chinese


def test_escpos_qr_order_reference_native_or_raster():
    native = render_escpos(qr_sale())
    assert b"\x1d(k" in native  # GS ( k: the printer draws the QR code itself
    raster = render_escpos(qr_sale(), profile="ZJ-5870")  # a 58 mm printer without QR
    assert b"\x1d(k" not in raster
    assert b"\x1dv0" in raster  # GS v 0: a raster image of the code


def test_escpos_is_deterministic():
    assert render_escpos(sale()) == render_escpos(sale())
    assert render_escpos(qr_sale(), columns=32) == render_escpos(qr_sale(), columns=32)


def test_escpos_columns_choice():
    narrow = render_escpos(sale(), columns=32)
    assert b"-" * 32 + b"\n" in narrow
    assert b"-" * 33 not in narrow
    wide = render_escpos(sale(), profile="TM-T20II")
    assert b"-" * 48 + b"\n" in wide
    with pytest.raises(ReceiptError) as info:
        render_escpos(sale(), columns=48)  # the pinned profile has 42 columns
    assert info.value.field == "columns"
    with pytest.raises(ReceiptError) as info:
        render_escpos(sale(), profile="NO-SUCH-PRINTER")
    assert info.value.field == "profile"


def test_escpos_replaces_what_cp437_cannot_print():
    data = render_escpos(sale(merchant_name="绿叶茶馆 Café"))
    assert b"???? Caf\x82" in data  # é is in CP437; CJK is not
    assert "绿叶".encode("gb18030") not in data


def test_pinned_profile_matches_python_escpos():
    from escpos.capabilities import get_profile

    profile = get_profile(DEFAULT_PROFILE)
    assert profile.get_columns("a") == PROFILE_COLUMNS
    assert profile.supports("paperPartCut")


def test_escpos_prints_nothing(capfd):
    render_escpos(sale())
    render_escpos(qr_sale(merchant_name="绿叶茶馆"), columns=32)
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def test_first_use_leaves_logging_and_stdout_alone():
    script = (
        "import logging, sys\n"
        "from datetime import datetime\n"
        "from tests.terminal.test_receipts import sale\n"
        "from terminal.core.receipts import render_escpos\n"
        "assert 'escpos' not in sys.modules, 'escpos must load lazily'\n"
        "render_escpos(sale())\n"
        "assert not logging.getLogger().handlers, logging.getLogger().handlers\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
