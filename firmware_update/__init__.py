"""Signed A/B firmware updates that cannot brick, downgrade or be forged.

Standalone: imports nothing else of posemu. Publishing (:mod:`firmware_update.publish`) signs
packages with python-tuf's Metadata API; the terminal (:class:`Updater`) verifies with
python-tuf's ngclient, installs into the inactive of two slots, restarts, health-checks and
commits or rolls back. See docs/firmware.md.
"""

from firmware_update.boot import (
    BootInfo,
    Health,
    active_slot,
    default_health_check,
    load_or_recover,
    on_boot,
    read_status,
    trust,
)
from firmware_update.errors import (
    FirmwareError,
    PackageError,
    PublishError,
    Reason,
    StateError,
    UpdateRefused,
)
from firmware_update.machine import State
from firmware_update.updater import Outcome, Release, Updater
from firmware_update.versions import Version

__all__ = [
    "BootInfo",
    "FirmwareError",
    "Health",
    "Outcome",
    "PackageError",
    "PublishError",
    "Reason",
    "Release",
    "State",
    "StateError",
    "UpdateRefused",
    "Updater",
    "Version",
    "active_slot",
    "default_health_check",
    "load_or_recover",
    "on_boot",
    "read_status",
    "trust",
]
