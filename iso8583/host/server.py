"""The host simulator on TCP: asyncio server, one stream framer per connection.

Each connection reads frames with its own :class:`~iso8583.framing.StreamFramer`, hands every
message to the shared :class:`~iso8583.host.engine.HostEngine` as soon as it is complete (so
ledger effects happen in arrival order) and queues the framed reply for a writer task that
sends replies strictly in request order, holding back "late" ones until they are due. So a
terminal may pipeline requests, and a late or silent answer never stalls other terminals.

A bad frame (the stream cannot be resynchronised) or an undecodable message closes that
connection only; nothing a client sends can stop the server. One masked line per message
goes to the ``posemu.host`` logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from iso8583.describe import describe
from iso8583.errors import FramingError, Iso8583Error
from iso8583.framing import Frame, StreamFramer
from iso8583.host.engine import HostEngine
from iso8583.masking import scrub_pans

__all__ = ["HostServer"]

_READ_SIZE = 65536
_KEY_FIELDS = frozenset({62, 96})  # where the profiles put sign-on key blocks
_HIGH_WATER = 256 * 1024  # bytes of unsent replies before the read loop waits for the peer
_MAX_PENDING = 256  # replies queued per connection before its reading pauses
_LOG = logging.getLogger("posemu.host")


@dataclass(frozen=True, slots=True)
class _Outgoing:
    data: bytes
    due: float  # loop time


class _Connection:
    """One terminal link: a reader that decides, a writer that answers in order."""

    def __init__(
        self, server: HostServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.framer = StreamFramer(server.engine.spec.frame_format)
        # Bounded: a peer that sends without reading its replies stops being read.
        self.queue: asyncio.Queue[_Outgoing | None] = asyncio.Queue(_MAX_PENDING)
        self.writing = False

    async def run(self) -> None:
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _LOG.debug("%s connected", self.peer)
        writer_task = asyncio.create_task(self._write_loop())
        try:
            await self._read_loop()
        except (ConnectionError, OSError) as exc:
            _LOG.debug("%s read failed: %s", self.peer, type(exc).__name__)
        except Exception as exc:  # never let one connection take the server down
            _LOG.error("%s handler error %s; closing", self.peer, _reason(exc))
        finally:
            try:
                self.queue.put_nowait(None)
            except asyncio.QueueFull:  # the peer is not reading: its replies are lost anyway
                writer_task.cancel()
            try:
                await writer_task
            except asyncio.CancelledError:
                writer_task.cancel()
                self.writer.transport.abort()
                raise
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
            _LOG.debug("%s closed", self.peer)

    def stop_reading(self) -> None:
        """Shutdown: answer what was already received, then end the read loop."""
        with contextlib.suppress(Exception):
            self.writer.transport.pause_reading()
        self.reader.feed_eof()

    async def _read_loop(self) -> None:
        while True:
            data = await self.reader.read(_READ_SIZE)
            if not data:
                return
            try:
                frames = self.framer.feed(data)
            except FramingError as exc:
                _LOG.warning("%s framing error (%s); closing", self.peer, _reason(exc))
                return
            loop = asyncio.get_running_loop()
            for frame in frames:
                item, keep_open = self._dispatch(frame)
                if item is not None:
                    if self.queue.empty() and not self.writing and item.due <= loop.time():
                        # Nothing queued ahead of it: answer now, without a writer-task hop.
                        self.writer.write(item.data)
                    else:
                        await self.queue.put(item)
                if not keep_open:
                    return
            if self.writer.transport.get_write_buffer_size() > _HIGH_WATER:
                await self.writer.drain()

    def _dispatch(self, frame: Frame) -> tuple[_Outgoing | None, bool]:
        """Decide one frame: the framed reply to queue, and whether the link stays open."""
        started = time.perf_counter()
        result = self.server.engine.handle(frame.payload, now=self.server.clock())
        elapsed = (time.perf_counter() - started) * 1000
        _LOG.info("%s %s [%.1f ms]", self.peer, result.summary, elapsed)
        if _LOG.isEnabledFor(logging.DEBUG):
            self._debug_dump(frame.payload, result.reply)
        if result.reply is not None:
            fmt = self.server.engine.spec.frame_format
            tpdu = frame.tpdu.response() if frame.tpdu is not None else None
            try:
                data = fmt.wrap(result.reply, tpdu=tpdu, header=frame.header)
            except Iso8583Error as exc:
                _LOG.error("%s cannot frame reply (%s); closing", self.peer, _reason(exc))
                return None, False
            due = asyncio.get_running_loop().time() + result.delay
            return _Outgoing(data, due), not result.close
        return None, not result.close

    def _debug_dump(self, request: bytes, reply: bytes | None) -> None:
        """Both messages field by field, masked by ``describe`` (debug level only)."""
        spec = self.server.engine.spec
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

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        closing = self.server.closing
        while True:
            self.writing = False
            item = await self.queue.get()
            if item is None:
                return
            self.writing = True  # the read loop must not overtake this reply
            wait = item.due - loop.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closing.wait(), wait)
                if closing.is_set() and item.due > loop.time():
                    _LOG.info("%s shutdown: dropping a late reply not yet due", self.peer)
                    continue
            try:
                self.writer.write(item.data)
                await self.writer.drain()
            except (ConnectionError, OSError) as exc:
                _LOG.debug("%s write failed: %s", self.peer, type(exc).__name__)
                self.stop_reading()
                return


def _reason(exc: BaseException) -> str:
    return scrub_pans(f"{type(exc).__name__}: {exc}")


class HostServer:
    """Serves one :class:`HostEngine` on a TCP address until :meth:`stop`."""

    def __init__(
        self,
        engine: HostEngine,
        *,
        clock: Callable[[], datetime] = datetime.now,
        shutdown_grace: float = 5.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.shutdown_grace = shutdown_grace
        self.closing = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        self._address: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        if self._address is None:
            raise RuntimeError("server not started")
        return self._address

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Bind and listen; returns the real address (port 0 picks a free port)."""
        self._server = await asyncio.start_server(self._on_connect, host, port)
        sockname = self._server.sockets[0].getsockname()
        self._address = (str(sockname[0]), int(sockname[1]))
        return self._address

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.closing.is_set():
            writer.close()
            return
        conn = _Connection(self, reader, writer)
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - asyncio always runs callbacks in a task
            raise RuntimeError("connection handler outside a task")
        self._connections[task] = conn
        try:
            # stop() cancels connections that outlive the grace period; asyncio's stream
            # callback would log a cancelled handler as an error, so end it quietly.
            with contextlib.suppress(asyncio.CancelledError):
                await conn.run()
        finally:
            self._connections.pop(task, None)

    async def stop(self) -> None:
        """Stop accepting, answer requests already received, close every connection."""
        if self._server is None:
            return
        self._server.close()
        self.closing.set()
        for conn in list(self._connections.values()):
            conn.stop_reading()
        tasks = list(self._connections)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self.shutdown_grace)
            for task in pending:  # e.g. a peer that stopped reading: drop it hard
                conn = self._connections.get(task)
                if conn is not None:
                    conn.writer.transport.abort()
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        await self._server.wait_closed()
        self._server = None
