"""Host state that outlives one process: the ledger and the per-terminal working keys.

``posemu pay`` runs the embedded host only for the length of one command, yet a void in one
command must find the sale of the previous one, as it would on a long-running host. The
state is written atomically (temp file, fsync, rename) when the host stops and read when it
starts. The file holds the host's working keys, so it is created 0600, in the caller's own
data directory; it is trusted like the rest of that directory.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

from iso8583.host.rules import HostError

if TYPE_CHECKING:
    from iso8583.host.engine import HostEngine

__all__ = ["load_state", "save_state"]

_FORMAT = "posemu-host-state/1"
STATE_FILE = "host-state.pickle"


def save_state(engine: HostEngine, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / STATE_FILE
    tmp = path.with_suffix(".tmp")
    blob = pickle.dumps(
        {
            "format": _FORMAT,
            "spec": engine.spec.name,
            "ledger": engine.ledger,
            "keys": engine.keys_snapshot(),
        }
    )
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, blob)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def load_state(engine: HostEngine, directory: Path) -> bool:
    """Restore a saved state into ``engine``; a missing file is a fresh host.

    A state written for another dialect, or one that cannot be read, is set aside (renamed
    ``*.bad``) rather than trusted: the host then starts fresh, as after a host-side reset.
    """
    path = directory / STATE_FILE
    if not path.exists():
        return False
    try:
        state = pickle.loads(path.read_bytes())  # our own 0600 file
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise HostError(f"{path}: not a posemu host state file")
        if state.get("spec") != engine.spec.name:
            raise HostError(f"{path}: state of dialect {state.get('spec')}")
        engine.restore(state["ledger"], state["keys"])
    except (
        HostError,
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        KeyError,
        TypeError,
        ValueError,
    ):
        with contextlib.suppress(OSError):
            path.replace(path.with_suffix(".bad"))
        return False
    return True
