"""The terminal side: check, download, verify, install into A/B, restart, health-check, commit.

The orchestrator: the rules live in machine.py (transitions), package.py (archives), boot.py
(recovery at start) and python-tuf (metadata and target verification). The caller supplies
three seams:

* ``idle()``: an async context manager held from install to the restart, so no update starts during
  a transaction (one that arrives waits for it);
* ``restart(slot_dir, manifest)``: restarts the terminal core in-process on the given slot;
* ``health_check(slot_dir, manifest)``: returns :class:`Health` (devices, sign-on, journal).

Callbacks may be plain functions or coroutines. Progress callbacks run on a worker thread
during the download; a UI must hop to its own loop (Textual: ``post_message`` is thread-safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from tuf.api import exceptions as tuf_exc
from tuf.api.metadata import TargetFile
from tuf.ngclient import Updater as TufUpdater

from firmware_update.boot import (
    DEFAULT_MAX_BOOTS,
    Health,
    HealthCheck,
    default_health_check,
    load_or_recover,
    on_boot,
    rolled_back,
)
from firmware_update.errors import (
    FirmwareError,
    PackageError,
    Reason,
    UpdateRefused,
    refusal_from_tuf,
)
from firmware_update.fetcher import ResumableFetcher
from firmware_update.lock import update_lock
from firmware_update.machine import (
    REST_STATES,
    TRIAL_STATES,
    Event,
    State,
    UpdateRecord,
    save_record,
)
from firmware_update.package import Manifest, read_manifest, verify_slot
from firmware_update.publish import RELEASES
from firmware_update.slots import Layout, backup_journal, install_slot
from firmware_update.versions import Version

__all__ = ["DEFAULT_MAX_SIZE", "DEFAULT_MODEL", "Outcome", "Release", "Updater"]

DEFAULT_MODEL: Final = "posemu"
DEFAULT_MAX_SIZE: Final = 256 << 20


@dataclass(frozen=True, slots=True)
class Release:
    """One entry of the signed releases.json."""

    target: str
    version: Version
    min_version: Version | None
    models: tuple[str, ...]
    length: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an update run ended with; ``ok`` is False for refusals, failures and rollbacks."""

    state: State
    running: Version
    message: str
    reason: Reason | None = None
    target: Version | None = None

    @property
    def ok(self) -> bool:
        return self.state in (State.IDLE, State.COMMITTED)


Restart = Callable[[Path | None, Manifest | None], Awaitable[None] | None]
ProgressCallback = Callable[[State, int, int], None]
StateCallback = Callable[[UpdateRecord], None]


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    result = func(*args)
    if inspect.isawaitable(result):
        return await result
    return result


@contextlib.asynccontextmanager
async def _always_idle() -> AsyncIterator[None]:
    yield


