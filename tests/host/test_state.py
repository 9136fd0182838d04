"""The host's state: SQLite, shared between processes, never a pickle, never silently reset."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from iso8583.acquirer import TxnKind
from iso8583.host import EmbeddedHost, Status
from iso8583.host.state import LEGACY_STATE_FILE, HostStateError, state_file_for
from tests.engine.clirun import POSEMU, ROOT, _env
from tests.host.client import HostClient


def _file(state: Path, spec: str = "iso87ascii") -> Path:
    return state_file_for(state, spec)


def test_a_void_after_restart_finds_the_sale_of_the_previous_run(tmp_path: Path) -> None:
    state = tmp_path / "host"
    with (
        EmbeddedHost("iso87ascii", state_dir=state) as first,
        HostClient(first.address, first.spec) as client,
    ):
        client.signon()
        sale_req, sale = client.sale(2500)
        original = client.original_of(sale_req, sale)
        keys = client.keys
    assert _file(state).stat().st_mode & 0o777 == 0o600

    with EmbeddedHost("iso87ascii", state_dir=state) as second:
        assert second.ledger.by_rrn(sale.rrn) is not None
        with HostClient(second.address, second.spec) as client:
            # The host kept this terminal's working keys: no new sign-on before a MAC'd void.
            client.keys = keys
            void = client.exchange(client.request(TxnKind.VOID, amount=2500, original=original))
        assert void.response_code == "00"
        assert second.ledger.by_rrn(sale.rrn).status is Status.VOIDED


def test_working_keys_are_stored_encrypted_under_the_tmk(tmp_path: Path) -> None:
    state = tmp_path / "host"
    with (
        EmbeddedHost("iso87ascii", state_dir=state) as host,
        HostClient(host.address, host.spec) as client,
    ):
        client.signon()
        clear = client.keys.mac_key.material.hex()
    assert clear not in _file(state).read_bytes().hex()


@pytest.mark.parametrize(
    ("content", "what"),
    [(b"", "is empty"), (b"not a database at all" * 100, "cannot be read")],
)
def test_an_empty_or_unreadable_state_is_an_error_naming_the_file(
    tmp_path: Path, content: bytes, what: str
) -> None:
    state = tmp_path / "host"
    state.mkdir()
    _file(state).write_bytes(content)
    with pytest.raises(HostStateError) as err:
        EmbeddedHost("iso87ascii", state_dir=state)
    message = str(err.value)
    assert str(_file(state)) in message
    assert what in message
    assert "restore it from a backup if you have one, or delete it" in message
    assert _file(state).read_bytes() == content  # untouched: nothing reset


def test_a_database_that_is_not_host_state_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "host"
    state.mkdir()
    with sqlite3.connect(_file(state)) as db:
        db.execute("CREATE TABLE other (x)")
    with pytest.raises(HostStateError, match="is not a posemu host state"):
        EmbeddedHost("iso87ascii", state_dir=state)


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # what a crafted state file would do when unpickled
        return (os.mkdir, (str(self.marker),))


def test_an_old_pickle_state_is_never_loaded(tmp_path: Path) -> None:
    state = tmp_path / "host"
    state.mkdir()
    marker = tmp_path / "pwned"
    (state / LEGACY_STATE_FILE).write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(HostStateError, match="no longer read"):
        EmbeddedHost("iso87ascii", state_dir=state)
    assert not marker.exists()


def test_each_dialect_keeps_its_own_state(tmp_path: Path) -> None:
    state = tmp_path / "host"
    with (
        EmbeddedHost("iso87ascii", state_dir=state) as first,
        HostClient(first.address, first.spec) as client,
    ):
        client.signon()
        _, sale = client.sale(1000)
    with EmbeddedHost("iso87binary", state_dir=state) as other:
        assert other.ledger.by_rrn(sale.rrn) is None
    with EmbeddedHost("iso87ascii", state_dir=state) as again:
        assert again.ledger.by_rrn(sale.rrn) is not None


_WORKER = """
import sys
from pathlib import Path
from iso8583.host import EmbeddedHost
from tests.host.client import HostClient

state, tid, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with EmbeddedHost("iso87ascii", state_dir=state) as host:
    with HostClient(host.address, host.spec, tid=tid) as client:
        client.signon()
        for _ in range(count):
            _, resp = client.sale(1000)
            assert resp.response_code == "00", resp
            print(resp.rrn, flush=True)
"""


def test_processes_sharing_a_state_directory_lose_nothing(tmp_path: Path) -> None:
    state = tmp_path / "host"
    count = 15
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(state), f"TERM000{i}", str(count)],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    rrns: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        rrns += out.split()
    assert len(rrns) == 3 * count
    assert len(set(rrns)) == len(rrns), "an RRN was handed out twice"
    with EmbeddedHost("iso87ascii", state_dir=state) as host:
        entries = host.ledger.entries()
    assert sorted(e.rrn for e in entries) == sorted(rrns), "a ledger entry was lost"


def test_concurrent_pay_commands_on_one_data_dir(tmp_path: Path) -> None:
    """Issue 9: ``pay sale & pay sale`` on one data dir with the built-in host."""
    data_dir = tmp_path / "data"
    common = ["--data-dir", str(data_dir), "--json"]

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*POSEMU, "pay", *args, *common],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    results = []
    procs = [start("sale", "--amount", f"1.{i}0", "--card", "amex-approve") for i in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    rrns = [r["rrn"] for r in results]
    assert len(set(rrns)) == len(rrns), f"duplicate RRNs: {rrns}"
    with EmbeddedHost("iso87ascii", state_dir=data_dir / "host") as host:
        assert {e.rrn for e in host.ledger.entries()} == set(rrns)
    settle = start("settle")
    out, err = settle.communicate(timeout=90)
    body = json.loads(out.strip().splitlines()[-1])
    assert (settle.returncode, body["response_code"]) == (0, "00"), (out, err)
    assert body.get("uploaded") in (0, None, False), "settlement needed a batch upload"


def test_a_failed_commit_leaves_memory_as_the_file_says(tmp_path: Path) -> None:
    """A request whose transaction fails is forgotten in memory too (no phantom entries)."""
    from iso8583.dialects import get_spec
    from iso8583.host import HostEngine, HostStateStore

    spec = get_spec("iso87ascii")
    store = HostStateStore(_file(tmp_path), spec.name)
    engine = HostEngine(spec)
    engine.attach(store)

    def failing_request() -> None:
        with store.transaction(engine):
            engine.ledger.record(
                tid="T", stan="000001", batch="000001", kind=TxnKind.SALE, amount=1, pan=None,
                now=datetime(2026, 1, 1),
            )  # fmt: skip
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        failing_request()
    with store.transaction(engine):
        assert engine.ledger.entries() == []
    store.close()


def test_state_dir_may_be_a_string(tmp_path: Path) -> None:
    """As ``tempfile.mkdtemp()`` returns it (the README passes one to the runtime too)."""
    with EmbeddedHost("cup", state_dir=str(tmp_path)) as host:
        assert host.address[1] > 0
    assert (tmp_path / "host-cup.db").exists()
