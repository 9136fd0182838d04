"""HostLink over real loopback TCP and TLS: framing, reconnects, and error translation."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

import pytest

from iso8583 import get_spec
from iso8583.dialects.cup import CUP_HEADER
from iso8583.framing import FrameFormat, StreamFramer, Tpdu
from terminal.config import TerminalConfig
from terminal.net import (
    ConnectError,
    HostLink,
    InvalidEndpointError,
    LinkClosed,
    LinkProtocolError,
    LinkTimeout,
    TlsSettings,
    link_for,
    parse_endpoint,
)

from .tlsutil import make_pki

FMT = FrameFormat()


class Server:
    """A loopback server whose behaviour per frame is chosen by the test."""

    def __init__(self, mode: str = "echo", fmt: FrameFormat = FMT, ssl_ctx=None) -> None:
        self.mode = mode
        self.fmt = fmt
        self.ssl_ctx = ssl_ctx
        self.frames = []
        self.connections = 0
        self._server = None

    async def __aenter__(self):
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl_ctx)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader, writer):
        self.connections += 1
        framer = StreamFramer(self.fmt)
        try:
            while data := await reader.read(4096):
                for frame in framer.feed(data):
                    self.frames.append(frame)
                    if self.mode in ("echo", "once"):
                        tpdu = frame.tpdu.response() if frame.tpdu else None
                        writer.write(self.fmt.wrap(frame.payload, tpdu=tpdu, header=frame.header))
                    elif self.mode == "garbage":
                        writer.write(b"\xff\xffnot a frame at all")
                    elif self.mode == "close":
                        writer.close()
                        return
                    elif self.mode == "split":  # one byte at a time
                        for b in FMT.wrap(frame.payload):
                            writer.write(bytes([b]))
                            await writer.drain()
                    await writer.drain()
                    if self.mode == "once":  # hosts drop idle links
                        return
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("tcp://127.0.0.1:8583", True),
        ("tls://host.example:443", True),
        ("tcp://[::1]:9000", True),
        ("http://x:1", False),
        ("tcp://x", False),
        ("tcp://x:0", False),
        ("tcp://:80", False),
        ("tcp://x:70000", False),
    ],
)
def test_parse_endpoint(url, ok):
    if ok:
        assert str(parse_endpoint(url)) == url
    else:
        with pytest.raises(InvalidEndpointError):
            parse_endpoint(url)


async def test_exchange_and_reconnect():
    async with Server() as srv:
        link = HostLink(f"tcp://127.0.0.1:{srv.port}", FMT)
        assert await link.exchange(b"hello", 2) == b"hello"
        assert await link.exchange(b"again", 2) == b"again"
        assert srv.connections == 1
        await link.close()
        assert not link.connected
        assert await link.exchange(b"third", 2) == b"third"  # reconnects on demand
        assert srv.connections == 2
        await link.close()


async def test_link_closed_by_host_while_idle_is_reopened():
    async with Server("once") as srv:
        link = HostLink(f"tcp://127.0.0.1:{srv.port}", FMT)
        assert await link.exchange(b"one", 2) == b"one"
        await asyncio.sleep(0.05)  # the host's close arrives while the link is idle
        assert not link.connected
        assert await link.exchange(b"two", 2) == b"two"
        assert srv.connections == 2
        await link.close()


async def test_split_reads_are_reassembled():
    async with Server("split") as srv, HostLink(f"tcp://127.0.0.1:{srv.port}", FMT) as link:
        assert await link.exchange(b"x" * 300, 2) == b"x" * 300


async def test_cup_framing_carries_tpdu_and_header():
    spec = get_spec("cup")
    async with Server(fmt=spec.frame_format) as srv:
        config = TerminalConfig(spec="cup", host=f"tcp://127.0.0.1:{srv.port}")
        link = link_for(config)
        assert await link.exchange(b"\x08\x00payload", 2) == b"\x08\x00payload"
        await link.close()
    frame = srv.frames[0]
    assert frame.tpdu == Tpdu(0x60, 0x0001, 0x0000)
    assert frame.header == CUP_HEADER


async def test_connection_refused_is_connect_error():
    link = HostLink(f"tcp://127.0.0.1:{free_port()}", FMT, connect_timeout=1)
    with pytest.raises(ConnectError) as info:
        await link.exchange(b"x", 1)
    assert not info.value.sent
    assert "refused" in str(info.value)


async def test_silent_host_is_link_timeout_and_connection_dropped():
    async with Server("silent") as srv:
        link = HostLink(f"tcp://127.0.0.1:{srv.port}", FMT)
        with pytest.raises(LinkTimeout) as info:
            await link.exchange(b"x", 0.2)
        assert info.value.sent
        assert not link.connected


async def test_closed_and_garbage():
    async with Server("close") as srv:
        link = HostLink(f"tcp://127.0.0.1:{srv.port}", FMT)
        with pytest.raises(LinkClosed):
            await link.exchange(b"x", 2)
    async with Server("garbage") as srv:
        link = HostLink(f"tcp://127.0.0.1:{srv.port}", FMT)
        with pytest.raises(LinkProtocolError) as info:
            await link.exchange(b"x", 2)
        assert info.value.offset == 0
        assert not link.connected


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def server_context(pki, *, client_auth: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    if client_auth:
        ctx.load_verify_locations(pki.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


async def test_tls_exchange_with_ca_file(pki):
    async with Server(ssl_ctx=server_context(pki)) as srv:
        link = HostLink(f"tls://127.0.0.1:{srv.port}", FMT, tls=TlsSettings(ca_file=str(pki.ca)))
        assert await link.exchange(b"secure", 2) == b"secure"
        await link.close()


async def test_tls_untrusted_server_is_connect_error(pki):
    async with Server(ssl_ctx=server_context(pki)) as srv:
        link = HostLink(f"tls://127.0.0.1:{srv.port}", FMT)  # system trust store only
        with pytest.raises(ConnectError) as info:
            await link.exchange(b"x", 2)
        assert "certificate" in str(info.value)


async def test_tls_hostname_check(pki):
    async with Server(ssl_ctx=server_context(pki)) as srv:
        # The certificate names localhost and 127.0.0.1: "localhost" passes...
        good = HostLink(f"tls://localhost:{srv.port}", FMT, tls=TlsSettings(ca_file=str(pki.ca)))
        assert await good.exchange(b"a", 2) == b"a"
        await good.close()


async def test_mutual_tls(pki):
    async with Server(ssl_ctx=server_context(pki, client_auth=True)) as srv:
        url = f"tls://127.0.0.1:{srv.port}"
        settings = TlsSettings(str(pki.ca), str(pki.client_cert), str(pki.client_key))
        link = HostLink(url, FMT, tls=settings)
        assert await link.exchange(b"mtls", 2) == b"mtls"
        await link.close()
        anonymous = HostLink(url, FMT, tls=TlsSettings(ca_file=str(pki.ca)))
        with pytest.raises((ConnectError, LinkClosed)):
            await anonymous.exchange(b"x", 2)


async def test_missing_tls_files_are_connect_errors(tmp_path):
    link = HostLink("tls://127.0.0.1:1", FMT, tls=TlsSettings(ca_file=str(tmp_path / "none.pem")))
    with pytest.raises(ConnectError) as info:
        await link.connect()
    assert "TLS files" in str(info.value)
