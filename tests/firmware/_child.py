"""Runs one update and SIGKILLs itself at the requested point (kill -9: no cleanup runs).

usage: python -m tests.firmware._child DATA_DIR REPO_URL KILL_AT HEALTH
KILL_AT: a state name (killed right after that state is persisted), or one of
download-half, install-staged, in-restart, in-health-check; HEALTH: ok or fail.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import firmware_update.slots
from firmware_update import Health, State, Updater


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    data_dir, url, kill_at, health = sys.argv[1:5]

    def on_state(record) -> None:
        if record.state.value == kill_at:
            die()

    def progress(state: State, done: int, total: int) -> None:
        if kill_at == "download-half" and state is State.DOWNLOADING and done >= total // 2 > 0:
            die()

    extract = firmware_update.slots.extract_package

    def extract_then_die(archive: Path, dest: Path):
        manifest = extract(archive, dest)
        if kill_at == "install-staged":
            die()
        return manifest

    firmware_update.slots.extract_package = extract_then_die

    def restart(path, manifest) -> None:
        if kill_at == "in-restart":
            die()

    async def check(path, manifest) -> Health:
        if kill_at == "in-health-check":
            die()
        return Health(health == "ok", "" if health == "ok" else "self-test failed")

    updater = Updater(
        Path(data_dir),
        url,
        on_state=on_state,
        progress=progress,
        restart=restart,
        health_check=check,
    )
    outcome = asyncio.run(updater.run())
    print(outcome.state.value)


if __name__ == "__main__":
    main()
