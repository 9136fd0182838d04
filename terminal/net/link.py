"""``HostLink``: the terminal's TCP/TLS client to the acquirer host.

The link moves frames and knows nothing of their content: it wraps an ISO 8583 payload in
the dialect's :class:`~iso8583.framing.FrameFormat` and cuts the reply out of the byte
stream with a :class:`~iso8583.framing.StreamFramer`::

    | length header | TPDU (cup) | fixed header (cup: 603100000000) | ISO 8583 message |

It connects on demand (``send`` connects when needed) and drops the connection after any
failure or timeout, so a late answer to one request can never be read as the answer to the
next. Every socket, TLS, framing and timeout exception is translated here into a
:mod:`terminal.net.errors` error; the engine never sees ``OSError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from dataclasses import dataclass
from types import TracebackType

from iso8583 import FramingError, Spec, get_spec
from iso8583.dialects.cup import CUP_HEADER
from iso8583.framing import FrameFormat, StreamFramer, Tpdu
from terminal.config import TerminalConfig
from terminal.core.ports import Link
from terminal.net.errors import (
    ConnectError,
    InvalidEndpointError,
    LinkClosed,
    LinkProtocolError,
    LinkTimeout,
)

__all__ = ["Endpoint", "HostLink", "Link", "TlsSettings", "link_for", "parse_endpoint"]

_READ_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the host listens: ``tcp://HOST:PORT`` or ``tls://HOST:PORT``."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "tls"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_endpoint(url: str) -> Endpoint:
    """Parse a host URL; IPv6 hosts go in brackets (``tcp://[::1]:8583``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("tcp", "tls"):
        raise InvalidEndpointError(f"host URL {url!r} must start with tcp:// or tls://")
    if rest.startswith("["):
        host, bracket, tail = rest[1:].partition("]")
        port_text = tail[1:] if bracket and tail.startswith(":") else ""
    else:
        host, _, port_text = rest.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidEndpointError(f"host URL {url!r} needs HOST:PORT with a port 1-65535")
    return Endpoint(scheme, host, int(port_text))


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Client TLS: trust anchors (None = system store), optional client certificate."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    check_hostname: bool = True

    def context(self) -> ssl.SSLContext:
        """A verifying client context (the server certificate is always checked)."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_file)
        ctx.check_hostname = self.check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


class HostLink:
    """One terminal-to-host connection, opened on demand and reopened after a failure."""

    def __init__(
        self,
        endpoint: Endpoint | str,
        frame_format: FrameFormat,
        *,
        tpdu: Tpdu | None = None,
        header: bytes = b"",
        connect_timeout: float = 3.0,
        tls: TlsSettings | None = None,
    ) -> None:
        self._endpoint = endpoint if isinstance(endpoint, Endpoint) else parse_endpoint(endpoint)
        self.frame_format = frame_format
        self.tpdu = tpdu if frame_format.tpdu else None
        self.header = header
        self.connect_timeout = connect_timeout
        self.tls = tls if tls is not None else (TlsSettings() if self._endpoint.tls else None)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._framer: StreamFramer | None = None
        self._frames: deque[bytes] = deque()

    @property
    def endpoint(self) -> str:
        return str(self._endpoint)

    @property
    def connected(self) -> bool:
        """Open and usable: a connection the host has closed meanwhile (hosts drop idle
        links) does not count, so the next send opens a fresh one instead of failing."""
        if self._writer is None or self._writer.is_closing():
            return False
        reader = self._reader
        return reader is not None and not (reader.at_eof() or reader.exception() is not None)

    async def connect(self) -> None:
        """Open the connection if it is not open; raises :class:`ConnectError`."""
        if self.connected:
            return
        await self.close()
        ep = self._endpoint
        try:
            ctx = self.tls.context() if ep.tls and self.tls is not None else None
        except (OSError, ValueError) as exc:
            raise ConnectError(
                f"cannot load TLS files: {_describe(exc)}", endpoint=self.endpoint
            ) from exc
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as the inner call completes (CPython gh-86296), and a cancel must land.
            async with asyncio.timeout(self.connect_timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    ep.host, ep.port, ssl=ctx, server_hostname=ep.host if ctx else None
                )
        except TimeoutError as exc:
            raise ConnectError(
                f"no connection within {self.connect_timeout:g} s", endpoint=self.endpoint
            ) from exc
        except (OSError, ValueError) as exc:  # ssl.SSLError and CertificateError are OSErrors
            text = (_not_tls(exc) if ctx is not None else None) or _describe(exc)
            raise ConnectError(text, endpoint=self.endpoint) from exc
        self._framer = StreamFramer(self.frame_format)
        self._frames.clear()

    async def send(self, payload: bytes) -> None:
        """Frame and write one message, connecting first if needed."""
        await self.connect()
        try:
            frame = self.frame_format.wrap(payload, tpdu=self.tpdu, header=self.header)
        except FramingError as exc:
            raise LinkProtocolError(f"cannot frame request: {exc}", endpoint=self.endpoint) from exc
        assert self._writer is not None
        try:
            self._writer.write(frame)
            await self._writer.drain()
        except (OSError, RuntimeError) as exc:
            await self.close()
            raise LinkClosed(f"write failed: {_describe(exc)}", endpoint=self.endpoint) from exc

    async def receive(self, timeout: float) -> bytes:
        """The payload of the next frame; the connection is dropped on any failure."""
        try:
            async with asyncio.timeout(timeout):
                return await self._next_frame()
        except TimeoutError as exc:
            await self.close()
            raise LinkTimeout(f"no answer within {timeout:g} s", endpoint=self.endpoint) from exc
        except FramingError as exc:
            await self.close()
            raise LinkProtocolError(
                f"bad frame from host: {exc.reason}", endpoint=self.endpoint, offset=exc.offset
            ) from exc
        except (OSError, EOFError) as exc:
            await self.close()
            raise LinkClosed(_describe(exc), endpoint=self.endpoint) from exc

    async def exchange(self, payload: bytes, timeout: float) -> bytes:
        """Send one message and return the next frame's payload."""
        await self.send(payload)
        return await self.receive(timeout)

    async def _next_frame(self) -> bytes:
        if self._reader is None or self._framer is None:
            raise EOFError("not connected")
        while not self._frames:
            data = await self._reader.read(_READ_SIZE)
            if not data:
                raise EOFError("connection closed by host")
            self._frames.extend(frame.payload for frame in self._framer.feed(data))
        return self._frames.popleft()

    async def close(self) -> None:
        """Close the connection (idempotent, never raises)."""
        writer, self._writer, self._reader, self._framer = self._writer, None, None, None
        self._frames.clear()
        if writer is None:
            return
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def __aenter__(self) -> HostLink:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _not_tls(exc: BaseException) -> str | None:
    """The handshake met a peer that closed or answered in clear: it does not speak TLS."""
    plain = isinstance(exc, ssl.SSLError) and exc.reason in (
        "WRONG_VERSION_NUMBER",
        "RECORD_LAYER_FAILURE",
    )
    if plain or isinstance(exc, ssl.SSLEOFError | ConnectionResetError | ConnectionAbortedError):
        return (
            "the host did not speak TLS (it closed the connection or answered in clear during "
            "the TLS handshake): use tcp:// for a plain host"
        )
    return None


def _describe(exc: BaseException) -> str:
    """One line for an OS or TLS error, without payload bytes."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by host"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


def link_for(
    config: TerminalConfig, host: str | None = None, *, spec: Spec | None = None
) -> HostLink:
    """The link a terminal with ``config`` uses (to ``host`` instead of ``config.host``;
    ``spec`` when the dialect is not a built-in one named by ``config.spec``)."""
    frame_format = (spec or get_spec(config.spec)).frame_format
    header = b""
    if frame_format.header_length:
        same = frame_format.header_length == len(CUP_HEADER)
        header = CUP_HEADER if same else bytes(frame_format.header_length)
    tls = TlsSettings(
        ca_file=config.tls_ca_file,
        cert_file=config.tls_cert_file,
        key_file=config.tls_key_file,
        check_hostname=config.tls_check_hostname,
    )
    return HostLink(
        host or config.host,
        frame_format,
        tpdu=config.tpdu,
        header=header,
        connect_timeout=config.connect_timeout,
        tls=tls,
    )
