"""The firmware package: a deterministic ``.tar.gz`` a terminal can check before unpacking.

::

    manifest.json   {"format": 1, "version": "1.2.0", "min_version": null, "models": [],
                     "created": "...", "files": {"payload/x.bin": "<sha256>", ...}}
    CHANGELOG.md    what changed, shown by ``posemu firmware status``
    params.json     terminal parameters, e.g. {"receipt_footer": ["Thank you!"]}
    payload/...     the firmware's files (a directory, a .tar.gz or one file given to publish)

TUF already proves the archive is the one the publisher signed; the manifest's own hashes
protect the installed slot afterwards (a slot is re-checked before the terminal boots it).
Unpacking accepts regular files only, under ``payload/`` or the three top-level names, with
bounded sizes: a signed package is trusted, a zip-bomb by mistake should still not fill a disk.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Final

from firmware_update.errors import PackageError
from firmware_update.versions import Version

__all__ = [
    "KNOWN_PARAMS",
    "MANIFEST",
    "Manifest",
    "build_package",
    "extract_package",
    "read_manifest",
    "verify_slot",
]

FORMAT: Final = 1
MANIFEST: Final = "manifest.json"
CHANGELOG: Final = "CHANGELOG.md"
PARAMS: Final = "params.json"
PAYLOAD: Final = "payload"

#: Parameters a package may set, with what each must be. Unknown keys are refused at publish
#: time so a typo ("reciept_footer") fails on the publisher's desk, not silently on terminals.
KNOWN_PARAMS: Final[dict[str, str]] = {
    "receipt_header": "list of text lines printed above the slip",
    "receipt_footer": "list of text lines printed below the slip",
    "test_cards": "path of a test-card catalogue (JSON) inside payload/",
}
MAX_MEMBERS: Final = 10_000
MAX_UNPACKED: Final = 1 << 31  # 2 GiB
_MAX_LINE: Final = 48


@dataclass(frozen=True, slots=True)
class Manifest:
    version: Version
    min_version: Version | None = None
    models: tuple[str, ...] = ()
    created: str = ""
    changelog: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def fits(self, model: str) -> bool:
        """An empty model list means every model."""
        return not self.models or model in self.models

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": str(self.version),
            "min_version": str(self.min_version) if self.min_version else None,
            "models": list(self.models),
            "created": self.created,
            "files": dict(sorted(self.files.items())),
        }


def check_params(params: object, payload_files: set[str] | None = None) -> dict[str, Any]:
    """Validate terminal parameters; PackageError naming the key otherwise."""
    if not isinstance(params, dict):
        raise PackageError("must be a JSON object", PARAMS)
    for key, value in params.items():
        if key not in KNOWN_PARAMS:
            known = ", ".join(KNOWN_PARAMS)
            raise PackageError(f"unknown parameter {key!r} (known: {known})", PARAMS)
        if key in ("receipt_header", "receipt_footer"):
            lines = [value] if isinstance(value, str) else value
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                raise PackageError(f"{key} must be a list of text lines", PARAMS)
            if len(lines) > 8 or any(len(x) > _MAX_LINE or not x.isprintable() for x in lines):
                raise PackageError(
                    f"{key}: at most 8 printable lines of {_MAX_LINE} characters", PARAMS
                )
            params[key] = list(lines)
        elif key == "test_cards" and (
            not isinstance(value, str) or (payload_files is not None and value not in payload_files)
        ):
            raise PackageError(f"test_cards must name a file under {PAYLOAD}/", PARAMS)
    return params


# --- building -------------------------------------------------------------------------------
def _payload_from(source: Path) -> tuple[dict[str, bytes], str | None, dict[str, Any] | None]:
    """Files under payload/, plus a changelog and params found beside them in a directory."""
    files: dict[str, bytes] = {}
    changelog: str | None = None
    params: dict[str, Any] | None = None
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source).as_posix()
            if path.is_symlink():
                raise PackageError("symbolic links are not packaged", rel)
            if not path.is_file():
                continue
            if rel in (CHANGELOG, "CHANGELOG", "CHANGELOG.txt"):
                changelog = path.read_text(encoding="utf-8")
            elif rel == PARAMS:
                try:
                    params = json.loads(path.read_text(encoding="utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise PackageError(f"not valid JSON: {exc}", rel) from exc
            else:
                files[f"{PAYLOAD}/{rel}"] = path.read_bytes()
    elif source.name.endswith((".tar.gz", ".tgz")):
        try:
            with tarfile.open(source, "r:gz") as tar:
                for member in tar.getmembers():
                    if member.isdir():
                        continue
                    if not member.isfile():
                        raise PackageError("only regular files can be packaged", member.name)
                    rel = _safe_relpath(member.name)
                    handle = tar.extractfile(member)
                    assert handle is not None  # a regular file always has data
                    files[f"{PAYLOAD}/{rel}"] = handle.read()
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise PackageError(f"cannot read archive: {exc}", str(source)) from exc
    elif source.is_file():
        files[f"{PAYLOAD}/{source.name}"] = source.read_bytes()
    else:
        raise PackageError("no such file or directory", str(source))
    if not files:
        raise PackageError("the payload is empty", str(source))
    return files, changelog, params


def build_package(
    source: Path,
    out: Path,
    version: Version,
    *,
    min_version: Version | None = None,
    models: tuple[str, ...] = (),
    changelog: str | None = None,
    params: dict[str, Any] | None = None,
    created: datetime | None = None,
) -> Manifest:
    """Write the package archive for ``source`` to ``out``; same inputs give the same bytes."""
    files, found_changelog, found_params = _payload_from(source)
    merged = dict(found_params or {})
    merged.update(params or {})
    merged = check_params(merged, set(files))
    text = changelog if changelog is not None else found_changelog
    text = text if text and text.strip() else f"Version {version}\n"
    when = (created or datetime.now(UTC)).replace(microsecond=0).isoformat()
    manifest = Manifest(
        version=version,
        min_version=min_version,
        models=models,
        created=when,
        changelog=text,
        params=merged,
        files={name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    )
    members = {
        MANIFEST: _json_bytes(manifest.to_json()),
        CHANGELOG: text.encode("utf-8"),
        PARAMS: _json_bytes(merged),
        **files,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 and sorted members make the archive reproducible (same hashes, same target)
    with (
        open(out, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in [MANIFEST, CHANGELOG, PARAMS, *sorted(files)]:
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return manifest


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


# --- reading and unpacking -------------------------------------------------------------------
def _safe_relpath(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\\" in name:
        raise PackageError("unsafe path in archive", name)
    return path.as_posix()


def _parse_manifest(raw: bytes, changelog: str, params: object) -> Manifest:
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise PackageError(f"unsupported format {doc.get('format')!r}", MANIFEST)
        files = doc["files"]
        models = doc.get("models") or []
        if not isinstance(files, dict) or not isinstance(models, list):
            raise PackageError("files must be an object and models a list", MANIFEST)
        min_v = doc.get("min_version")
        return Manifest(
            version=Version.parse(doc["version"]),
            min_version=Version.parse(min_v) if min_v else None,
            models=tuple(str(m) for m in models),
            created=str(doc.get("created", "")),
            changelog=changelog,
            params=check_params(params, set(files)),
            files={str(k): str(v) for k, v in files.items()},
        )
    except PackageError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PackageError(f"invalid manifest: {exc}", MANIFEST) from exc


def read_manifest(archive: Path) -> Manifest:
    """The manifest of an archive, checked against the archive's members (nothing unpacked)."""
    return _walk(archive, None)


