"""Run ``posemu`` as a user would: separate processes, real brokers, real files."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

POSEMU = [sys.executable, "-m", "terminal.cli.main"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POSEMU, *args], capture_output=True, text=True, timeout=timeout, env=ENV
    )


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*POSEMU, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )


def stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


_LINES: dict[int, queue.Queue[str]] = {}


def read_json_line(proc: subprocess.Popen[str], timeout: float = 30) -> dict[str, Any]:
    """The next JSON line the process prints (a watcher), within ``timeout`` seconds."""
    lines = _LINES.get(proc.pid)
    if lines is None:
        lines = _LINES[proc.pid] = queue.Queue()
        stdout = proc.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                lines.put(line)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError("no report within the timeout") from None
    if not line:
        raise AssertionError(f"watcher ended: {proc.stderr.read() if proc.stderr else ''}")
    return json.loads(line)


def wait_for(predicate: Any, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def outbox_depth(data_dir: Path) -> int:
    import contextlib
    import sqlite3

    path = data_dir / "agent.sqlite"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])
        except sqlite3.OperationalError:  # being created right now
            return 0


def wait_online(url: str, tid: str = "POSEMU01", timeout: float = 30) -> None:
    """Until the terminal's retained status says online (its command subscription exists)."""
    import asyncio

    from agent.console import Console
    from agent.mqtt import BrokerSettings

    async def watch() -> None:
        console = Console(BrokerSettings.from_url(url), terminal_id=tid, kinds=["status"])
        async with asyncio.timeout(timeout), console.connected():
            async for body in console.reports():
                if body.get("state") == "online":
                    return

    asyncio.run(watch())
