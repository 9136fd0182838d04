"""One error tree for firmware updates; every refusal names its reason.

::

    FirmwareError
    ├── PackageError        a package archive that is malformed or unsafe to unpack
    ├── PublishError        the publishing side cannot do what was asked (keys, repository)
    ├── StateError          the persisted update state is unreadable
    └── UpdateRefused       the terminal refuses an update; ``reason`` is a closed enum

``UpdateRefused`` is what a user sees as one line, ``refused (<reason>): <detail>``. TUF's own
exceptions are translated into it by :func:`refusal_from_tuf` at the boundary, so callers never
need to know python-tuf's exception tree.
"""

from __future__ import annotations

from enum import StrEnum

from tuf.api import exceptions as tuf_exc

__all__ = [
    "FirmwareError",
    "PackageError",
    "PublishError",
    "Reason",
    "StateError",
    "UpdateRefused",
    "refusal_from_tuf",
]


class Reason(StrEnum):
    """Why an update was refused, failed or rolled back (stable codes for --json and the agent)."""

    NOT_PROVISIONED = "not-provisioned"
    BAD_SIGNATURE = "bad-signature"
    HASH_MISMATCH = "hash-mismatch"
    EXPIRED_METADATA = "expired-metadata"
    REPLAYED_METADATA = "replayed-metadata"
    BAD_METADATA = "bad-metadata"
    DOWNGRADE = "downgrade"
    TOO_LARGE = "too-large"
    WRONG_MODEL = "wrong-model"
    BAD_PACKAGE = "bad-package"
    DOWNLOAD_FAILED = "download-failed"
    INSTALL_FAILED = "install-failed"
    RESTART_FAILED = "restart-failed"
    HEALTH_CHECK_FAILED = "health-check-failed"
    HEALTH_CHECK_TIMEOUT = "health-check-timeout"
    CRASH_LOOP = "crash-loop"
    INTERRUPTED = "interrupted"
    BUSY = "busy"
    STATE_RECOVERED = "state-recovered"  # the update record was damaged from outside


#: Reasons that are trouble rather than a verdict on the package: reported as "failed".
_OPERATIONAL = frozenset(
    {Reason.DOWNLOAD_FAILED, Reason.INSTALL_FAILED, Reason.INTERRUPTED, Reason.BUSY}
)


class FirmwareError(Exception):
    """Base of every error this package raises on purpose."""


class PackageError(FirmwareError):
    """A package archive is malformed, inconsistent or unsafe; ``member`` names the culprit."""

    def __init__(self, message: str, member: str | None = None) -> None:
        self.member = member
        super().__init__(f"{member}: {message}" if member else message)


class PublishError(FirmwareError):
    """Publishing failed before anything in the repository was changed."""


class StateError(FirmwareError):
    """The persisted update state cannot be read."""


class UpdateRefused(FirmwareError):
    """The terminal refused (or undid) an update; the running version is untouched."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        verb = "failed" if reason in _OPERATIONAL else "refused"
        super().__init__(f"{verb} ({reason.value}): {detail}")


def refusal_from_tuf(exc: Exception, what: str) -> UpdateRefused:
    """Name the reason behind a python-tuf exception raised while fetching ``what``."""
    detail = f"{what}: {exc}" if str(exc) else what
    # Order matters: the more specific classes first.
    table: tuple[tuple[type[Exception], Reason], ...] = (
        (tuf_exc.UnsignedMetadataError, Reason.BAD_SIGNATURE),
        (tuf_exc.ExpiredMetadataError, Reason.EXPIRED_METADATA),
        (tuf_exc.BadVersionNumberError, Reason.REPLAYED_METADATA),
        (tuf_exc.LengthOrHashMismatchError, Reason.HASH_MISMATCH),
        (tuf_exc.DownloadLengthMismatchError, Reason.TOO_LARGE),
        (tuf_exc.DownloadError, Reason.DOWNLOAD_FAILED),
        (tuf_exc.RepositoryError, Reason.BAD_METADATA),
    )
    for cls, reason in table:
        if isinstance(exc, cls):
            return UpdateRefused(reason, _explain(reason, detail))
    return UpdateRefused(Reason.BAD_METADATA, detail)


def _explain(reason: Reason, detail: str) -> str:
    prefix = {
        Reason.BAD_SIGNATURE: "metadata not signed by the trusted keys",
        Reason.EXPIRED_METADATA: "repository metadata has expired",
        Reason.REPLAYED_METADATA: "older metadata than already trusted (replay or rollback)",
        Reason.HASH_MISMATCH: "downloaded bytes do not match the signed length and hashes",
        Reason.TOO_LARGE: "server sent more than the signed length",
    }.get(reason)
    return f"{prefix} ({detail})" if prefix else detail