def extract_package(archive: Path, dest: Path) -> Manifest:
    """Unpack into ``dest`` (which must not exist), fsyncing every file; returns the manifest."""
    dest.mkdir(parents=True)
    return _walk(archive, dest)


def _walk(archive: Path, dest: Path | None) -> Manifest:
    found: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    total = 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_MEMBERS:
                    raise PackageError(f"more than {MAX_MEMBERS} members")
                name = _safe_relpath(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise PackageError("only regular files are allowed", name)
                if name not in (MANIFEST, CHANGELOG, PARAMS) and not name.startswith(f"{PAYLOAD}/"):
                    raise PackageError("unexpected member", name)
                total += member.size
                if total > MAX_UNPACKED:
                    raise PackageError("unpacked size exceeds the limit", name)
                handle = tar.extractfile(member)
                assert handle is not None
                if name in (MANIFEST, CHANGELOG, PARAMS):
                    found[name] = handle.read(1 << 20)
                    continue
                digest = hashlib.sha256()
                out = _open_out(dest, name)
                try:
                    while chunk := handle.read(1 << 20):
                        digest.update(chunk)
                        if out is not None:
                            out.write(chunk)
                    if out is not None:
                        out.flush()
                        os.fsync(out.fileno())
                finally:
                    if out is not None:
                        out.close()
                hashes[name] = digest.hexdigest()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise PackageError(f"cannot read package: {exc}", archive.name) from exc
    for name in (MANIFEST, PARAMS):
        if name not in found:
            raise PackageError("missing", name)
    try:
        params = json.loads(found[PARAMS])
        changelog = found.get(CHANGELOG, b"").decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise PackageError(f"not valid: {exc}", PARAMS) from exc
    manifest = _parse_manifest(found[MANIFEST], changelog, params)
    if hashes != manifest.files:
        extra = sorted(set(hashes) ^ set(manifest.files))
        bad = extra or sorted(k for k in hashes if hashes[k] != manifest.files.get(k))
        raise PackageError("files do not match the manifest", bad[0] if bad else None)
    if dest is not None:
        for name in (MANIFEST, CHANGELOG, PARAMS):
            out = _open_out(dest, name)
            assert out is not None
            with out:
                out.write(found.get(name, b""))
                out.flush()
                os.fsync(out.fileno())
    return manifest


def _open_out(dest: Path | None, name: str) -> io.BufferedWriter | None:
    if dest is None:
        return None
    path = dest / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "xb")


def verify_slot(slot: Path) -> Manifest:
    """Re-check an installed slot against its manifest: is it still bootable?"""
    try:
        raw = (slot / MANIFEST).read_bytes()
        params = json.loads((slot / PARAMS).read_bytes())
        changelog = (slot / CHANGELOG).read_text(encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise PackageError(f"slot is not readable: {exc}", slot.name) from exc
    manifest = _parse_manifest(raw, changelog, params)
    for name, expected in manifest.files.items():
        digest = hashlib.sha256()
        try:
            with open(slot / name, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError as exc:
            raise PackageError("missing from the slot", name) from exc
        if digest.hexdigest() != expected:
            raise PackageError("changed since it was installed", name)
    return manifest
