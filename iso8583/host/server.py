"""The host simulator on TCP: asyncio server, one stream framer per connection.

Each connection is an :class:`asyncio.Protocol` with its own
:class:`~iso8583.framing.StreamFramer`: every message goes to the shared
:class:`~iso8583.host.engine.HostEngine` as soon as it is complete (so ledger effects happen in
arrival order) and its framed reply leaves strictly in request order. A reply that is due at
once while nothing is held back goes out in the same turn of the event loop; a "late" one
waits on a timer and holds back the replies after it on that connection only. So a terminal
may pipeline requests, and a late or silent answer never stalls other terminals.

Replies are written once per loop turn, after every connection that had data in that turn was
served (as Redis does before it sleeps): one ``send`` per connection and turn, whatever number of
replies it carries, and a peer busy reading a burst of replies is not woken once per reply.

Backpressure: a connection stops being read while its peer does not read its replies (more
than ``_HIGH_WATER`` bytes unsent) or while ``_MAX_PENDING`` replies wait behind a late one;
frames already received wait, undecided, until it can go on.

A bad frame (the stream cannot be resynchronised) or an undecodable message closes that
connection only, once the replies already decided have been sent; nothing a client sends can
stop the server. One masked line per message goes to the ``posemu.host`` logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from iso8583.describe import describe
from iso8583.errors import FramingError, Iso8583Error
from iso8583.framing import Frame, StreamFramer
from iso8583.host.engine import HostEngine
from iso8583.host.listener import Listener, RateLimitedLog
from iso8583.host.sniff import head_size, implausible_start
from iso8583.masking import scrub_sensitive

__all__ = ["HostServer"]

_KEY_FIELDS = frozenset({62, 96})  # where the profiles put sign-on key blocks
_HIGH_WATER = 256 * 1024  # bytes of unsent replies before the connection stops being read
_MAX_PENDING = 256  # replies held back per connection before its reading pauses
_LOG = logging.getLogger("posemu.host")
DEFAULT_IDLE_TIMEOUT = 120.0  # seconds without a complete frame before a link is closed
_FD_RESERVE = 32  # descriptors kept for the log, the state file, TLS and the spare
_MAX_CONNECTIONS_CEILING = 10_000
_HANDSHAKE_TIMEOUT = 10.0


def default_max_connections() -> int:
    """What the process's file limit allows, keeping a reserve for everything else."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return _MAX_CONNECTIONS_CEILING
    return max(4, min(_MAX_CONNECTIONS_CEILING, soft - _FD_RESERVE))


@dataclass(frozen=True, slots=True)
class _Outgoing:
    data: bytes
    due: float  # loop time


