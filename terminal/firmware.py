"""Glue between the installed firmware slot and the terminal core: applied when the core starts.

``firmware_update`` knows nothing of the terminal; this module is the one place that reads the
active slot's parameters (receipt header/footer, test-card catalogue) and turns them into
terminal settings. At the first start in a process it also lets ``firmware_update.on_boot``
finish or undo an update a kill interrupted (and count the boot of a slot on trial); later
restarts in the same process only read the active slot. A terminal that never
received firmware pays nothing: no firmware state, no import of python-tuf.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from terminal.config import TerminalConfig

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from firmware_update import Updater

__all__ = [
    "ActiveFirmware",
    "RuntimeLike",
    "apply_firmware",
    "load_active_firmware",
    "runtime_updater",
    "tui_update_starter",
]


_LOG = logging.getLogger("posemu.firmware")


class RuntimeLike(Protocol):
    """What the wiring needs of ``terminal.runtime.TerminalRuntime`` (which imports this module,
    so it is described here rather than imported)."""

    store: Any
    engine: Any

    def idle(self) -> AbstractAsyncContextManager[Any]: ...

    async def restart(self, new_config: Any = None) -> None: ...


@dataclass(frozen=True, slots=True)
class ActiveFirmware:
    version: str
    slot: str | None
    params: dict[str, Any]
    on_trial: bool = False  # installed but not yet committed: a health check is due


#: Data directories whose boot recovery ran in this process: a later core restart (parameters,
#: an A/B switch) only reads the active slot, it is not a boot of the terminal.
_booted: set[Path] = set()


def load_active_firmware(data_dir: Path) -> ActiveFirmware | None:
    """The active slot's version and parameters, or None when no firmware was ever installed.

    A slot that fails its re-check (files changed since install) is logged and ignored: the
    terminal starts on its settings alone rather than not at all.
    """
    firmware = data_dir / "firmware"
    if not any((firmware / name).exists() for name in ("state.json", "state.last-good.json")):
        return None
    from firmware_update import FirmwareError, active_slot, on_boot

    key = data_dir.resolve()
    try:
        info = active_slot(data_dir) if key in _booted else on_boot(data_dir)
    except FirmwareError as exc:
        _LOG.warning("firmware in %s not applied: %s", data_dir, exc)
        return None
    _booted.add(key)
    manifest = info.manifest
    return ActiveFirmware(
        version=str(manifest.version) if manifest else "0.0.0",
        slot=info.slot.value,
        params=dict(manifest.params) if manifest else {},
        on_trial=info.on_trial,
    )


def apply_firmware(config: TerminalConfig, data_dir: Path) -> TerminalConfig:
    """``config`` with the active firmware's parameters; unchanged without firmware.

    The firmware's parameters are the provider's: a receipt header or footer in the package
    replaces the one in the settings, as a provider's update does on a real terminal.
    """
    firmware = load_active_firmware(data_dir)
    if firmware is None:
        return config
    changes: dict[str, Any] = {}
    for name in ("receipt_header", "receipt_footer"):
        lines = firmware.params.get(name)
        if lines:
            changes[name] = tuple(lines)
    return config.with_(**changes) if changes else config


def runtime_updater(runtime: RuntimeLike, repo_url: str, **options: Any) -> Updater:
    """A ``firmware_update.Updater`` wired to a running terminal (the agent's ``update``).

    Installs wait for ``runtime.idle()`` (no update during a transaction); the switch restarts
    the core in-process, which re-reads the active slot's parameters; the health check wants
    the journal readable and a sign-on to the host approved. ``options`` go to ``Updater``
    (progress, on_state, model, health_timeout, ...).
    """
    from firmware_update import Health, Updater, default_health_check

    data_dir = runtime.store.data_dir
    basic = default_health_check(data_dir)

    async def restart(slot: Path | None, manifest: Any) -> None:
        await runtime.restart()

    async def health_check(slot: Path | None, manifest: Any) -> Health:
        health = basic(slot, manifest)
        if not health.ok:
            return health
        result = await runtime.engine.signon()
        if not result.approved:
            return Health(False, f"sign-on to the host failed: {result.error or 'declined'}")
        return Health(True)

    return Updater(
        data_dir, repo_url, idle=runtime.idle, restart=restart, health_check=health_check, **options
    )


def tui_update_starter(runtime: RuntimeLike, repo_url: str, **options: Any) -> Any:
    """``start(progress)`` for ``terminal.tui.screens.firmware.FirmwareScreen``."""

    async def start(progress: Any) -> tuple[bool, str]:
        updater = runtime_updater(
            runtime,
            repo_url,
            progress=lambda state, done, total: progress(state.value, done, total),
            on_state=lambda record: progress(record.state.value, 0, 0),
            **options,
        )
        outcome = await updater.run()
        return outcome.ok, outcome.message

    return start
