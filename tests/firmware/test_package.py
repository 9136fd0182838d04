"""Package archives: building, strict reading, and fuzzing of every parser of outside data."""

from __future__ import annotations

import contextlib
import io
import json
import random
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_update.errors import PackageError, StateError
from firmware_update.machine import UpdateRecord
from firmware_update.package import build_package, extract_package, read_manifest, verify_slot
from firmware_update.server import parse_range
from firmware_update.versions import Version

V1 = Version.parse("1.2.3")


def payload_dir(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    (src / "app.bin").write_bytes(b"\x7fELF firmware")
    (src / "lib" / "cards.json").write_text('[{"name": "visa-approve"}]')
    (src / "CHANGELOG.md").write_text("## 1.2.3\n- faster sign-on\n")
    (src / "params.json").write_text(
        json.dumps({"receipt_footer": ["Thanks!"], "test_cards": "payload/lib/cards.json"})
    )
    return src


def test_directory_payload_picks_up_changelog_and_params(tmp_path: Path):
    out = tmp_path / "p.tar.gz"
    built = build_package(payload_dir(tmp_path), out, V1, models=("posemu",))
    read = read_manifest(out)
    assert read.version == V1
    assert read.models == ("posemu",)
    assert read.changelog == "## 1.2.3\n- faster sign-on\n"
    assert read.params == {"receipt_footer": ["Thanks!"], "test_cards": "payload/lib/cards.json"}
    assert set(read.files) == {"payload/app.bin", "payload/lib/cards.json"}
    assert read.files == built.files


def test_same_input_gives_the_same_bytes(tmp_path: Path):
    src = payload_dir(tmp_path)
    a, b = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    when = datetime(2026, 1, 1, tzinfo=UTC)
    build_package(src, a, V1, created=when)
    build_package(src, b, V1, created=when)
    assert a.read_bytes() == b.read_bytes()


def test_tar_gz_and_single_file_payloads(tmp_path: Path):
    tgz = tmp_path / "in.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        info = tarfile.TarInfo("bin/app")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    out = tmp_path / "o.tar.gz"
    assert set(build_package(tgz, out, V1).files) == {"payload/bin/app"}
    single = tmp_path / "image.bin"
    single.write_bytes(b"x")
    assert set(build_package(single, out, V1).files) == {"payload/image.bin"}
    assert read_manifest(out).changelog == "Version 1.2.3\n"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"reciept_footer": ["x"]}, "unknown parameter 'reciept_footer'"),
        ({"receipt_footer": [1]}, "list of text lines"),
        ({"receipt_footer": ["\x1b[2J"]}, "printable"),
        ({"test_cards": "payload/missing.json"}, "test_cards must name a file"),
    ],
)
def test_bad_parameters_are_refused(tmp_path: Path, params, message):
    single = tmp_path / "image.bin"
    single.write_bytes(b"x")
    with pytest.raises(PackageError, match=message):
        build_package(single, tmp_path / "o.tar.gz", V1, params=params)


def _tar(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return path


def _valid_members(tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "v.tar.gz"
    build_package(payload_dir(tmp_path), out, V1)
    with tarfile.open(out) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: {**m, "../evil": b"x"}, "unsafe path"),
        (lambda m: {**m, "/etc/cron.d/x": b"x"}, "unsafe path"),
        (lambda m: {**m, "other.txt": b"x"}, "unexpected member"),
        (lambda m: {**m, "payload/app.bin": b"patched"}, "do not match the manifest"),
        (lambda m: {k: v for k, v in m.items() if k != "manifest.json"}, "missing"),
        (lambda m: {**m, "manifest.json": b"{"}, "invalid manifest"),
    ],
)
def test_unsafe_or_inconsistent_archives_are_refused(tmp_path: Path, change, message):
    archive = _tar(tmp_path / "bad.tar.gz", change(_valid_members(tmp_path)))
    with pytest.raises(PackageError, match=message):
        read_manifest(archive)
    with pytest.raises(PackageError):
        extract_package(archive, tmp_path / "slot")


def test_symlinks_are_refused(tmp_path: Path):
    archive = _tar(tmp_path / "bad.tar.gz", _valid_members(tmp_path), symlink="payload/passwd")
    with pytest.raises(PackageError, match="only regular files"):
        read_manifest(archive)


def test_installed_slot_is_rechecked(tmp_path: Path):
    out = tmp_path / "p.tar.gz"
    build_package(payload_dir(tmp_path), out, V1)
    slot = tmp_path / "slot"
    assert extract_package(out, slot).version == V1
    assert verify_slot(slot).version == V1
    (slot / "payload" / "app.bin").write_bytes(b"bit rot")
    with pytest.raises(PackageError, match="changed since it was installed"):
        verify_slot(slot)


@pytest.fixture(scope="module")
def valid_archive(tmp_path_factory) -> bytes:
    tmp = tmp_path_factory.mktemp("fuzz")
    out = tmp / "p.tar.gz"
    build_package(payload_dir(tmp), out, V1)
    return out.read_bytes()


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_archives_give_a_manifest_or_a_package_error(valid_archive, tmp_path, data):
    blob = bytearray(valid_archive)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    path = tmp_path / "m.tar.gz"
    path.write_bytes(bytes(blob))
    with contextlib.suppress(PackageError):
        read_manifest(path)


@given(st.integers(0, 10_000), st.text(max_size=30))
def test_range_header_parser(size: int, header: str):
    try:
        span = parse_range(header, size)
    except ValueError:
        return
    if span is not None:
        start, end = span
        assert 0 <= start <= end < size


@given(st.integers(1, 1000), st.integers(0, 2000), st.integers(0, 2000))
def test_range_bounds(size: int, a: int, b: int):
    span = parse_range(f"bytes={a}-{b}", size)
    if a < size and b >= a:
        assert span == (a, min(b, size - 1))
    else:
        assert span is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.sampled_from(["state", "active", "versions", "previous", "floor", "boots", "x"]),
        json_values,
    )
)
def test_state_record_parser_is_strict(doc):
    try:
        record = UpdateRecord.from_json(doc)
    except StateError:
        return
    assert UpdateRecord.from_json(record.to_json()) == record


@given(st.text(max_size=12))
def test_version_parser(text: str):
    try:
        version = Version.parse(text)
    except ValueError:
        return
    assert Version.parse(str(version)) == version


def test_a_broken_deflate_stream_is_a_package_error(tmp_path: Path):
    """gzip reports some damage as zlib.error, which is neither OSError nor TarError."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.bin").write_bytes(random.Random(7).randbytes(20_000))  # stored deflate blocks
    out = tmp_path / "p.tar.gz"
    build_package(src, out, V1, created=datetime(2026, 1, 1, tzinfo=UTC))
    blob = out.read_bytes()
    broken = tmp_path / "m.tar.gz"
    for pos in range(5480, 5520):  # around a stored block's header in this archive
        broken.write_bytes(blob[:pos] + b"\x00\xff" + blob[pos + 2 :])
        with contextlib.suppress(PackageError):
            read_manifest(broken)