class _Connection(asyncio.Protocol):
    """One terminal link: decides frames as they arrive, answers in request order."""

    def __init__(self, server: HostServer, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.engine = server.engine
        self.format = server.engine.spec.frame_format
        self.loop = loop
        self.framer = StreamFramer(self.format)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.inbox: deque[Frame] = deque()  # received, not decided yet (held back)
        self.outbox: deque[_Outgoing] = deque()  # decided, waiting behind a late reply
        self.timer: asyncio.TimerHandle | None = None
        self.unsent: list[bytes] = []  # replies due now, written at the end of this loop turn
        self.eof = False  # nothing more will be read: close once inbox and outbox are empty
        self.lost = False
        self.read_paused = False
        self.write_paused = False
        self.closed: asyncio.Future[None] = loop.create_future()
        self.last_frame = loop.time()  # connected, or last complete frame received
        self.sock: socket.socket | None = None  # as accepted, until asyncio wraps it
        self.task: asyncio.Task[None] | None = None  # that wrapping (the TLS handshake)
        self.head: bytes | None = b""  # the first bytes, until they are known to start a message

    # --- transport callbacks -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        if self.server.closing.is_set():
            self.eof = True
            transport.close()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=_HIGH_WATER)
        self.server._connections[self] = None
        _LOG.debug("%s connected", self.peer)

    @property
    def busy(self) -> bool:
        """Requests in hand (undecided, or replies not yet sent): not idle, whatever the time."""
        return bool(self.inbox or self.outbox or self.unsent)

    def data_received(self, data: bytes) -> None:
        if self.eof:
            return
        if self.head is not None:
            self.head += data[: self.server._head_size]
            reason = implausible_start(self.engine.spec, self.head)
            if reason is not None:
                _LOG.warning("%s refused: %s; closing", self.peer, reason)
                self._finish(drop_inbox=True)
                return
            if len(self.head) >= self.server._head_size:
                self.head = None
        try:
            frames = self.framer.feed(data)
        except FramingError as exc:
            _LOG.warning("%s framing error (%s); closing", self.peer, _reason(exc))
            self._finish(drop_inbox=True)
            return
        if self.framer.keepalives:
            _LOG.warning("%s framing error (zero-length frame); closing", self.peer)
            self._finish(drop_inbox=True)
            return
        if not frames:
            return
        self.last_frame = self.loop.time()
        if self.inbox:
            self.inbox.extend(frames)
            self._pump()
        else:
            self._decide_all(frames)

    def eof_received(self) -> bool:
        """The peer sent everything: answer it, then close (keep the transport open to write).

        TLS has no half-close (asyncio closes the transport and warns if asked to keep it)."""
        self._finish(drop_inbox=False)
        return self.transport.get_extra_info("sslcontext") is None

    def pause_writing(self) -> None:
        self.write_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._pump()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            _LOG.debug("%s connection lost: %s", self.peer, type(exc).__name__)
        self.lost = self.eof = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.inbox.clear()
        self.outbox.clear()
        self.unsent.clear()
        self.server._connections.pop(self, None)
        if not self.closed.done():
            self.closed.set_result(None)
        _LOG.debug("%s closed", self.peer)

    # --- shutdown --------------------------------------------------------------------------------
    def stop_reading(self) -> None:
        """Shutdown: answer what was already received, drop late replies not yet due, close."""
        if self.lost:
            return
        self._finish(drop_inbox=False)
        if self.timer is not None:  # the server is closing: a late reply ahead goes now
            self.timer.cancel()
            self._release_due()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
            return
        if self.task is not None:  # not connected yet: cancelling closes what asyncio made
            self.task.cancel()
        elif self.sock is not None:
            self.sock.close()
        self.server._connections.pop(self, None)

    # --- deciding --------------------------------------------------------------------------------
    def _held(self) -> bool:
        return self.write_paused or len(self.outbox) >= _MAX_PENDING

    def _decide_all(self, frames: Iterable[Frame]) -> None:
        """Decide frames in order until one closes the link or backpressure holds the rest."""
        it = iter(frames)
        try:
            for frame in it:
                if self._held():
                    self.inbox.append(frame)
                    self.inbox.extend(it)
                    self._pause_reading()
                    return
                if not self._decide(frame):
                    self._finish(drop_inbox=True)
                    return
        except Exception as exc:  # never let one connection take the server down
            _LOG.error("%s handler error %s; closing", self.peer, _reason(exc))
            self._finish(drop_inbox=True)

    def _pump(self) -> None:
        """Go on with held-back frames when nothing holds them anymore; then read again."""
        if self.lost:
            return
        inbox = self.inbox
        while inbox and not self._held():
            frame = inbox.popleft()
            try:
                keep_open = self._decide(frame)
            except Exception as exc:
                _LOG.error("%s handler error %s; closing", self.peer, _reason(exc))
                keep_open = False
            if not keep_open:
                self._finish(drop_inbox=True)
                return
        if inbox or self._held():
            self._pause_reading()
        elif self.eof:
            self._close_if_done()
        elif self.read_paused:
            self.read_paused = False
            assert self.transport is not None
            self.transport.resume_reading()

    def _decide(self, frame: Frame) -> bool:
        """Decide one frame and send or schedule its reply; False: close the link."""
        info = _LOG.isEnabledFor(logging.INFO)
        if info:
            started = time.perf_counter()
            result = self.engine.handle(frame.payload, now=self.server.clock())
            elapsed = (time.perf_counter() - started) * 1000
            _LOG.info("%s %s [%.1f ms]", self.peer, result.summary, elapsed)
            if _LOG.isEnabledFor(logging.DEBUG):
                self._debug_dump(frame.payload, result.reply)
        else:  # the log line would be dropped: do not even build it
            result = self.engine.handle(frame.payload, now=self.server.clock(), summarize=False)
        if result.reply is not None:
            tpdu = frame.tpdu.response() if frame.tpdu is not None else None
            try:
                data = self.format.wrap(result.reply, tpdu=tpdu, header=frame.header)
            except Iso8583Error as exc:
                _LOG.error("%s cannot frame reply (%s); closing", self.peer, _reason(exc))
                return False
            self._send(data, result.delay)
        return not result.close

    def _debug_dump(self, request: bytes, reply: bytes | None) -> None:
        """Both messages field by field, masked by ``describe`` (debug level only)."""
        spec = self.engine.spec
        for label, data in (("request", request), ("reply", reply)):
            if data is None:
                continue
            try:
                msg = spec.codec.unpack(data)
                if msg.mti[1] == "8":  # sign-on: keep even the encrypted working keys out
                    for n in _KEY_FIELDS & msg.fields.keys():
                        msg.fields[n] = "[working keys hidden]"
                text = describe(msg, spec)
            except Iso8583Error as exc:
                text = f"(undecodable: {_reason(exc)})"
            _LOG.debug("%s %s\n%s", self.peer, label, text)

    # --- answering -------------------------------------------------------------------------------
    def _send(self, data: bytes, delay: float) -> None:
        """Write now when nothing is held back and the reply is due, else queue it in order."""
        outbox = self.outbox
        if delay <= 0 and not outbox:
            self._write(data)
            return
        if delay > 0 and self.server.closing.is_set():
            _LOG.info("%s shutdown: dropping a late reply not yet due", self.peer)
            return
        outbox.append(_Outgoing(data, self.loop.time() + delay))
        if len(outbox) == 1:
            self._arm()

    def _arm(self) -> None:
        self.timer = self.loop.call_at(self.outbox[0].due, self._release_due)

    def _release_due(self) -> None:
        """Send every reply that is due, in order, up to the first one that is not."""
        self.timer = None
        if self.lost:
            return
        outbox = self.outbox
        closing = self.server.closing.is_set()
        now = self.loop.time()
        while outbox:
            item = outbox[0]
            if item.due > now:
                if not closing:
                    self._arm()
                    break
                outbox.popleft()
                _LOG.info("%s shutdown: dropping a late reply not yet due", self.peer)
                continue
            outbox.popleft()
            self._write(item.data)
        if self.inbox or self.read_paused:
            self._pump()
        elif self.eof:
            self._close_if_done()

    def _write(self, data: bytes) -> None:
        """Queue a reply for the end of this loop turn (see the module docstring)."""
        if self.lost:
            return
        if not self.unsent:
            self.server._flush_soon(self)
        self.unsent.append(data)

    def push(self) -> None:
        """Write the replies queued in this loop turn, in order, in one go."""
        unsent = self.unsent
        if not unsent:
            return
        self.unsent = []
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(unsent[0] if len(unsent) == 1 else b"".join(unsent))
        if self.eof:
            self._close_if_done()

    # --- reading and closing ---------------------------------------------------------------------
    def _pause_reading(self) -> None:
        if not self.read_paused and not self.lost:
            self.read_paused = True
            assert self.transport is not None
            with contextlib.suppress(Exception):
                self.transport.pause_reading()

    def _finish(self, *, drop_inbox: bool) -> None:
        """Read nothing more; close once the frames received (unless dropped) are answered."""
        self.eof = True
        if drop_inbox:
            self.inbox.clear()
        self._pause_reading()
        if self.inbox:
            self._pump()
        else:
            self._close_if_done()

    def _close_if_done(self) -> None:
        if self.eof and not self.inbox and not self.outbox and self.transport is not None:
            if self.unsent:  # push() closes once they are written
                return
            self.transport.close()


