"""Issue 9: a first frame that cannot be a message of the dialect is refused at once."""

from __future__ import annotations

import pytest

from iso8583.dialects import get_spec
from iso8583.host import EmbeddedHost
from iso8583.host.sniff import implausible_start
from tests.host.client import HostClient

TLS_HELLO = bytes.fromhex("160301020001") + bytes(10)


@pytest.mark.parametrize(
    ("spec", "head", "why"),
    [
        ("iso87ascii", TLS_HELLO, "TLS handshake"),
        ("cup", TLS_HELLO, "TLS handshake"),
        ("iso87ascii", b"\x00\x05hello", "shorter than any message"),
        ("iso87ascii", b"\x00\x40GET / HTTP/1.1", "not an MTI"),
        ("iso87binary", b"\x00\x40\x02\x00", None),  # BCD 0200
        ("iso87binary", b"\x00\x40\xab\xcd", "not an MTI"),
        ("iso87ascii", b"\x00\x40" + b"0200", None),
        ("iso87ascii", b"\x00", None),  # not enough bytes to judge yet
    ],
)
def test_implausible_starts(spec: str, head: bytes, why: str | None) -> None:
    reason = implausible_start(get_spec(spec), head)
    if why is None:
        assert reason is None
    else:
        assert reason is not None
        assert why in reason


@pytest.mark.parametrize("data", [TLS_HELLO, b"\x00\x40GET / HTTP/1.1\r\n"])
def test_the_host_closes_at_once_instead_of_waiting_for_the_body(
    data: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with EmbeddedHost("iso87ascii") as host, HostClient(host.address, host.spec) as client:
        client.send_raw(data)
        assert client.closed_by_host(timeout=2.0)
    assert "refused:" in caplog.text
