"""Real transports for device tests: in-process simulators on TCP, socat pty pairs."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from terminal.core.devices import DeviceEvent


class Events:
    """Collects device events from adapter threads; ``wait_for`` polls without sleeping long."""

    def __init__(self) -> None:
        self.items: list[DeviceEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: DeviceEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def conditions(self) -> list[str]:
        return [str(e.condition) for e in self.items]

    def wait_for(self, condition: str, count: int = 1, timeout: float = 10) -> None:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self.conditions().count(condition) >= count, timeout=timeout
            )
        assert ok, f"no {condition} event (got {self.conditions()})"


@pytest.fixture
def events() -> Events:
    return Events()


def wait_until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


class SocatPair:
    """``socat pty,link=A pty,link=B``: two linked pty ends with stable paths."""

    def __init__(self, directory: Path) -> None:
        self.a, self.b = directory / "terminal-end", directory / "device-end"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: self.a.exists() and self.b.exists())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
            self.proc = None
        wait_until(lambda: not self.a.exists())


@pytest.fixture
def socat_pair(tmp_path: Path) -> Iterator[SocatPair]:
    if shutil.which("socat") is None:
        pytest.skip("socat not installed (.ci/setup-system.sh installs it)")
    pair = SocatPair(tmp_path)
    pair.start()
    yield pair
    pair.stop() if pair.proc is not None else None
