"""Issue 8: an outside client built from docs/host-protocol.md alone gets 00 with a valid MAC.

The client (``pyiso_client.py``) uses pyiso8583 in its own virtualenv, as the differential
codec test does, plus ``cryptography`` for DES; it imports nothing of posemu.
"""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from iso8583.host import EmbeddedHost
from tests.iso8583.test_pyiso8583_diff import (
    PYISO_VERSION,
    _clean_env,
    _unavailable,
    cached_venv,
)

CLIENT = Path(__file__).with_name("pyiso_client.py")
# The same cryptography as ours: pip takes it from its wheel cache, no second download.
PACKAGES = (f"pyiso8583=={PYISO_VERSION}", f"cryptography=={version('cryptography')}")


def _client_python(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_venv(config, tmp_path_factory, "pyiso8583-client-venv", "client", PACKAGES)


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
