"""Issue 8: an outside client built from docs/host-protocol.md alone gets 00 with a valid MAC.

The client (``pyiso_client.py``) uses pyiso8583 in its own virtualenv, as the differential
codec test does, plus ``cryptography`` for DES; it imports nothing of posemu.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from iso8583.host import EmbeddedHost
from tests.iso8583.test_pyiso8583_diff import (
    PYISO_VERSION,
    _clean_env,
    _locked,
    _run,
    _unavailable,
    _venv_python,
)

CLIENT = Path(__file__).with_name("pyiso_client.py")
# The same cryptography as ours: pip takes it from its wheel cache, no second download.
PACKAGES = (f"pyiso8583=={PYISO_VERSION}", f"cryptography=={version('cryptography')}")


def _client_python(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(config, "cache", None)
    base = cache.mkdir("pyiso8583-client-venv") if cache else tmp_path_factory.mktemp("venv")
    venv = base / f"client-py{sys.version_info[0]}{sys.version_info[1]}"
    python = _venv_python(venv)
    marker = venv / ".posemu-ready"
    with _locked(base / ".lock"):
        if marker.is_file() and python.is_file():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
        _run([str(python), "-m", "pip", "install", "--quiet", *PACKAGES], timeout=600)
        marker.write_text("\n".join(PACKAGES) + "\n")
    return python


def test_a_pyiso8583_client_from_the_page_alone(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    python = _client_python(request.config, tmp_path_factory)
    with EmbeddedHost("iso87ascii") as host:
        address = f"{host.address[0]}:{host.address[1]}"
        done = subprocess.run(
            [str(python), "-I", str(CLIENT), address],
            capture_output=True,
            text=True,
            timeout=60,
            env=_clean_env(),
            cwd=python.parent,
            check=False,
        )
        if done.returncode and "ModuleNotFoundError" in done.stderr:
            _unavailable(done.stderr.strip().splitlines()[-1])
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result == {
            "signon": "00",
            "kcv_ok": True,
            "sale": "00",
            "rrn": result["rrn"],
            "mac_ok": True,
        }
        assert host.ledger.by_rrn(result["rrn"]) is not None
