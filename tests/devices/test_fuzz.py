"""Parsers of outside data in the device layer, fuzzed: the ESC/POS interpreter of the
printer simulator, scanner lines, status bytes and device URLs."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.devices import DeviceError, PrinterStatus
from terminal.core.receipts import (
    Copy,
    Currency,
    EntryMode,
    Outcome,
    QrDetails,
    Receipt,
    ReceiptKind,
    ReceiptResult,
    render_escpos,
)
from terminal.devices.escpos_status import StatusReplyError, decode_dle_eot, decode_gs_r1
from terminal.devices.serial_link import parse_device_url
from terminal.devices.serial_scanner import ScanLines
from terminal.devices.sim.escpos_text import EscPosInterpreter


def interpreter(replies: list[bytes]) -> EscPosInterpreter:
    return EscPosInterpreter(
        reply=replies.append, status=lambda n: 0x12, gs_r=lambda n: 0x00 if n == 1 else None
    )


def feed_split(data: bytes, cuts: list[int]) -> tuple[list, list[bytes]]:
    replies: list[bytes] = []
    sim = interpreter(replies)
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    done = []
    for a, b in itertools.pairwise(points):
        done += sim.feed(data[a:b])
    return done, replies


RECEIPT = Receipt(
    merchant_name="Łódź Café",
    merchant_id="POSEMU000000001",
    terminal_id="POSEMU01",
    kind=ReceiptKind.QR_SALE,
    timestamp=datetime(2026, 12, 6, 22, 0),
    amount_minor=1234,
    currency=Currency.lookup("978"),
    result=ReceiptResult(Outcome.APPROVED, "00"),
    copy=Copy.MERCHANT,
    entry_mode=EntryMode.QR,
    qr=QrDetails(wallet="ALIPAY", order_ref="2026112322001498761234567890"),
)


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(0, 5000), max_size=30))
def test_a_receipt_split_anywhere_prints_the_same(cuts) -> None:
    data = render_escpos(RECEIPT) + b"\x10\x04\x01" + render_escpos(RECEIPT)
    whole, replies = feed_split(data, [])
    split, split_replies = feed_split(data, cuts)
    assert [r.text for r in split] == [r.text for r in whole]
    assert [r.raw for r in split] == [r.raw for r in whole]
    assert split_replies == replies == [b"\x12"]
    assert whole[0].raw.startswith(b"\x1b@")
    assert "Łódź Café" in whole[0].text  # CP852 chosen and decoded
    assert "[QR 2026112322001498761234567890]" in whole[0].text


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=10))
def test_interpreter_never_raises(data, cuts) -> None:
    done, _ = feed_split(data, cuts)
    assert all(r.lines is not None for r in done)


@settings(max_examples=200, deadline=None)
@given(
    codes=st.lists(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                           max_size=40), max_size=5),
    end=st.sampled_from([b"\r", b"\n", b"\r\n"]),
    cuts=st.lists(st.integers(0, 300), max_size=10),
)  # fmt: skip
def test_scan_lines_split_anywhere(codes, end, cuts) -> None:
    data = b"".join(b"\x00" + c.encode() + end for c in codes)
    lines = ScanLines()
    out: list[str] = []
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for a, b in itertools.pairwise(points):
        out += lines.feed(data[a:b])
    assert out == codes


@given(st.integers(0, 255), st.integers(1, 4))
def test_status_bytes_are_decoded_or_rejected(byte, n) -> None:
    try:
        status = decode_dle_eot(n, byte, PrinterStatus())
    except StatusReplyError:
        assert byte & 0b1001_0011 != 0b0001_0010
    else:
        assert isinstance(status, PrinterStatus)
    try:
        decode_gs_r1(byte, PrinterStatus())
    except StatusReplyError:
        assert byte & 0x90


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_device_urls_parse_or_fail_cleanly(text) -> None:
    failed: list[DeviceError] = []
    try:
        url = parse_device_url(text, device="--reader")
    except DeviceError as exc:
        failed.append(exc)
    else:
        assert url.url == text.strip()
    assert all(exc.device == "--reader" for exc in failed)


def test_bad_url_parameters_name_the_option() -> None:
    with pytest.raises(DeviceError, match="stopbits='3'"):
        parse_device_url("/dev/ttyS0?stopbits=3", device="--printer /dev/ttyS0?stopbits=3")
