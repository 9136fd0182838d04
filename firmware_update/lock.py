"""One update at a time per data directory, across processes.

An ``flock`` on ``firmware/update.lock`` is held for a whole :meth:`Updater.run`. The kernel
drops it when the process dies, so "the record says downloading but nobody holds the lock"
means a kill interrupted that update, while a held lock means it is alive: a second updater
answers busy, and a terminal starting meanwhile leaves the record and the staging alone.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from firmware_update.slots import Layout

__all__ = ["update_lock"]


@contextmanager
def update_lock(layout: Layout) -> Iterator[bool]:
    """Try to take the lock without waiting: yields True when taken (held until exit)."""
    layout.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(layout.root / "update.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock
