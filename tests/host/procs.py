"""``posemu host`` as a real subprocess with any options (TLS, limits, a lowered file limit)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.engine.clirun import POSEMU, ROOT, _env


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
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "host.log"
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [*POSEMU, "host", "--listen", "127.0.0.1:0", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=_env(),
            preexec_fn=preexec,
        )
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            match = re.match(r"listening on (\S+):(\d+) \(spec ", line)
            assert match, f"host did not start: {line!r} {log.read_text()}"
            yield HostProcess(proc, match.group(1), int(match.group(2)), log)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
