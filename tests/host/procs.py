"""``posemu host`` as a real subprocess with any options (TLS, limits, a lowered file limit)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.engine.clirun import host_subprocess


@dataclass
class HostProcess:
    proc: subprocess.Popen[str]
    host: str
    port: int
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8")


@contextmanager
def host_process(
    folder: Path, *args: str, preexec: Callable[[], None] | None = None
) -> Iterator[HostProcess]:
    with host_subprocess(folder, list(args), preexec) as (proc, host, port, log):
        yield HostProcess(proc, host, port, log)
