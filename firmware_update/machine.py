"""The update state machine: one transition table over closed enums, persisted atomically.

::

    idle/committed/rolled_back/failed --start--> downloading --downloaded--> verifying
    verifying --verified--> installing --installed (switch)--> rebooting --restarted--> health_check
    health_check --healthy--> committed            health_check --unhealthy--> rolled_back
    downloading/verifying/installing --refused|interrupted--> failed   (old slot never touched)
    rebooting/health_check --rebooted--> health_check   (a start while a new slot is on trial)
    rebooting/health_check --crash_loop|unhealthy--> rolled_back

The record is written with temp file + fsync + ``os.replace`` before the work of the new state
begins, so a kill at any instant leaves either the previous or the next record, never a torn
one; :func:`firmware_update.boot.on_boot` reads it on the next start and finishes the job.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Self

from firmware_update.errors import StateError
from firmware_update.versions import FACTORY_VERSION, Version

__all__ = [
    "REST_STATES",
    "TRANSITIONS",
    "Event",
    "Slot",
    "State",
    "UpdateRecord",
    "last_good_path",
    "load_record",
    "next_state",
    "save_record",
]


class State(StrEnum):
    IDLE = "idle"
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    INSTALLING = "installing"
    REBOOTING = "rebooting"
    HEALTH_CHECK = "health_check"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


class Event(StrEnum):
    START = "start"
    UP_TO_DATE = "up_to_date"
    DOWNLOADED = "downloaded"
    VERIFIED = "verified"
    INSTALLED = "installed"
    RESTARTED = "restarted"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    REFUSED = "refused"
    INTERRUPTED = "interrupted"
    REBOOTED = "rebooted"
    CRASH_LOOP = "crash_loop"


class Slot(StrEnum):
    A = "a"
    B = "b"

    @property
    def other(self) -> Slot:
        return Slot.B if self is Slot.A else Slot.A


#: States in which nothing is in progress: a new update may start.
REST_STATES: Final = frozenset({State.IDLE, State.COMMITTED, State.ROLLED_BACK, State.FAILED})
#: States in which the new slot is active but not yet committed.
TRIAL_STATES: Final = frozenset({State.REBOOTING, State.HEALTH_CHECK})

TRANSITIONS: Final[dict[tuple[State, Event], State]] = {
    **{(s, Event.START): State.DOWNLOADING for s in REST_STATES},
    (State.DOWNLOADING, Event.UP_TO_DATE): State.IDLE,
    (State.DOWNLOADING, Event.DOWNLOADED): State.VERIFYING,
    (State.VERIFYING, Event.VERIFIED): State.INSTALLING,
    (State.INSTALLING, Event.INSTALLED): State.REBOOTING,
    (State.REBOOTING, Event.RESTARTED): State.HEALTH_CHECK,
    (State.HEALTH_CHECK, Event.HEALTHY): State.COMMITTED,
    **{(s, Event.REFUSED): State.FAILED for s in (State.DOWNLOADING, State.VERIFYING)},
    (State.INSTALLING, Event.REFUSED): State.FAILED,
    **{
        (s, Event.INTERRUPTED): State.FAILED
        for s in (State.DOWNLOADING, State.VERIFYING, State.INSTALLING)
    },
    **{(s, Event.REBOOTED): State.HEALTH_CHECK for s in TRIAL_STATES},
    **{(s, Event.UNHEALTHY): State.ROLLED_BACK for s in TRIAL_STATES},
    **{(s, Event.CRASH_LOOP): State.ROLLED_BACK for s in TRIAL_STATES},
}


def next_state(state: State, event: Event) -> State:
    """The table, as a function; StateError for a transition that is not in it."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise StateError(f"no transition from {state} on {event}") from None


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    """Everything needed to resume or undo an update after a kill."""

    state: State = State.IDLE
    active: Slot = Slot.A
    #: version installed in each slot; absent means empty (slot A empty = factory firmware)
    versions: dict[str, str] = field(default_factory=dict)
    #: the slot to return to while the active one is on trial
    previous: Slot | None = None
    target: str | None = None
    #: the minimum-version counter: nothing older is ever installed again
    floor: str = str(FACTORY_VERSION)
    boots: int = 0
    last_result: str = ""
    reason: str | None = None
    updated: str = ""

    def version_of(self, slot: Slot) -> Version:
        text = self.versions.get(slot.value)
        return Version.parse(text) if text else FACTORY_VERSION

    @property
    def running(self) -> Version:
        return self.version_of(self.active)

    def step(self, event: Event, **changes: Any) -> Self:
        """The record after ``event``: the table decides the state, the caller the rest."""
        return replace(self, state=next_state(self.state, event), updated=_now(), **changes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["active"] = self.active.value
        data["previous"] = self.previous.value if self.previous else None
        return data

    @classmethod
    def from_json(cls, data: object) -> Self:
        if not isinstance(data, dict):
            raise StateError("update state is not a JSON object")
        try:
            versions = data.get("versions", {})
            if not isinstance(versions, dict):
                raise TypeError("versions")
            for text in versions.values():
                Version.parse(text)
            Version.parse(data.get("floor", "0.0.0"))
            return cls(
                state=State(data["state"]),
                active=Slot(data["active"]),
                versions={Slot(k).value: str(v) for k, v in versions.items()},
                previous=Slot(data["previous"]) if data.get("previous") else None,
                target=data.get("target"),
                floor=str(data.get("floor", "0.0.0")),
                boots=int(data.get("boots", 0)),
                last_result=str(data.get("last_result", "")),
                reason=data.get("reason"),
                updated=str(data.get("updated", "")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise StateError(f"update state is invalid: {exc}") from exc


def load_record(path: Path) -> UpdateRecord:
    """The persisted record, or a fresh one if there is none yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return UpdateRecord()
    except OSError as exc:
        raise StateError(f"{path}: {exc.strerror or exc}") from exc
    try:
        return UpdateRecord.from_json(json.loads(raw))
    except ValueError as exc:
        raise StateError(f"{path}: not valid JSON ({exc})") from exc


def last_good_path(path: Path) -> Path:
    """The copy of the record kept beside it (``state.last-good.json``) for recovery."""
    return path.with_name(f"{path.stem}.last-good{path.suffix}")


def save_record(path: Path, record: UpdateRecord) -> None:
    """Atomic replace of the record, then of its last-good copy.

    A kill between the two leaves the copy one record behind, still whole; it is only read
    when the record itself was damaged from outside (:func:`firmware_update.boot.load_or_recover`).
    """
    data = json.dumps(record.to_json(), indent=2, sort_keys=True).encode() + b"\n"
    _atomic_write(path, data)
    _atomic_write(last_good_path(path), data)


def _atomic_write(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename, fsync the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
