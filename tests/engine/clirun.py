"""Run ``posemu`` commands and the ``posemu host`` simulator as real subprocesses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


POSEMU = [sys.executable, "-m", "terminal.cli.main"]


@dataclass
class Host:
    proc: subprocess.Popen
    url: str
    log: Path

    def log_lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()

    def wait_for(self, pattern: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_lines():
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        raise AssertionError(f"host never logged {pattern!r}")


@contextmanager
def posemu_host(folder: Path, rules: str | None = None, spec: str = "iso87ascii") -> Iterator[Host]:
    folder.mkdir(parents=True, exist_ok=True)
    args = ["--spec", spec]
    if rules is not None:
        path = folder / "rules.toml"
        path.write_text(rules, encoding="utf-8")
        args += ["--rules", str(path)]
    with host_subprocess(folder, args) as (proc, host, port, log):
        yield Host(proc, f"tcp://{host}:{port}", log)


@contextmanager
def host_subprocess(
    folder: Path, args: list[str], preexec: Callable[[], None] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str, int, Path]]:
    """``posemu host --listen 127.0.0.1:0 ARGS``, its log in ``folder/host.log``: yields the
    process, the address it announced and the log; terminated (then killed) on exit."""
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
            yield proc, match.group(1), int(match.group(2)), log
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("COLUMNS", None)
    for name in ("POSEMU_HOST", "POSEMU_DATA_DIR", "POSEMU_SPEC"):
        env.pop(name, None)
    return env


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        lines = self.out.strip().splitlines()
        assert len(lines) == 1, f"expected one JSON line, got {self.out!r}"
        return json.loads(lines[0])


def posemu(*args: str, timeout: float = 60.0) -> Run:
    proc = subprocess.run(
        [*POSEMU, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=_env()
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def pay(op: str, host: Host, data_dir: Path, *args: str, timeout: float = 60.0) -> Run:
    """``posemu pay OP --host URL --data-dir DIR --json ARGS``."""
    return posemu(
        "pay", op, "--host", host.url, "--data-dir", str(data_dir), "--json", *args,
        timeout=timeout,
    )  # fmt: skip


def spawn_pay(op: str, host: Host, data_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*POSEMU, "pay", op, "--host", host.url, "--data-dir", str(data_dir), "--json", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
