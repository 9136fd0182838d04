"""Issue 9: payment codes (and the PAN and name inside a CPM payload) are masked everywhere.

Every field of every built-in dialect that can carry a payment code is filled with one and
shown the ways a tester sees a message: ``posemu iso8583 decode`` text and JSON (masked by
default), and the host's debug log.
"""

from __future__ import annotations

import base64
import logging

import pytest

from iso8583 import Message, get_spec, spec_names
from iso8583.acquirer import TxnKind
from iso8583.describe import describe, masked_value
from iso8583.errors import Iso8583Error
from iso8583.host import EmbeddedHost
from iso8583.jsonio import json_table
from iso8583.masking import mask_payment_code, scrub_sensitive
from tests.host.client import HostClient

PAN = "4761739001010119"
NAME = b"DOE/JOHN"


def _tlv(tag: str, value: bytes) -> bytes:
    return bytes.fromhex(tag) + bytes([len(value)]) + value


CPM = base64.b64encode(
    _tlv("85", b"CPV01")
    + _tlv(
        "61",
        _tlv("4F", bytes.fromhex("A0000000031010"))
        + _tlv("5A", bytes.fromhex(PAN))
        + _tlv("5F20", NAME),
    )
).decode()
WALLET = "283456789012345678"  # Alipay-style numeric code
SECRETS = (CPM, WALLET, PAN, NAME.decode(), WALLET[:14])


def _clean(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


def test_the_helpers() -> None:
    assert mask_payment_code(CPM) == f"[CPM payment code, {len(CPM)} chars hidden]"
    assert mask_payment_code(WALLET) == "*" * 14 + "5678"
    assert _clean(scrub_sensitive(f"CPM:{CPM} and CPM:{WALLET} and {WALLET}"))
    assert scrub_sensitive("MPM:ORDER-0001 amount 000000001000") == (
        "MPM:ORDER-0001 amount 000000001000"
    )


def _carriers(spec_name: str) -> list[tuple[int, object]]:
    """(field, value) for every field that can hold a payment code in this dialect."""
    spec = get_spec(spec_name)
    out = []
    for number, fs in sorted(spec.fields.items()):
        if number in (1, 65) or fs.composite is not None:
            continue
        for value in (f"CPM:{CPM}", CPM, f"CPM:{WALLET}", WALLET, CPM.encode(), WALLET.encode()):
            try:
                spec.codec.encode_field(number, value)
            except (Iso8583Error, TypeError, ValueError):
                continue
            out.append((number, value))
    return out


@pytest.mark.parametrize("spec_name", spec_names())
def test_every_field_that_can_carry_a_code_is_masked(spec_name: str) -> None:
    spec = get_spec(spec_name)
    carriers = _carriers(spec_name)
    assert len({n for n, _ in carriers}) >= 10, "too few fields tried: the test lost its teeth"
    for number, value in carriers:
        msg = Message("0200", {number: value})
        text = describe(spec.codec.unpack(spec.codec.pack(msg)), spec)
        assert _clean(text), f"{spec_name} field {number}: {text}"
        shown = masked_value(spec.fields[number], value)
        assert _clean(str(shown)), f"{spec_name} field {number}: {shown}"
        as_json = json_table(spec, reveal=False).to_json(msg)  # posemu iso8583 decode --json
        assert _clean(str(as_json)), f"{spec_name} field {number}: {as_json}"
        shown_hex = str(json_table(spec, reveal=False).to_json(msg))
        assert CPM.encode().hex().upper() not in shown_hex


def test_the_host_debug_log_masks_a_cpm_payment(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="posemu.host")
    with EmbeddedHost("iso87ascii") as host, HostClient(host.address, host.spec) as client:
        client.signon()
        for code in (CPM, WALLET):
            resp = client.exchange(client.request(TxnKind.QR_PAY, amount=1200, qr=code))
            assert resp.response_code == "00"
    assert "request" in caplog.text
    assert "CPM:" in caplog.text
    assert _clean(caplog.text), caplog.text


def test_decode_cli_masks_field_59(tmp_path) -> None:
    from tests.engine.clirun import posemu

    spec = get_spec("iso87ascii")
    raw = spec.codec.pack(Message("0200", {3: "000000", 11: "000001", 59: f"CPM:{CPM}"}))
    for extra in ((), ("--json",)):
        run = posemu("iso8583", "decode", "--spec", "iso87ascii", *extra, raw.hex())
        assert run.code == 0, run.err
        assert _clean(run.out + run.err), run.out
