"""Every built-in dialect end to end: framing, sign-on keys, MAC, response codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iso8583 import spec_names
from iso8583.acquirer import Totals, TxnKind
from iso8583.dialects.cup import CUP_HEADER
from iso8583.framing import Tpdu
from iso8583.host import EmbeddedHost
from tests.host.client import HostClient


@pytest.fixture(params=spec_names())
def dialect_client(request) -> Iterator[HostClient]:
    with EmbeddedHost(request.param) as h, HostClient(h.address, h.spec) as c:
        yield c


def test_signon_sale_and_declines(dialect_client: HostClient):
    c = dialect_client
    signon = c.signon()
    assert signon.keys is not None
    req, resp = c.sale(1000, "visa-approve")
    assert resp.response_code == "00"
    assert resp.stan == req.stan
    assert len(resp.rrn) == 12
    assert c.last_message is not None
    assert 39 in c.last_message.fields
    assert c.sale(1051)[1].response_code == "51"
    assert c.sale(1000, "visa-blocked")[1].response_code == "43"
    assert c.sale(1000, "debit-pin", pin="1234")[1].response_code == "00"
    assert c.sale(1000, "debit-pin", pin="4321")[1].response_code == "55"
    echo = c.exchange(c.request(TxnKind.ECHO))
    assert echo.response_code == "00"


def test_settlement_and_reversal(dialect_client: HostClient):
    c = dialect_client
    c.signon()
    req, resp = c.sale(1234)
    orig = c.original_of(req, resp)
    rev = c.exchange(c.request(TxnKind.REVERSAL, stan=req.stan, amount=1234, original=orig))
    assert rev.response_code == "00"
    c.sale(2000)
    settle = c.exchange(c.request(TxnKind.SETTLEMENT, totals=Totals(1, 2000, 0, 0)))
    assert settle.response_code == "00"


def test_response_codes_in_the_dialects_own_form():
    with EmbeddedHost("iso93ascii") as h, HostClient(h.address, h.spec) as c:
        c.signon()
        assert c.last_message.mti == "1814"
        assert c.last_message.fields[39] == "800"
        c.sale(1000)
        assert c.last_message.mti == "1210"
        assert c.last_message.fields[39] == "000"
        c.sale(1051)
        assert c.last_message.fields[39] == "116"


def test_cup_tpdu_is_swapped_and_header_echoed():
    with EmbeddedHost("cup") as h, HostClient(h.address, h.spec) as c:
        c.tpdu = Tpdu(0x60, destination=0x0003, source=0x0815)
        c.signon()
        frame = c.last_frame
        assert frame.tpdu == Tpdu(0x60, destination=0x0815, source=0x0003)
        assert frame.header == CUP_HEADER
        assert c.sale(1000, "unionpay-debit-pin", pin="1234")[1].response_code == "00"
