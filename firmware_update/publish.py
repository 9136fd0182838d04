"""The publishing side: a TUF repository of firmware packages, via python-tuf's Metadata API.

::

    REPODIR/metadata/1.root.json, root.json     the root of trust (provisioned on terminals)
    REPODIR/metadata/N.targets.json             which packages exist, their lengths and hashes
    REPODIR/metadata/N.snapshot.json            which targets metadata is current
    REPODIR/metadata/timestamp.json             which snapshot is current (short expiry)
    REPODIR/targets/<sha256>.<name>             packages and releases.json (consistent snapshot)

``releases.json`` is itself a signed target: the ordered list of releases, so a terminal learns
what is newest for its model through TUF and through nothing else. Every publish writes the
package first and timestamp.json last, so a terminal polling mid-publish sees the old state.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from firmware_update.errors import PublishError
from firmware_update.keys import ROLES
from firmware_update.package import Manifest

__all__ = ["RELEASES", "Expiry", "Publisher", "package_target_name"]

RELEASES: Final = "releases.json"
SPEC_VERSION: Final = "1.0.31"


@dataclass(frozen=True, slots=True)
class Expiry:
    """How long each role's signature stays valid; timestamp is short to stop freeze attacks."""

    root: timedelta = timedelta(days=365)
    targets: timedelta = timedelta(days=90)
    snapshot: timedelta = timedelta(days=30)
    timestamp: timedelta = timedelta(days=7)


def package_target_name(version: str) -> str:
    return f"posemu-firmware-{version}.tar.gz"