# --- the update run ----------------------------------------------------------------------------
class Updater:
    """One terminal's updater. ``await Updater(...).run()`` does one complete update attempt."""

    def __init__(
        self,
        data_dir: Path,
        repo_url: str,
        *,
        model: str = DEFAULT_MODEL,
        restart: Restart | None = None,
        health_check: HealthCheck | None = None,
        health_timeout: float = 30.0,
        idle: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
        progress: ProgressCallback | None = None,
        on_state: StateCallback | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
        max_boots: int = DEFAULT_MAX_BOOTS,
        retries: int = 3,
        timeout: float = 30.0,
    ) -> None:
        self.layout = Layout(data_dir)
        self.repo_url = repo_url.rstrip("/")
        self.model = model
        self._restart = restart
        self._health = health_check or default_health_check(data_dir)
        self.health_timeout = health_timeout
        self._idle = idle or _always_idle
        self._progress = progress
        self._on_state = on_state
        self.max_size = max_size
        self.max_boots = max_boots
        self.fetcher = ResumableFetcher(
            partial_dir=self.layout.partial,
            resume_prefix=f"{self.repo_url}/targets/",
            retries=retries,
            timeout=timeout,
            progress=self._download_progress,
        )

    # --- state bookkeeping -------------------------------------------------------------------
    def _save(self, record: UpdateRecord) -> UpdateRecord:
        save_record(self.layout.state, record)
        if self._on_state is not None:
            self._on_state(record)
        return record

    def _download_progress(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(State.DOWNLOADING, done, total)

    def _outcome(self, record: UpdateRecord) -> Outcome:
        reason = Reason(record.reason) if record.reason else None
        target = Version.parse(record.target) if record.target else None
        return Outcome(record.state, record.running, record.last_result, reason, target)

    # --- TUF ---------------------------------------------------------------------------------
    def _tuf(self) -> TufUpdater:
        try:
            bootstrap = self.layout.trusted_root.read_bytes()
        except FileNotFoundError:
            raise UpdateRefused(
                Reason.NOT_PROVISIONED,
                f"no trusted root in {self.layout.root} (run `posemu firmware trust`)",
            ) from None
        self.layout.metadata.mkdir(parents=True, exist_ok=True)
        self.layout.downloads.mkdir(parents=True, exist_ok=True)
        try:
            return TufUpdater(
                metadata_dir=str(self.layout.metadata),
                metadata_base_url=f"{self.repo_url}/metadata/",
                target_dir=str(self.layout.downloads),
                target_base_url=f"{self.repo_url}/targets/",
                fetcher=self.fetcher,
                bootstrap=bootstrap,
            )
        except (tuf_exc.RepositoryError, ValueError) as exc:
            raise UpdateRefused(Reason.BAD_METADATA, f"trusted root: {exc}") from exc

    def _guard(self, tuf: Callable[[], Any], what: str) -> Any:
        try:
            return tuf()
        except (tuf_exc.RepositoryError, tuf_exc.DownloadError) as exc:
            raise refusal_from_tuf(exc, what) from exc
        except ValueError as exc:  # e.g. a metadata file that is not JSON
            raise UpdateRefused(Reason.BAD_METADATA, f"{what}: {exc}") from exc

    def _releases(self, tuf: TufUpdater) -> list[Release]:
        info = self._guard(lambda: tuf.get_targetinfo(RELEASES), "repository metadata")
        if info is None:
            return []
        cached = tuf.find_cached_target(info)
        path = cached or self._guard(lambda: tuf.download_target(info), RELEASES)
        try:
            doc = json.loads(Path(path).read_bytes())
            return [
                Release(
                    target=str(r["target"]),
                    version=Version.parse(r["version"]),
                    min_version=Version.parse(r["min_version"]) if r.get("min_version") else None,
                    models=tuple(r.get("models") or ()),
                    length=int(r["length"]),
                )
                for r in doc["releases"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise UpdateRefused(Reason.BAD_METADATA, f"{RELEASES}: {exc}") from exc

    def check(self) -> Release | None:
        """The newest release for this model if it differs from the running version (blocking)."""
        return self._check(self._tuf())[0]

    def _check(self, tuf: TufUpdater) -> tuple[Release | None, Any]:
        record = load_or_recover(self.layout)
        fitting = [r for r in self._releases(tuf) if not r.models or self.model in r.models]
        if not fitting:
            return None, None
        release = fitting[-1]  # the most recently published release for this model
        if release.version == record.running:
            return None, None
        info = self._guard(lambda: tuf.get_targetinfo(release.target), release.target)
        if info is None:
            raise UpdateRefused(Reason.BAD_METADATA, f"{release.target} is not a signed target")
        custom = info.custom or {}
        if custom.get("version") != str(release.version):
            raise UpdateRefused(
                Reason.BAD_METADATA,
                f"{release.target}: signed version {custom.get('version')} "
                f"but releases.json says {release.version}",
            )
        self._refuse_downgrade(record, release.version)
        if info.length > self.max_size:
            raise UpdateRefused(
                Reason.TOO_LARGE,
                f"{release.target} is {info.length} bytes, over the limit of {self.max_size}",
            )
        return release, info

    def _refuse_downgrade(self, record: UpdateRecord, version: Version) -> None:
        floor = Version.parse(record.floor)
        if version < floor:
            raise UpdateRefused(
                Reason.DOWNGRADE,
                f"{version} is older than the minimum version {floor} this terminal accepts",
            )
        if version < record.running:
            raise UpdateRefused(
                Reason.DOWNGRADE, f"{version} is older than the running {record.running}"
            )

    def _download(self, tuf: TufUpdater, info: TargetFile) -> Path:
        """The package, verified against the signed length and hashes (TUF-verified ``info``)."""
        dest = self.layout.downloads / quote(info.path, "")
        cached = tuf.find_cached_target(info, str(dest))
        if cached:
            return Path(cached)
        # consistent snapshot (our publisher always uses it): the URL names the file's hash
        dirname, sep, basename = info.path.rpartition("/")
        url = f"{self.repo_url}/targets/{dirname}{sep}{info.hashes['sha256']}.{basename}"
        return self._guard(lambda: self.fetcher.download_target(url, info, dest), info.path)

    def _prune_downloads(self, keep: Path) -> None:
        """Older packages and abandoned partial downloads go: a terminal's storage is small,
        and what is installed lives in its slot (run under the update lock)."""
        for old in self.layout.downloads.glob("*.tar.gz"):
            if old.name != keep.name:
                old.unlink(missing_ok=True)
        if self.layout.partial.is_dir():
            for part in self.layout.partial.glob("*.part"):
                part.unlink(missing_ok=True)

    def _verify(self, archive: Path, release: Release) -> Manifest:
        try:
            manifest = read_manifest(archive)
        except PackageError as exc:
            raise UpdateRefused(Reason.BAD_PACKAGE, str(exc)) from exc
        if manifest.version != release.version:
            raise UpdateRefused(
                Reason.BAD_PACKAGE,
                f"package says {manifest.version}, signed metadata says {release.version}",
            )
        if not manifest.fits(self.model):
            raise UpdateRefused(
                Reason.WRONG_MODEL, f"{manifest.version} is for {', '.join(manifest.models)}"
            )
        self._refuse_downgrade(load_or_recover(self.layout), manifest.version)
        return manifest

    # --- the run -----------------------------------------------------------------------------
    async def run(self) -> Outcome:
        """Recover from a previous kill, then one update attempt. Never raises a refusal.

        One at a time per data directory (across processes): a second run answers busy."""
        with update_lock(self.layout) as mine:
            if not mine:
                record = load_or_recover(self.layout)
                return Outcome(
                    record.state, record.running, "an update is already running", Reason.BUSY
                )
            return await self._run()

    async def _run(self) -> Outcome:
        boot = await asyncio.to_thread(
            on_boot, self.layout.data_dir, max_boots=self.max_boots, lock_held=True
        )
        if boot.on_trial:
            record = await self.finish_trial()
            if record.state is not State.COMMITTED:
                return self._outcome(record)
        record = load_or_recover(self.layout)
        if record.state not in REST_STATES:
            return Outcome(
                record.state, record.running, "an update is already running", Reason.BUSY
            )
        record = self._save(record.step(Event.START, target=None, reason=None, boots=0))
        try:
            tuf = await asyncio.to_thread(self._tuf)
            release, info = await asyncio.to_thread(self._check, tuf)
            if release is None:
                msg = f"up to date: running {record.running}"
                return self._outcome(self._save(record.step(Event.UP_TO_DATE, last_result=msg)))
            record = self._save(replace(record, target=str(release.version)))
            archive = await asyncio.to_thread(self._download, tuf, info)
            await asyncio.to_thread(self._prune_downloads, archive)
            record = self._save(record.step(Event.DOWNLOADED))
            manifest = await asyncio.to_thread(self._verify, archive, release)
        except UpdateRefused as refusal:
            return self._outcome(self._refused(refusal))
        # an update that arrives during a transaction waits here, still "verifying"
        # install, switch and restart never overlap a transaction; the health check may (it
        # signs on through the restarted core, which would otherwise wait for the gate)
        async with self._idle():
            record = self._save(record.step(Event.VERIFIED))
            record = await self._install_and_restart(record, archive, manifest)
        if record.state in TRIAL_STATES:
            record = await self.finish_trial()
        return self._outcome(record)

    def _refused(self, refusal: UpdateRefused) -> UpdateRecord:
        record = load_or_recover(self.layout)
        return self._save(
            record.step(
                Event.REFUSED,
                reason=refusal.reason.value,
                last_result=f"{refusal}; still running {record.running}",
            )
        )

    async def _install_and_restart(
        self, record: UpdateRecord, archive: Path, manifest: Manifest
    ) -> UpdateRecord:
        new = record.active.other
        try:
            await asyncio.to_thread(backup_journal, self.layout, str(manifest.version))
            if self._progress is not None:
                self._progress(State.INSTALLING, 0, 1)
            await asyncio.to_thread(install_slot, self.layout, new, archive)
            if self._progress is not None:
                self._progress(State.INSTALLING, 1, 1)
        except (OSError, FirmwareError) as exc:
            self.layout.clean_staging()
            refusal = UpdateRefused(Reason.INSTALL_FAILED, f"{manifest.version}: {exc}")
            return self._refused(refusal)
        versions = {**record.versions, new.value: str(manifest.version)}
        record = self._save(
            record.step(Event.INSTALLED, active=new, previous=record.active, versions=versions)
        )
        slot = self.layout.slot(new)
        try:
            if self._restart is not None:
                await _call(self._restart, slot, manifest)
        except Exception as exc:
            return await self._roll_back(record, Reason.RESTART_FAILED, f"restart failed: {exc}")
        return self._save(record.step(Event.RESTARTED))

    async def finish_trial(self) -> UpdateRecord:
        """Health-check the slot on trial within the time limit; commit or roll back."""
        record = load_or_recover(self.layout)
        if record.state not in TRIAL_STATES:
            return record
        if record.state is State.REBOOTING:
            record = self._save(record.step(Event.REBOOTED))
        slot = self.layout.slot(record.active)
        path = slot if slot.is_dir() else None
        try:
            manifest = verify_slot(slot) if path else None
            health = await asyncio.wait_for(
                _call(self._health, path, manifest), self.health_timeout
            )
            if isinstance(health, bool):
                health = Health(health, "" if health else "health check said no")
        except TimeoutError:
            why = f"health check did not finish within {self.health_timeout:g} s"
            return await self._roll_back(record, Reason.HEALTH_CHECK_TIMEOUT, why)
        except Exception as exc:
            health = Health(False, f"health check failed: {exc}")
        if not health.ok:
            return await self._roll_back(record, Reason.HEALTH_CHECK_FAILED, health.reason)
        version = record.running
        floor = max(Version.parse(record.floor), version)
        if manifest is not None and manifest.min_version is not None:
            floor = max(floor, manifest.min_version)
        previous = record.version_of(record.previous) if record.previous else None
        was = f" (was {previous})" if previous is not None else ""
        return self._save(
            record.step(
                Event.HEALTHY,
                previous=None,
                boots=0,
                floor=str(floor),
                reason=None,
                last_result=f"committed {version}{was}",
            )
        )

    async def _roll_back(self, record: UpdateRecord, reason: Reason, why: str) -> UpdateRecord:
        record = self._save(rolled_back(self.layout, record, Event.UNHEALTHY, reason, why))
        if self._restart is not None:
            slot = self.layout.slot(record.active)
            path = slot if slot.is_dir() else None
            with contextlib.suppress(Exception):
                await _call(self._restart, path, verify_slot(slot) if path else None)
        return record
