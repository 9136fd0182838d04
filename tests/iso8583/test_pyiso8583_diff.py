"""Differential tests against pyiso8583 4.0.1, the peer ``iso87ascii`` must interoperate with.

Why: ``iso87ascii`` promises byte compatibility with pyiso8583's ``default_ascii`` spec; the
only way to keep that promise honest is to ask pyiso8583 itself. Both packages are imported as
``iso8583``, so pyiso8583 lives in a private virtualenv (created once under the pytest cache,
reused while its marker file says it is complete) and answers through one long-lived worker
process (``pyiso_worker.py``) speaking JSON lines.

Value mapping (ours -> pyiso8583, whose default_ascii treats every field as ASCII text):
text fields as-is (x+n with its sign), ``bytes`` as uppercase hex, field 55 as the uppercase
hex of its BER-TLV encoding. Field 65 is left out: pyiso8583 drops it when encoding and reads
bit 65 as "a tertiary bitmap follows", while iso87ascii, like the 1987 standard, treats it as
an ordinary 8-byte field. pyiso8583 computes the bitmaps itself ("p", "1") and returns them
when decoding; they are compared through the bytes, not as values.

Without network the tests skip, except under CI (``CI=true``) where they fail: the
differential check must not silently disappear from the pipeline.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from iso8583 import DecodeError, Message, get_spec, pack, unpack
from iso8583.spec import Kind, LengthUnit
from iso8583.strategies import messages
from iso8583.tlv import decode_ber_tlv, encode_ber_tlv

PYISO_VERSION = "4.0.1"
WORKER = Path(__file__).with_name("pyiso_worker.py")
SPEC = get_spec("iso87ascii")
FIELDS = [n for n in SPEC.fields if n != 65]  # see the module docstring
MESSAGES = messages(SPEC, fields=FIELDS)
SMALL_MESSAGES = messages(SPEC, fields=FIELDS, max_fields=8)
BITMAP_KEYS = ("t", "p", "1", "h")


# ------------------------------------------------------------------- the pyiso8583 worker


class PyisoError(Exception):
    """pyiso8583 refused a request; ``field`` is its field key."""

    def __init__(self, kind: str, reason: str, field: str | None) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.field = field


class Pyiso:
    """Client of one pyiso_worker.py process."""

    def __init__(self, python: Path) -> None:
        self._proc = subprocess.Popen(
            [str(python), "-I", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=_clean_env(),
            cwd=python.parent,
        )

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        proc = self._proc
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"pyiso worker exited with {proc.poll()}")
        answer: dict[str, Any] = json.loads(line)
        if not answer["ok"]:
            raise PyisoError(answer["error"], answer["reason"], answer["field"])
        return answer

    def encode(self, msg: dict[str, str]) -> bytes:
        return bytes.fromhex(self._ask({"op": "encode", "msg": msg})["hex"])

    def decode(self, raw: bytes) -> dict[str, str]:
        decoded: dict[str, str] = self._ask({"op": "decode", "hex": raw.hex()})["msg"]
        return decoded

    def spec(self) -> dict[str, dict[str, Any]]:
        spec: dict[str, dict[str, Any]] = self._ask({"op": "spec"})["spec"]
        return spec

    def version(self) -> str:
        return str(self._ask({"op": "version"})["version"])

    def close(self) -> None:
        proc = self._proc
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _clean_env() -> dict[str, str]:
    """Our environment minus what could make the venv's Python or pip see this project."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_NO_INPUT"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _in_ci() -> bool:
    value = os.environ.get("CI", "").strip().lower()
    return bool(value) and value not in ("0", "false", "no")