class Publisher:
    """Adds packages to a repository directory and re-signs what must be re-signed."""

    def __init__(
        self,
        repo_dir: Path,
        signers: dict[str, CryptoSigner],
        *,
        now: datetime | None = None,
        expiry: Expiry = Expiry(),
    ) -> None:
        self.repo_dir = repo_dir
        self.meta_dir = repo_dir / "metadata"
        self.targets_dir = repo_dir / "targets"
        self._signers = signers
        self._now = (now or datetime.now(UTC)).replace(microsecond=0)
        self._expiry = expiry
        self._serializer = JSONSerializer(compact=False)

    # --- reading the current state --------------------------------------------------------
    def _load(self, role: str) -> Metadata[Any]:
        try:
            return Metadata.from_file(str(self.meta_dir / f"{role}.json"))
        except Exception as exc:
            raise PublishError(f"{self.meta_dir / role}.json: unreadable ({exc})") from exc

    def _root(self) -> Metadata[Root]:
        if (self.meta_dir / "root.json").exists():
            root: Metadata[Root] = self._load("root")
            self._check_keys(root.signed)
            return root
        if self.repo_dir.exists() and any(self.repo_dir.iterdir()) and not self.meta_dir.exists():
            raise PublishError(f"{self.repo_dir}: exists and is not a firmware repository")
        root = Metadata(Root(expires=self._now + self._expiry.root, consistent_snapshot=True))
        root.signed.spec_version = SPEC_VERSION
        for role in ROLES:
            root.signed.add_key(self._signers[role].public_key, role)
        root.sign(self._signers["root"])
        self._write(root, "root", versioned=True)
        return root

    def _check_keys(self, root: Root) -> None:
        for role in ROLES:
            keyid = self._signers[role].public_key.keyid
            if keyid not in root.roles[role].keyids:
                raise PublishError(
                    f"the {role} key in the key directory is not the one "
                    f"{self.meta_dir / 'root.json'} trusts"
                )

    def releases(self) -> list[dict[str, Any]]:
        """The published releases, oldest first (empty for a new repository)."""
        if not (self.meta_dir / "targets.json").exists():
            return []
        targets: Metadata[Targets] = self._load("targets")
        info = targets.signed.targets.get(RELEASES)
        if info is None:
            return []
        path = self.targets_dir / f"{info.hashes['sha256']}.{RELEASES}"
        return list(json.loads(path.read_bytes())["releases"])

    # --- publishing ------------------------------------------------------------------------
    def publish(self, package: Path, manifest: Manifest) -> TargetFile:
        """Add ``package`` (built by :func:`build_package`) as the newest release."""
        root = self._root()
        releases = self.releases()
        name = package_target_name(str(manifest.version))
        if any(r["version"] == str(manifest.version) for r in releases):
            raise PublishError(f"version {manifest.version} is already published; pick a new one")
        if (self.meta_dir / "targets.json").exists():
            targets: Metadata[Targets] = self._load("targets")
        else:
            targets = Metadata(Targets(version=1, expires=self._now))
            targets.signed.version = 0  # bumped to 1 below
            targets.signed.spec_version = SPEC_VERSION
        custom = {
            "version": str(manifest.version),
            "min_version": str(manifest.min_version) if manifest.min_version else None,
            "models": list(manifest.models),
        }
        package_file = self._add_target(targets.signed, name, package, {"custom": custom})
        releases.append(
            {**custom, "target": name, "length": package_file.length, "published": str(self._now)}
        )
        with tempfile.TemporaryDirectory() as tmp:
            index = Path(tmp) / RELEASES
            index.write_text(
                json.dumps({"format": 1, "releases": releases}, indent=2, sort_keys=True) + "\n"
            )
            self._add_target(targets.signed, RELEASES, index, {})
        targets.signed.version += 1
        targets.signed.expires = self._now + self._expiry.targets
        self._sign_and_write(targets, "targets", versioned=True)
        self._resign_snapshot_and_timestamp(targets.signed.version, root.signed)
        return package_file

    def _add_target(
        self, targets: Targets, name: str, source: Path, extra: dict[str, Any]
    ) -> TargetFile:
        info = TargetFile.from_file(name, str(source), ["sha256"])
        info.unrecognized_fields.update(extra)
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        dest = self.targets_dir / f"{info.hashes['sha256']}.{name}"
        if not dest.exists():
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.copyfile(source, tmp)
            _fsync_replace(tmp, dest)
        targets.targets[name] = info
        return info

    def _resign_snapshot_and_timestamp(self, targets_version: int, root: Root) -> None:
        if (self.meta_dir / "snapshot.json").exists():
            snapshot: Metadata[Snapshot] = self._load("snapshot")
        else:
            snapshot = Metadata(Snapshot(version=1, expires=self._now))
            snapshot.signed.version = 0  # bumped to 1 below
            snapshot.signed.spec_version = SPEC_VERSION
        snapshot.signed.meta["targets.json"] = MetaFile(version=targets_version)
        snapshot.signed.version += 1
        snapshot.signed.expires = self._now + self._expiry.snapshot
        self._sign_and_write(snapshot, "snapshot", versioned=True)
        if (self.meta_dir / "timestamp.json").exists():
            timestamp: Metadata[Timestamp] = self._load("timestamp")
        else:
            timestamp = Metadata(Timestamp(version=1, expires=self._now))
            timestamp.signed.version = 0  # bumped to 1 below
            timestamp.signed.spec_version = SPEC_VERSION
        timestamp.signed.snapshot_meta = MetaFile(version=snapshot.signed.version)
        timestamp.signed.version += 1
        timestamp.signed.expires = self._now + self._expiry.timestamp
        self._sign_and_write(timestamp, "timestamp", versioned=False)

    def _sign_and_write(self, md: Metadata[Any], role: str, *, versioned: bool) -> None:
        md.signatures.clear()
        md.sign(self._signers[role])
        self._write(md, role, versioned=versioned)

    def _write(self, md: Metadata[Any], role: str, *, versioned: bool) -> None:
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        data = md.to_bytes(self._serializer)
        names = [f"{md.signed.version}.{role}.json"] if versioned else []
        for name in [*names, f"{role}.json"]:
            tmp = self.meta_dir / f".{name}.tmp"
            tmp.write_bytes(data)
            _fsync_replace(tmp, self.meta_dir / name)


def _fsync_replace(tmp: Path, dest: Path) -> None:
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, dest)
