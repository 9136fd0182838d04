"""The README's walk-throughs work as written in a fresh data directory (issue 8)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- walkthrough[^>]*-->\n```sh\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 3
    return "\n".join(blocks)


def test_readme_walkthrough_runs_as_written(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    posemu = bin_dir / "posemu"
    posemu.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m terminal.cli.main "$@"\n')
    posemu.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSEMU_")}
    env.update(PATH=f"{bin_dir}:{os.environ['PATH']}", PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    script = "set -e\n" + _walkthrough()
    proc = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "declined, exit 1" in proc.stdout
    assert "VOID APPROVED" in proc.stdout
    assert "REFUND APPROVED" in proc.stdout
    assert "COMPLETION APPROVED" in proc.stdout
    assert "DUPLICATE" in proc.stdout
    assert "error:" not in proc.stderr, proc.stderr
