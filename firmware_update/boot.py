"""The terminal at rest: provisioning, status, and what a start must do before the core runs.

``on_boot`` is the recovery half of the state machine: a kill before the A/B switch leaves the
old slot and a ``failed (interrupted)`` record; a kill after it counts a boot of the slot on
trial, and too many boots without a passing health check bring the previous slot back.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from tuf.api import exceptions as tuf_exc
from tuf.api.metadata import Metadata, Root

from firmware_update.errors import PackageError, Reason, StateError, UpdateRefused
from firmware_update.lock import update_lock
from firmware_update.machine import (
    TRIAL_STATES,
    Event,
    Slot,
    State,
    UpdateRecord,
    last_good_path,
    load_record,
    save_record,
)
from firmware_update.package import Manifest, verify_slot
from firmware_update.slots import Layout, journal_problem, latest_backup, restore_journal
from firmware_update.versions import FACTORY_VERSION

__all__ = [
    "DEFAULT_MAX_BOOTS",
    "BootInfo",
    "Health",
    "HealthCheck",
    "active_slot",
    "default_health_check",
    "load_or_recover",
    "on_boot",
    "read_status",
    "rolled_back",
    "trust",
]

DEFAULT_MAX_BOOTS: Final = 3

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BootInfo:
    """The slot the terminal must start on, and whether it is on trial (health check due)."""

    slot: Slot
    path: Path | None
    manifest: Manifest | None
    on_trial: bool
    record: UpdateRecord


HealthCheck = Callable[[Path | None, Manifest | None], Health | Awaitable[Health]]


def trust(data_dir: Path, root_json: bytes, *, replace_existing: bool = False) -> str:
    """Provision the terminal with a repository's root metadata; returns a one-line summary.

    The root must verify with its own keys (threshold). An already provisioned, different root
    is only replaced when asked, and then the cached metadata of the old repository goes too.
    """
    try:
        root: Metadata[Root] = Metadata.from_bytes(root_json)
        if not isinstance(root.signed, Root):
            raise ValueError(f"this is {root.signed.type} metadata, not root")
        root.signed.verify_delegate(Root.type, root.signed_bytes, root.signatures)
    except tuf_exc.UnsignedMetadataError as exc:
        raise UpdateRefused(Reason.BAD_SIGNATURE, f"root metadata: {exc}") from exc
    except Exception as exc:
        raise UpdateRefused(Reason.BAD_METADATA, f"not usable root metadata: {exc}") from exc
    layout = Layout(data_dir)
    if layout.trusted_root.exists():
        if layout.trusted_root.read_bytes() == root_json:
            return f"already trusted: root version {root.signed.version}"
        if not replace_existing:
            raise UpdateRefused(
                Reason.NOT_PROVISIONED,
                f"{layout.trusted_root} already trusts another root; use --replace to change it",
            )
        shutil.rmtree(layout.metadata, ignore_errors=True)
    layout.root.mkdir(parents=True, exist_ok=True)
    tmp = layout.trusted_root.with_name(".trusted-root.json.tmp")
    tmp.write_bytes(root_json)
    tmp.replace(layout.trusted_root)
    keys = ", ".join(f"{role} {len(r.keyids)} key(s)" for role, r in root.signed.roles.items())
    return f"trusted root version {root.signed.version} ({keys})"


def read_status(data_dir: Path) -> dict[str, Any]:
    """Slots, versions, active slot, state and last result; read-only."""
    layout = Layout(data_dir)
    record = load_or_recover(layout)
    slots = {}
    for slot in Slot:
        path = layout.slot(slot)
        entry: dict[str, Any] = {"version": str(record.version_of(slot))}
        if path.is_dir():
            try:
                manifest = verify_slot(path)
                entry["changelog"] = manifest.changelog.strip().splitlines()[:3]
                entry["bootable"] = True
            except PackageError as exc:
                entry["bootable"] = False
                entry["problem"] = str(exc)
        else:
            entry["bootable"] = slot is Slot.A and not record.versions.get(slot.value)
            entry["empty"] = True
        slots[slot.value] = entry
    return {
        "provisioned": layout.trusted_root.exists(),
        "active": record.active.value,
        "running": str(record.running),
        "state": record.state.value,
        "floor": record.floor,
        "target": record.target,
        "boots": record.boots,
        "last_result": record.last_result,
        "reason": record.reason,
        "updated": record.updated,
        "slots": slots,
    }


def load_or_recover(layout: Layout) -> UpdateRecord:
    """The update record; a damaged one is recovered so that the terminal stays bootable.

    The record is only ever replaced atomically, so damage comes from outside (a disk error, a
    person). The damaged file is kept as ``state.json.damaged``; the record comes back from its
    last-good copy, or, when that is damaged too, from the slots themselves: the newest slot
    whose files verify against its manifest becomes the active one (none: factory firmware on
    slot A). A missing record is damage too once a slot was installed or a copy exists.
    Either way ``reason`` says ``state-recovered`` and ``last_result`` says how.
    """
    copy = last_good_path(layout.state)
    if not layout.state.exists():
        installed = any(layout.slot(slot).is_dir() for slot in Slot)
        if not (copy.exists() or installed):
            return UpdateRecord()  # never updated: factory firmware on slot A
        damage, kept = "missing", "nothing to keep"
    else:
        try:
            return load_record(layout.state)
        except StateError as exc:
            damage = str(exc)
        aside = layout.state.with_name(layout.state.name + ".damaged")
        try:
            os.replace(layout.state, aside)
        except OSError:
            raise StateError(damage) from None  # unreadable rather than damaged: say so
        kept = f"kept as {aside.name}"
    try:
        if not copy.exists():
            raise StateError(f"{copy} is missing")
        record = load_record(copy)
        how = f"restored from {copy.name}"
    except StateError as copy_damage:
        record = _record_from_slots(layout)
        how = (
            f"rebuilt from the slots ({copy_damage}): slot {record.active.value.upper()} "
            f"with {record.running}"
        )
    record = replace(
        record,
        reason=Reason.STATE_RECOVERED.value,
        last_result=f"{layout.state.name} was damaged ({damage}; {kept}); {how}",
    )
    save_record(layout.state, record)
    _LOG.warning("firmware: %s", record.last_result)
    return record


def _record_from_slots(layout: Layout) -> UpdateRecord:
    """A record for what is on disk: the newest verifying slot, at rest, nothing older after."""
    versions = {}
    for slot in Slot:
        path = layout.slot(slot)
        if path.is_dir():
            try:
                versions[slot] = verify_slot(path).version
            except PackageError:
                continue  # not bootable: never chosen (and left as it is for a look)
    if not versions:
        return UpdateRecord(state=State.IDLE)  # slot A empty = factory firmware
    active = max(versions, key=lambda s: versions[s])
    return UpdateRecord(
        state=State.IDLE,
        active=active,
        versions={s.value: str(v) for s, v in versions.items()},
        floor=str(max(versions[active], FACTORY_VERSION)),
    )


def on_boot(
    data_dir: Path, *, max_boots: int = DEFAULT_MAX_BOOTS, lock_held: bool = False
) -> BootInfo:
    """Call before starting the terminal core: finish or undo what a kill interrupted.

    Before the switch (downloading, verifying, installing) the old slot was never touched: the
    record becomes ``failed (interrupted)``. After the switch a start counts as a boot of the
    slot on trial; more than ``max_boots`` of them without a health check is a crash loop, and
    the previous slot comes back. An update still alive in another process (it holds the
    update lock; ``lock_held``: the caller is that updater) is not interrupted.
    """
    layout = Layout(data_dir)
    record = load_or_recover(layout)
    if record.state in (State.DOWNLOADING, State.VERIFYING, State.INSTALLING):
        if not lock_held:
            with update_lock(layout) as free:
                if free:
                    record = _interrupted(layout, record)
        else:
            record = _interrupted(layout, record)
    elif record.state in TRIAL_STATES:
        boots = record.boots + 1
        if boots > max_boots:
            record = rolled_back(
                layout,
                record,
                Event.CRASH_LOOP,
                Reason.CRASH_LOOP,
                f"{record.running} did not pass its health check in {max_boots} starts",
            )
        else:
            record = record.step(Event.REBOOTED, boots=boots)
        save_record(layout.state, record)
    return _boot_info(layout, record)


def _interrupted(layout: Layout, record: UpdateRecord) -> UpdateRecord:
    """A kill before the switch: the old slot was never touched, drop what was staged."""
    layout.clean_staging()
    versions = dict(record.versions)
    if record.state is State.INSTALLING:
        versions.pop(record.active.other.value, None)
        shutil.rmtree(layout.slot(record.active.other), ignore_errors=True)
    record = record.step(
        Event.INTERRUPTED,
        versions=versions,
        reason=Reason.INTERRUPTED.value,
        last_result=f"interrupted while {record.state.value}; still running {record.running}",
    )
    save_record(layout.state, record)
    return record


def active_slot(data_dir: Path) -> BootInfo:
    """The slot to run on, read-only (a restart of the core within one process)."""
    layout = Layout(data_dir)
    return _boot_info(layout, load_or_recover(layout))


def _boot_info(layout: Layout, record: UpdateRecord) -> BootInfo:
    path = layout.slot(record.active)
    manifest = verify_slot(path) if path.is_dir() else None
    return BootInfo(
        slot=record.active,
        path=path if manifest else None,
        manifest=manifest,
        on_trial=record.state in TRIAL_STATES,
        record=record,
    )


def rolled_back(
    layout: Layout, record: UpdateRecord, event: Event, reason: Reason, why: str
) -> UpdateRecord:
    back = record.previous or record.active.other
    failed = record.running
    problem = journal_problem(layout.journal)
    note = ""
    if problem:
        backup = latest_backup(layout)
        if backup is not None:
            restore_journal(layout, backup)
            note = f"; journal restored from {backup.name} ({problem})"
    return record.step(
        event,
        active=back,
        previous=None,
        boots=0,
        reason=reason.value,
        last_result=f"rolled back from {failed} to {record.version_of(back)}: {why}{note}",
    )


def default_health_check(data_dir: Path) -> HealthCheck:
    """What a terminal without a running core can check: the slot is intact, the journal reads."""

    def check(path: Path | None, manifest: Manifest | None) -> Health:
        if path is not None:
            try:
                verify_slot(path)
            except PackageError as exc:
                return Health(False, str(exc))
        problem = journal_problem(Layout(data_dir).journal)
        return Health(problem is None, problem or "")

    return check
