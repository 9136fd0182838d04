"""A private virtualenv with pyiso8583, the peer we measure against.

pyiso8583 is also imported as ``iso8583``, so it cannot share our environment: it lives in its
own venv under ``.cache/`` (created on first use, reused afterwards) and runs as a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

__all__ = ["PYISO_VERSION", "pyiso_python"]

PYISO_VERSION = "4.0.1"
ROOT = Path(__file__).resolve().parent.parent
VENV_DIR = ROOT / ".cache" / "pyiso8583-venv"


def pyiso_python() -> Path:
    """Path of a Python interpreter that imports pyiso8583 as ``iso8583``."""
    python = VENV_DIR / "bin" / "python"
    marker = VENV_DIR / f".pyiso8583-{PYISO_VERSION}"
    if not marker.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                f"pyiso8583=={PYISO_VERSION}",
            ],
            check=True,
            stdout=sys.stderr,
        )
        marker.touch()
    return python