def _unavailable(reason: str) -> NoReturn:
    if _in_ci():
        pytest.fail(f"pyiso8583 differential tests must run in CI, but: {reason}")
    pytest.skip(f"pyiso8583 {PYISO_VERSION} unavailable: {reason}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise venv creation between concurrent pytest runs sharing the cache."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no concurrent runs expected
        yield
        return
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], timeout: int) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=_clean_env(), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"{' '.join(cmd[:4])} failed: {exc}")
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        _unavailable(f"{' '.join(cmd[:4])} exited {done.returncode}: {' / '.join(tail)}")


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ensure_venv(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_venv(
        config,
        tmp_path_factory,
        "pyiso8583-venv",
        f"pyiso8583-{PYISO_VERSION}",
        (f"pyiso8583=={PYISO_VERSION}",),
    )


def cached_venv(
    config: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: str,
    name: str,
    packages: tuple[str, ...],
) -> Path:
    """The Python of a venv with ``packages``, made once and kept in pytest's cache (under a
    lock, so concurrent runs share it); a half-made one is made again."""
    cache = getattr(config, "cache", None)
    base = cache.mkdir(cache_dir) if cache is not None else tmp_path_factory.mktemp(cache_dir)
    venv = base / f"{name}-py{sys.version_info[0]}{sys.version_info[1]}"
    python = _venv_python(venv)
    marker = venv / ".posemu-ready"
    with _locked(base / ".lock"):
        if marker.is_file() and python.is_file():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
        _run([str(python), "-m", "pip", "install", "--quiet", *packages], timeout=600)
        marker.write_text("\n".join(packages) + "\n")
    return python


@pytest.fixture(scope="session")
def pyiso(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pyiso]:
    client = Pyiso(_ensure_venv(request.config, tmp_path_factory))
    try:
        version = client.version()
    except (RuntimeError, OSError, json.JSONDecodeError) as exc:
        client.close()
        _unavailable(f"worker does not start: {exc}")
    assert version == PYISO_VERSION
    yield client
    client.close()


# ------------------------------------------------------------------- value mapping


def to_pyiso(msg: Message, *, lower_hex: bool = False) -> dict[str, str]:
    """Our message as a pyiso8583 default_ascii document (all values are text)."""
    doc = {"t": msg.mti}
    for number, value in msg.fields.items():
        if isinstance(value, dict):
            value = encode_ber_tlv(value)
        if isinstance(value, bytes):
            value = value.hex() if lower_hex else value.hex().upper()
        doc[str(number)] = value
    return doc


def same_value(ours: Any, theirs: str) -> bool:
    """Compare a decoded value of ours with pyiso8583's text (hex in either case)."""
    if isinstance(ours, str):
        return ours == theirs
    raw = bytes.fromhex(theirs)
    if isinstance(ours, dict):
        return decode_ber_tlv(raw) == ours
    return bool(raw == ours)


def fields_of(decoded: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in decoded.items() if k not in BITMAP_KEYS}


# ------------------------------------------------------------------- tests


def test_worker_runs_the_pinned_pyiso8583(pyiso: Pyiso) -> None:
    assert pyiso.version() == PYISO_VERSION


def _wire_max(number: int) -> tuple[int, int]:
    """(length digits, maximum length in wire characters) of one of our fields."""
    fs = SPEC.fields[number]
    if fs.kind is Kind.B:
        wire = fs.max_len if fs.length_unit is LengthUnit.WIRE else 2 * fs.max_len
    else:
        wire = fs.max_len + (1 if fs.kind is Kind.XN else 0)
    return fs.prefix, wire


def test_field_table_matches_default_ascii(pyiso: Pyiso) -> None:
    theirs = pyiso.spec()
    mismatches = {
        n: (_wire_max(n), (theirs[str(n)]["len_type"], theirs[str(n)]["max_len"]))
        for n in FIELDS
        if n != 55 and _wire_max(n) != (theirs[str(n)]["len_type"], theirs[str(n)]["max_len"])
    }
    assert mismatches == {}
    assert all(theirs[str(n)]["data_enc"] == "ascii" for n in FIELDS)


def test_field_55_accepts_what_pyiso8583_sends(pyiso: Pyiso) -> None:
    assert _wire_max(55) == (3, pyiso.spec()["55"]["max_len"])
    icc = {"9F10": "00" * 196}  # 3 + 1 + 196 = 200 bytes of chip data, 400 hex characters
    msg = Message("0200", {55: icc})
    raw = pyiso.encode(to_pyiso(msg))
    assert unpack(raw, SPEC) == msg


@settings(max_examples=200)
@given(msg=MESSAGES, lower_hex=st.booleans())
def test_same_bytes_and_values_both_ways(pyiso: Pyiso, msg: Message, lower_hex: bool) -> None:
    note(f"mti={msg.mti!r} fields={msg.fields!r}")
    ours = pack(msg, SPEC)
    doc = to_pyiso(msg)
    # pyiso8583 reads our bytes as the same values ...
    decoded = pyiso.decode(ours)
    assert decoded["t"] == msg.mti
    assert fields_of(decoded) == {k: v for k, v in doc.items() if k != "t"}
    # ... writes the same message as the very same bytes ...
    assert pyiso.encode(doc) == ours
    # ... and what it writes, even with lowercase hex, reads back as the same message.
    assert unpack(pyiso.encode(to_pyiso(msg, lower_hex=lower_hex)), SPEC) == msg


def _look_alike(byte: int) -> st.SearchStrategy[int]:
    """A byte of the same class: a digit for a digit, the other case of a hex letter, ..."""
    ch = chr(byte)
    if ch.isdigit():
        pool = "0123456789"
    elif ch in "ABCDEFabcdef":
        pool = ch.swapcase() + "ABCDEF"
    elif ch == "=":
        pool = "=D"  # track 2 separator, both accepted in ASCII
    elif ch.isalpha():
        pool = "ABCXYZabcxyz"
    else:
        pool = " !#*/"
    return st.sampled_from(pool.encode("ascii"))


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """Mostly look-alike substitutions (accepted by us, so compared), some breaking edits."""
    raw = bytearray(pack(draw(SMALL_MESSAGES), SPEC))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw) - 1))
        choice = draw(st.integers(0, 9))
        if choice < 8:
            raw[at] = draw(_look_alike(raw[at]))
        elif choice == 8:
            raw[at] = draw(st.integers(0, 255))
        else:
            del raw[at : at + draw(st.integers(1, 3))]
        if not raw:
            break
    return bytes(raw)


@settings(max_examples=150)
@given(raw=_mutated())
def test_what_we_accept_pyiso8583_reads_alike(pyiso: Pyiso, raw: bytes) -> None:
    """We are the stricter decoder: anything we accept, pyiso8583 accepts with equal values."""
    try:
        msg = unpack(raw, SPEC)
    except DecodeError:
        return
    assume(65 not in msg.fields)  # pyiso8583 would read a tertiary bitmap there
    decoded = fields_of(pyiso.decode(raw))
    assert set(decoded) == {str(n) for n in msg.fields}
    for number, value in msg.fields.items():
        assert same_value(value, decoded[str(number)]), number
