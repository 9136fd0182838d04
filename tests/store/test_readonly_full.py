"""A read-only or full data directory: reads work, writes say why they cannot, and where.

Real filesystems, not mocks: a read-only bind mount and a tiny tmpfs filled to the last
byte, each in a private mount namespace (``unshare -rm``: no root needed where user
namespaces are allowed). Skipped where user and mount namespaces are not available.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from terminal.store import TerminalStore
from tests.store.helpers import FULL_PAN, entry, receipt_dict

ROOT = Path(__file__).resolve().parents[2]


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt 2>/dev/null || exit 1"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


NAMESPACES = _namespaces_work()
needs_namespaces = pytest.mark.skipif(not NAMESPACES, reason="no user+mount namespaces here")


def in_namespace(setup: str, *commands: list[str]) -> list[subprocess.CompletedProcess]:
    """Run each command after ``setup`` (its mounts) in a fresh private mount namespace."""
    return [
        subprocess.run(
            ["unshare", "-rm", "sh", "-c", f"{setup} && exec {shlex.join(command)}"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
            timeout=60,
        )
        for command in commands
    ]


def posemu(*argv: str) -> list[str]:
    return [sys.executable, "-m", "terminal.cli.main", *argv]


@pytest.fixture
def data(tmp_path):
    directory = tmp_path / "data"
    with TerminalStore(directory) as store:
        store.journal.add(entry(receipt=receipt_dict()), pan=FULL_PAN)
    return directory


@needs_namespaces
def test_read_commands_work_on_a_read_only_directory_and_writes_say_why(data):
    d = shlex.quote(str(data))
    read_only = f"mount --bind {d} {d} && mount -o remount,bind,ro {d} {d}"
    listed, shown, checked, reprint, sale = in_namespace(
        read_only,
        posemu("journal", "list", "--data-dir", str(data)),
        posemu("journal", "show", "1", "--data-dir", str(data)),
        posemu("store", "check", "--data-dir", str(data)),
        posemu("journal", "reprint", "1", "--data-dir", str(data)),
        # an external host (nothing listens on port 9): the store's own error, not the
        # built-in host's state file, is what this test is about
        posemu(
            "pay",
            "sale",
            "--amount",
            "1.00",
            "--card",
            "visa-approve",
            "--host",
            "tcp://127.0.0.1:9",
            "--data-dir",
            str(data),
        ),
    )
    assert listed.returncode == 0, listed.stderr
    assert "622202******1236" in listed.stdout
    assert shown.returncode == 0, shown.stderr
    assert "GREEN LEAF TEA HOUSE" in shown.stdout
    assert checked.returncode == 0, checked.stderr
    for write in (reprint, sale):
        assert write.returncode != 0
        assert "read-only filesystem" in write.stderr, write.stderr
        assert str(data) in write.stderr
        assert "Traceback" not in write.stderr
    assert not (data / "terminal.db-shm").exists()  # the reads wrote nothing


FILL_AND_WRITE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from terminal.core.journal import JournalQuery
    from terminal.store import StoreFullError, TerminalStore
    from tests.store.helpers import entry
    data = Path(sys.argv[1]) / "data"
    with TerminalStore(data) as store:
        store.journal.add(entry())
        fd = os.open(data.parent / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            pass
        os.close(fd)
        try:
            for n in range(2, 200):
                store.journal.add(entry(stan=f"{n:06d}"))
        except StoreFullError as exc:
            print(exc)
        else:
            print("NO ERROR")
        os.unlink(data.parent / "filler")
        print(len(store.journal.find(JournalQuery(limit=1000))))
    """
)


@needs_namespaces
def test_a_full_disk_is_named_as_such_and_loses_nothing(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    m = shlex.quote(str(mount))
    (done,) = in_namespace(
        f"mount -t tmpfs -o size=512k tmpfs {m}",
        [sys.executable, "-c", FILL_AND_WRITE, str(mount)],
    )
    assert done.returncode == 0, done.stderr
    error, count = done.stdout.strip().splitlines()
    assert "disk full" in error
    assert str(mount / "data" / "terminal.db") in error
    assert int(count) >= 1  # what was stored before the disk filled is still there
