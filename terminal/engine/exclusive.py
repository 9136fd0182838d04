"""One running engine per terminal data directory, across processes.

Why: two engines on one journal would each take the other's in-flight transaction for a
crash leftover (recovery closes it, or its queued reversal is sent while the first still
waits for the answer). A real terminal is one device; the emulator enforces that with an
advisory ``flock`` on ``<data dir>/engine.lock``, released by the kernel even on ``kill -9``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import IO

from terminal.engine.errors import ServiceStateError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no cross-process exclusion
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE_NAME", "EngineLock"]

LOCK_FILE_NAME = "engine.lock"
_POLL = 0.05


class EngineLock:
    """An exclusive lock on ``folder``, waited for up to ``timeout`` seconds."""

    def __init__(self, folder: Path, timeout: float) -> None:
        self.path = folder / LOCK_FILE_NAME
        self.timeout = timeout
        self._handle: IO[bytes] | None = None

    async def acquire(self) -> None:
        if fcntl is None or self._handle is not None:
            return
        handle = open(self.path, "ab")  # noqa: SIM115 - held open while the engine runs
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if loop.time() >= deadline:
                    handle.close()
                    raise ServiceStateError(
                        f"another posemu process is using {self.path.parent}"
                    ) from None
                await asyncio.sleep(_POLL)
                continue
            self._handle = handle
            return

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None and fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()
