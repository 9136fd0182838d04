"""firmware_update stands alone: it imports nothing else of posemu, and the terminal pays for
python-tuf only when firmware was installed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "firmware_update"
OURS = {"iso8583", "terminal", "agent", "benchmarks", "tests"}


def test_firmware_update_imports_nothing_of_ours():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in OURS, f"{path.name} imports {name}"


def test_terminal_without_firmware_does_not_load_tuf(tmp_path: Path):
    code = (
        "import sys; from pathlib import Path; from terminal.config import TerminalConfig;"
        "from terminal.firmware import apply_firmware;"
        f"apply_firmware(TerminalConfig(), Path({str(tmp_path)!r}));"
        "print('tuf' in sys.modules, 'firmware_update' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_python_api_takes_a_str_data_dir(tmp_path):
    """``tempfile.mkdtemp()`` and most callers give a str: on_boot, read_status, Updater."""
    import asyncio

    from firmware_update import Reason, Updater, on_boot, read_status

    data_dir = str(tmp_path)
    assert on_boot(data_dir).slot.value == "a"
    assert read_status(data_dir)["running"] == "0.0.0"
    outcome = asyncio.run(Updater(data_dir, "http://127.0.0.1:1").run())
    assert outcome.reason is Reason.NOT_PROVISIONED