def _reason(exc: BaseException) -> str:
    return scrub_sensitive(f"{type(exc).__name__}: {exc}")


#: OpenSSL reasons of a failed handshake, in a tester's terms (the reason code stays visible).
_TLS_REASONS = {
    "WRONG_VERSION_NUMBER": "the client spoke plain TCP, not TLS (the terminal needs tls://)",
    "HTTP_REQUEST": "the client spoke HTTP, not TLS",
    "PEER_DID_NOT_RETURN_A_CERTIFICATE": "the client sent no certificate (--tls-client-ca)",
    "CERTIFICATE_VERIFY_FAILED": "the client certificate is not from --tls-client-ca",
    "TLSV1_ALERT_UNKNOWN_CA": "the client does not trust this host's certificate",
}


def _tls_why(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(exc, ssl.SSLError) and reason in _TLS_REASONS:
        return f"{_TLS_REASONS[reason]} [{reason}]"
    if isinstance(exc, TimeoutError):
        return "the client did not finish the TLS handshake in time"
    return _reason(exc)


def _peer(sock: socket.socket) -> str:
    try:
        host, port = sock.getpeername()[:2]
    except OSError:
        return ""
    return f"{host}:{port} "


class HostServer:
    """Serves one :class:`HostEngine` on a TCP address until :meth:`stop`."""

    def __init__(
        self,
        engine: HostEngine,
        *,
        clock: Callable[[], datetime] = datetime.now,
        shutdown_grace: float = 5.0,
        max_connections: int | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.shutdown_grace = shutdown_grace
        self.max_connections = max_connections or default_max_connections()
        self.idle_timeout = idle_timeout
        self.ssl_context = ssl_context
        self.closing = asyncio.Event()
        self._listener: Listener | None = None
        self._connections: dict[_Connection, None] = {}
        self._address: tuple[str, int] | None = None
        self._unsent: list[_Connection] = []  # connections with replies to write this turn
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._head_size = head_size(engine.spec)
        self._accept_log = RateLimitedLog(_LOG)
        self.evicted = 0  # idle connections closed to make room

    @property
    def address(self) -> tuple[str, int]:
        if self._address is None:
            raise RuntimeError("server not started")
        return self._address

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def refused(self) -> int:
        """Connections closed at once because no descriptor or room could be found."""
        return self._refused + (self._listener.refused if self._listener is not None else 0)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Bind and listen; returns the real address (port 0 picks a free port)."""
        loop = self._loop = asyncio.get_running_loop()
        self._refused = 0
        sockets = _bind(host, port)
        sockname = sockets[0].getsockname()
        self._address = (str(sockname[0]), int(sockname[1]))
        self._listener = Listener(loop, sockets, self._admit, self._out_of_fds, self._accept_log)
        self._arm_sweeper()
        return self._address

    # --- admission -------------------------------------------------------------------------------
    def _admit(self, sock: socket.socket) -> None:
        if self.closing.is_set():
            sock.close()
            return
        full = len(self._connections) >= self.max_connections
        if full and not self._evict_idlest():
            self._refused += 1
            self._accept_log.warning(
                f"{self.max_connections} connections, none idle: refusing a new one"
            )
            sock.close()
            return
        assert self._loop is not None
        # Counted (and evictable) from now on, not only once asyncio has made its transport.
        conn = _Connection(self, self._loop)
        conn.sock = sock
        self._connections[conn] = None
        conn.task = task = self._loop.create_task(self._connect(conn, sock))
        task.add_done_callback(lambda t: sock.close() if t.cancelled() else None)

    async def _connect(self, conn: _Connection, sock: socket.socket) -> None:
        assert self._loop is not None
        peer = _peer(sock)  # before a failed handshake closes the socket
        try:
            await self._loop.connect_accepted_socket(
                lambda: conn,
                sock,
                ssl=self.ssl_context,
                ssl_handshake_timeout=_HANDSHAKE_TIMEOUT if self.ssl_context else None,
            )
        except (TimeoutError, OSError, ssl.SSLError, ConnectionError) as exc:
            self._accept_log.warning(f"{peer}connection not established: {_tls_why(exc)}")
            self._connections.pop(conn, None)
            sock.close()
        finally:
            conn.task = None

    def _evict_idlest(self) -> bool:
        """Close the connection idle longest without a complete frame; False if none is idle."""
        idle = [c for c in self._connections if not c.busy and not c.eof]
        if not idle:
            return False
        victim = min(idle, key=lambda c: c.last_frame)
        self.evicted += 1
        idle_for = self._now() - victim.last_frame
        _LOG.info("%s evicted to make room: idle %.1f s", victim.peer, idle_for)
        victim.eof = True
        victim.abort()
        self._connections.pop(victim, None)
        return True

    def _out_of_fds(self) -> bool:
        """The process ran out of descriptors: serve fewer links, keep a reserve, make room.

        Descriptors are needed for more than sockets (the state file, a module imported
        late, TLS), so the cap comes down to what was open minus a reserve, once and for good.
        """
        cap = max(4, len(self._connections) - _FD_RESERVE // 2)
        if cap < self.max_connections:
            _LOG.warning(
                "out of file descriptors at %d connections: serving at most %d from now on",
                len(self._connections),
                cap,
            )
            self.max_connections = cap
        evicted = False
        while len(self._connections) >= self.max_connections and self._evict_idlest():
            evicted = True
        return evicted or self._evict_idlest()

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _arm_sweeper(self) -> None:
        assert self._loop is not None
        period = max(0.05, min(5.0, self.idle_timeout / 4))
        self._sweeper = self._loop.call_later(period, self._sweep)

    def _sweep(self) -> None:
        """Close connections that sent no complete frame for ``idle_timeout`` seconds."""
        limit = self._now() - self.idle_timeout
        for conn in [c for c in self._connections if c.last_frame < limit and not c.busy]:
            _LOG.info("%s idle for %g s; closing", conn.peer, self.idle_timeout)
            if conn.transport is None:  # still in its TLS handshake
                conn.abort()
            else:
                conn.stop_reading()
        if not self.closing.is_set():
            self._arm_sweeper()

    def _flush_soon(self, conn: _Connection) -> None:
        """Have ``conn``'s replies written once the callbacks of this loop turn have run."""
        if not self._unsent:
            assert self._loop is not None
            self._loop.call_soon(self._write_pending)
        self._unsent.append(conn)

    def _write_pending(self) -> None:
        conns, self._unsent = self._unsent, []
        for conn in conns:
            try:
                conn.push()
            except Exception as exc:  # one broken link must not keep the others unanswered
                _LOG.error("%s write error %s; closing", conn.peer, _reason(exc))
                conn.abort()

    async def stop(self) -> None:
        """Stop accepting, answer requests already received, close every connection."""
        if self._listener is None:
            return
        self._listener.close()
        self.closing.set()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for conn in list(self._connections):
            if conn.transport is None:  # still in its TLS handshake
                conn.abort()
        conns = list(self._connections)
        for conn in conns:
            conn.stop_reading()
        waiting = {conn.closed: conn for conn in conns if not conn.closed.done()}
        if waiting:
            _done, pending = await asyncio.wait(waiting, timeout=self.shutdown_grace)
            for fut in pending:  # e.g. a peer that stopped reading: drop it hard
                waiting[fut].abort()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self._listener = None


def _bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address ``host`` resolves to (as asyncio's create_server)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _name, addr in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(addr)
            sock.listen(1024)
            if port == 0:  # every address on the one port the first bind picked
                port = sock.getsockname()[1]
                break
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
