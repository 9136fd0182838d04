"""``--trace`` and ``--trace-file``: the message trace of a command, live, from the bus.

A subscriber of the runtime's event bus takes every :class:`MessageTraced` (masked when it
was made) and writes it as a field-by-field dump to stderr (stdout stays the command's
result, one JSON object with ``--json``) and/or as one JSON line per message to a file.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from terminal.core.errors import TerminalError
from terminal.core.events import EventBus
from terminal.core.trace import MessageTraced

__all__ = ["TraceFileError", "open_trace_file", "tracing"]


class TraceFileError(TerminalError, ValueError):
    """The ``--trace-file`` cannot be written."""


def open_trace_file(path: str | None) -> IO[str] | None:
    """Open (append) the trace file now, so a bad path fails before anything is sent."""
    if not path:
        return None
    try:
        return Path(path).open("a", encoding="utf-8")
    except OSError as exc:
        raise TraceFileError(f"--trace-file {path}: cannot write ({exc.strerror})") from None


@contextlib.asynccontextmanager
async def tracing(
    bus: EventBus, *, text: IO[str] | None, jsonl: IO[str] | None
) -> AsyncIterator[None]:
    """Write the trace while the block runs; everything published before it ends is written."""
    if text is None and jsonl is None:
        yield
        return
    sub = bus.subscribe("cli-trace", maxsize=10_000)

    async def pump() -> None:
        async for delivery in sub:
            event = delivery.event
            if not isinstance(event, MessageTraced):
                continue
            if text is not None:
                print(event.text(), file=text, flush=True)
            if jsonl is not None:
                jsonl.write(event.json_line() + "\n")
                jsonl.flush()

    task = asyncio.create_task(pump())
    try:
        yield
    finally:
        sub.close()
        await task
        if jsonl is not None:
            jsonl.close()
