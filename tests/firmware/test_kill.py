"""kill -9 at every state of the update machine: the next start ends on the old or the new
version, bootable, with the journal intact. A table of real SIGKILLs in a child process, then a
hypothesis state machine mixing publishes, updates, failing health checks and crashes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from firmware_update import Health, State, Updater, on_boot, read_status, trust
from firmware_update.machine import REST_STATES, TRANSITIONS, Event
from firmware_update.package import verify_slot
from firmware_update.versions import Version
from tests.firmware.helpers import Repo, journal_rows, make_journal

ROOT = Path(__file__).resolve().parents[2]

# kill point, health check result in the killed run, running version after the next start
KILLS = [
    ("downloading", "ok", "1.0.0"),
    ("download-half", "ok", "1.0.0"),
    ("verifying", "ok", "1.0.0"),
    ("installing", "ok", "1.0.0"),
    ("install-staged", "ok", "1.0.0"),
    ("rebooting", "ok", "1.1.0"),
    ("in-restart", "ok", "1.1.0"),
    ("health_check", "ok", "1.1.0"),
    ("in-health-check", "ok", "1.1.0"),
    ("committed", "ok", "1.1.0"),
    ("rolled_back", "fail", "1.0.0"),
    ("failed", "ok", "1.0.0"),  # with a tampered package, see below
]


def test_the_table_covers_every_state():
    named = {k for k, _, _ in KILLS}
    assert {s.value for s in State} - {"idle"} <= named


def start_terminal(data_dir: Path, url: str) -> None:
    """What a terminal does when it starts: recover, and finish a trial with its health check."""
    info = on_boot(data_dir)
    if info.on_trial:
        asyncio.run(Updater(data_dir, url).finish_trial())


def child(data_dir: Path, url: str, kill_at: str, health: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.firmware._child", str(data_dir), url, kill_at, health],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("kill_at", "health", "expected"), KILLS)
def test_kill_9_at_every_state(repo: Repo, data_dir: Path, kill_at, health, expected):
    assert asyncio.run(Updater(data_dir, repo.url).run()).state is State.COMMITTED
    rows = journal_rows(data_dir)
    target = repo.publish("1.1.0", size=200_000)
    if kill_at == "failed":
        target.write_bytes(target.read_bytes()[:-1] + b"!")
    result = child(data_dir, repo.url, kill_at, health)
    assert result.returncode == -signal.SIGKILL, (result.stdout, result.stderr)

    start_terminal(data_dir, repo.url)

    status = read_status(data_dir)
    assert status["running"] == expected, status
    assert State(status["state"]) in REST_STATES
    active = data_dir / "firmware" / "slots" / status["active"]
    assert str(verify_slot(active).version) == expected
    assert not list((data_dir / "firmware" / "slots").glob(".*staging"))
    assert journal_rows(data_dir) == rows
    if kill_at != "failed":  # and the terminal can still update afterwards
        again = asyncio.run(Updater(data_dir, repo.url).run())
        assert str(again.running) == "1.1.0", again


def test_crash_loop_rolls_back_after_max_boots(repo: Repo, data_dir: Path):
    asyncio.run(Updater(data_dir, repo.url).run())
    repo.publish("1.1.0")
    assert child(data_dir, repo.url, "in-health-check", "ok").returncode == -signal.SIGKILL
    for boot in range(1, 4):  # the new firmware dies during every start
        info = on_boot(data_dir, max_boots=3)
        assert info.on_trial
        assert info.record.boots == boot
        assert str(info.manifest.version) == "1.1.0"
    info = on_boot(data_dir, max_boots=3)
    assert not info.on_trial
    assert str(info.manifest.version) == "1.0.0"
    status = read_status(data_dir)
    assert status["state"] == "rolled_back"
    assert status["reason"] == "crash-loop"


class _Crash(BaseException):
    """Stands in for kill -9 in-process: no handler of ours catches a BaseException."""


CRASH_POINTS = [s for s in State if s not in REST_STATES] + [None]


class UpdateMachine(RuleBasedStateMachine):
    """Publishes, updates (healthy or not), crashes anywhere; the terminal always comes back."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        root = Path(self.tmp.name)
        self.repo = Repo(root / "publisher")
        self.repo.publish("1.0.0")
        self.repo.start()
        self.data = root / "terminal"
        make_journal(self.data)
        trust(self.data, self.repo.root_json())
        self.rows = journal_rows(self.data)
        self.next_minor = 1
        self.committed: set[str] = {"0.0.0"}
        self.floor = Version(0, 0, 0)

    def teardown(self) -> None:
        self.repo.stop()
        self.tmp.cleanup()

    @initialize()
    def first_update(self) -> None:
        assert asyncio.run(Updater(self.data, self.repo.url).run()).state is State.COMMITTED
        self.committed.add("1.0.0")

    @rule(downgrade=st.booleans(), raise_floor=st.booleans())
    def publish(self, downgrade: bool, raise_floor: bool) -> None:
        version = f"0.{self.next_minor}.0" if downgrade else f"1.{self.next_minor}.0"
        self.next_minor += 1
        self.repo.publish(version, min_version=version if raise_floor else None)

    @rule(healthy=st.booleans(), crash=st.sampled_from(CRASH_POINTS))
    def update(self, healthy: bool, crash: State | None) -> None:
        def on_state(record) -> None:
            if record.state is crash:
                raise _Crash

        updater = Updater(
            self.data,
            self.repo.url,
            on_state=on_state,
            health_check=lambda p, m: Health(healthy, "" if healthy else "self-test failed"),
        )
        try:
            outcome = asyncio.run(updater.run())
        except _Crash:
            start_terminal(self.data, self.repo.url)  # the next start
        else:
            if outcome.state is State.COMMITTED:
                self.committed.add(str(outcome.running))
        status = read_status(self.data)
        if status["state"] == "committed":
            self.committed.add(status["running"])

    @invariant()
    def bootable_known_version_and_journal_intact(self) -> None:
        status = read_status(self.data)
        assert State(status["state"]) in REST_STATES
        assert status["running"] in self.committed
        floor = Version.parse(status["floor"])
        assert floor >= self.floor  # the minimum-version counter never goes down
        self.floor = floor
        assert Version.parse(status["running"]) >= floor
        assert status["slots"][status["active"]]["bootable"]
        assert journal_rows(self.data) == self.rows


UpdateMachine.TestCase.settings = settings(max_examples=8, stateful_step_count=6, deadline=None)
test_update_machine = UpdateMachine.TestCase


def test_transition_table_is_closed():
    for (state, event), after in TRANSITIONS.items():
        assert isinstance(state, State)
        assert isinstance(event, Event)
        assert isinstance(after, State)
    # from every non-rest state a start-up can always get out of it
    for state in State:
        if state in REST_STATES:
            continue
        assert (state, Event.INTERRUPTED) in TRANSITIONS or (state, Event.REBOOTED) in TRANSITIONS
