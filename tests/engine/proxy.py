"""A fault-injecting TCP proxy between the terminal and a real host, on 127.0.0.1.

Requests always reach the host (so the host may have approved what the terminal never
hears about); what happens to the answers depends on ``mode``:

``pass``        answers are forwarded
``drop``        answers are swallowed (the terminal times out)
``disconnect``  the connection is closed when the answer arrives
``garbage``     a well-framed but undecodable payload replaces the answer
``badmac``      the answer's MAC is zeroed (a man in the middle)
``down``        the listening socket is closed: connections are refused
"""

from __future__ import annotations

import asyncio
import contextlib

from iso8583.framing import StreamFramer
from iso8583.spec import Spec

MODES = ("pass", "drop", "disconnect", "garbage", "badmac", "down")


class FaultProxy:
    def __init__(self, target: tuple[str, int], spec: Spec) -> None:
        self.target = target
        self.spec = spec
        self.fmt = spec.frame_format
        self.mode = "pass"
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def set_mode(self, mode: str) -> None:
        assert mode in MODES
        if mode == "down" and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
            await self._drop_connections()
        elif mode != "down" and self._server is None:
            await self.start()
        self.mode = mode

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        await self._drop_connections()

    async def _drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        task_up = asyncio.ensure_future(self._pump(reader, up_writer))
        task_down = asyncio.ensure_future(self._answers(up_reader, writer))
        for task in (task_up, task_down):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await asyncio.wait({task_up, task_down}, return_when=asyncio.FIRST_COMPLETED)
        for task in (task_up, task_down):
            task.cancel()
        for w in (writer, up_writer):
            w.close()
            self._writers.discard(w)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _answers(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = StreamFramer(self.fmt)
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                for frame in framer.feed(data):
                    out = self._alter(frame.payload)
                    if out is None:
                        if self.mode == "disconnect":
                            return
                        continue
                    tpdu = frame.tpdu
                    writer.write(self.fmt.wrap(out, tpdu=tpdu, header=frame.header))
                    await writer.drain()

    def _alter(self, payload: bytes) -> bytes | None:
        mode = self.mode
        if mode == "pass":
            return payload
        if mode == "garbage":
            return b"\x07garbage!"
        if mode == "badmac":
            message = self.spec.codec.unpack(payload)
            for field in (64, 128):
                if field in message.fields:
                    message.fields[field] = bytes(8)
            return self.spec.codec.pack(message)
        return None  # drop, disconnect
