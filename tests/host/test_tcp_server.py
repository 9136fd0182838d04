"""The TCP server: many terminals, pipelining, broken frames, shutdown."""

from __future__ import annotations

import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from iso8583 import Message
from iso8583.acquirer import TxnKind
from iso8583.host import EmbeddedHost, HostError
from terminal.core.testcards import get_card
from tests.host.client import HostClient


def test_fifty_terminals_at_once(host: EmbeddedHost):
    def terminal(n: int) -> list[str]:
        with HostClient(host.address, host.spec, tid=f"T{n:07d}") as c:
            c.signon()
            return [c.sale(1000 + 100 * i)[1].response_code for i in range(3)]

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(terminal, range(50)))
    assert results == [["00", "00", "00"]] * 50
    entries = host.ledger.entries()
    assert len(entries) == 150
    assert len({e.rrn for e in entries}) == 150
    assert {e.tid for e in entries} == {f"T{n:07d}" for n in range(50)}


def test_pipelined_requests_are_answered_in_order(client: HostClient):
    reqs = [
        client.request(TxnKind.SALE, amount=amount, **client.card_fields("visa-approve"))
        for amount in (1000, 1068, 1051, 1000, 1005)  # a late answer holds back the rest
    ]
    data = b"".join(client.frame(client.spec.codec.pack(client.build(r))) for r in reqs)
    client.send_raw(data)
    stans = []
    codes = []
    for _ in reqs:
        msg = client.recv_message(timeout=3)
        stans.append(msg.fields[11])
        codes.append(msg.fields[39])
    assert stans == [r.stan for r in reqs]
    assert codes == ["00", "00", "51", "00", "05"]


def test_a_frame_split_into_single_bytes(client: HostClient):
    req = client.request(TxnKind.SALE, amount=1000, **client.card_fields("visa-approve"))
    data = client.frame(client.spec.codec.pack(client.build(req)))
    for i in range(len(data)):
        client.send_raw(data[i : i + 1])
    assert client.recv_message(timeout=3).fields[39] == "00"


def test_a_silent_request_does_not_block_other_terminals(client: HostClient, host: EmbeddedHost):
    client.send(client.request(TxnKind.SALE, amount=1099, **client.card_fields("visa-approve")))
    with HostClient(host.address, host.spec, tid="TERM0777") as other:
        other.signon()
        assert other.sale(1000)[1].response_code == "00"


def test_oversized_length_header_closes_only_that_connection(
    host: EmbeddedHost, client: HostClient
):
    with HostClient(host.address, host.spec) as bad:
        bad.send_raw(b"\xff\xff" + b"x" * 16)
        assert bad.closed_by_host()
    assert client.sale(1000)[1].response_code == "00"


def test_non_iso_payload_closes_the_connection(host: EmbeddedHost, client: HostClient):
    with HostClient(host.address, host.spec) as bad:
        bad.send_raw(bad.frame(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        assert bad.closed_by_host()
    assert client.sale(1000)[1].response_code == "00"


def test_broken_body_gets_a_format_error_and_the_link_stays_up(client: HostClient):
    req = client.request(
        TxnKind.SALE, amount=1000, stan="424242", **client.card_fields("visa-approve")
    )
    raw = client.spec.codec.pack(client.build(req))
    client.send_raw(client.frame(raw[:-5]))
    reply = client.recv_message(timeout=3)
    assert (reply.mti, reply.fields[39], reply.fields[11]) == ("0210", "30", "424242")
    assert client.sale(1000)[1].response_code == "00"


def test_a_response_sent_to_the_host_closes_the_connection(host: EmbeddedHost, client: HostClient):
    with HostClient(host.address, host.spec) as bad:
        bad.send_raw(bad.frame(bad.spec.codec.pack(Message("0210", {11: "000001", 39: "00"}))))
        assert bad.closed_by_host()
    assert client.sale(1000)[1].response_code == "00"


def test_a_zero_length_frame_is_malformed_like_any_other(client: HostClient, caplog):
    """Issue 8: no special case; the host closes the link and logs why."""
    client.send_raw(b"\x00\x00")
    assert client.closed_by_host()
    assert "zero-length frame" in caplog.text


def test_peer_vanishing_mid_frame_and_with_a_late_reply_pending(
    host: EmbeddedHost, client: HostClient
):
    with HostClient(host.address, host.spec) as gone:
        gone.send_raw(b"\x00\x40" + b"0200")
    with HostClient(host.address, host.spec) as gone:
        gone.keys = client.keys
        gone.send(gone.request(TxnKind.SALE, amount=1068, **gone.card_fields("visa-approve")))
        time.sleep(0.05)
    time.sleep(0.7)  # the late reply falls due and meets a closed socket
    assert client.sale(1000)[1].response_code == "00"


def test_stop_answers_what_was_received_and_refuses_new_connections():
    with EmbeddedHost("iso87ascii") as h:
        address = h.address
        c = HostClient(h.address, h.spec)
        c.signon()
        req = c.request(TxnKind.SALE, amount=1000, **c.card_fields("visa-approve"))
        late = c.request(TxnKind.SALE, amount=1068, **c.card_fields("visa-approve"))
        c.send(req)
        c.send(late)
        assert c.recv_message(timeout=3).fields[39] == "00"
    # The late reply was not due yet: dropped, and the connection closed at once.
    assert c.closed_by_host(timeout=1.0)
    c.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=1).close()


def test_embedded_host_lifecycle():
    h = EmbeddedHost("iso87binary")
    with pytest.raises(HostError):
        _ = h.address
    address = h.start()
    assert h.start() == address  # idempotent
    assert address[0] == "127.0.0.1"
    assert address[1] > 0
    h.stop()
    h.stop()  # idempotent
    with EmbeddedHost("iso87binary", port=address[1]) as again:  # the port is free again
        assert again.port == address[1]


def test_port_in_use_is_a_host_error(host: EmbeddedHost):
    with pytest.raises(HostError, match="failed to start"):
        EmbeddedHost("iso87ascii", port=host.port).start()


@pytest.mark.parametrize("spec_name", ["cup", "iso93ascii"])
def test_debug_log_is_masked(caplog: pytest.LogCaptureFixture, spec_name: str):
    caplog.set_level(logging.DEBUG, logger="posemu.host")
    card = get_card("debit-pin")
    with EmbeddedHost(spec_name) as h, HostClient(h.address, h.spec) as c:
        signon = c.signon()
        req, resp = c.sale(1000, card, pin="1234")
        assert resp.response_code == "00"
        block = req.pin_block
    text = caplog.text
    assert "520082******8210" in text  # one line per message, masked
    assert card.pan not in text
    assert block.hex().upper() not in text.upper()
    assert signon.keys.pin_key.hex().upper() not in text.upper()
    assert "[working keys hidden]" in text
