"""A bare framed echo server: the ceiling the host simulator is measured against.

Same framing as the host (2-byte binary length), same asyncio stack, no ISO 8583 work:
it sends every frame back as it came. Prints ``listening on HOST:PORT`` when ready.
"""

from __future__ import annotations

import asyncio
import sys

from iso8583.framing import FrameFormat, StreamFramer


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    fmt = FrameFormat()
    framer = StreamFramer(fmt)
    try:
        while data := await reader.read(65536):
            for frame in framer.feed(data):
                writer.write(fmt.wrap(frame.payload))
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0, backlog=1024)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
