"""``posemu host --state FILE`` and the new options, as a tester runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from iso8583.acquirer import TxnKind
from iso8583.dialects import get_spec
from tests.engine.clirun import posemu
from tests.host.client import HostClient
from tests.host.procs import host_process


def test_a_restarted_host_with_state_keeps_its_ledger_and_never_repeats_an_rrn(
    tmp_path: Path,
) -> None:
    state = tmp_path / "host.db"
    spec = get_spec("iso87ascii")
    rrns = []
    with (
        host_process(tmp_path / "1", "--state", str(state)) as host,
        HostClient(host.address, spec) as client,
    ):
        client.signon()
        sale_req, sale = client.sale(2500)
        rrns.append(sale.rrn)
        keys = client.keys
    with (
        host_process(tmp_path / "2", "--state", str(state)) as host,
        HostClient(host.address, spec) as client,
    ):
        client.keys = keys  # the host kept them
        original = client.original_of(sale_req, sale)
        void = client.exchange(client.request(TxnKind.VOID, amount=2500, original=original))
        assert void.response_code == "00"
        rrns.append(void.rrn)
        rrns.append(client.sale(100)[1].rrn)
    assert len(set(rrns)) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--idle-timeout", "0"), "--idle-timeout must be 0.1 to 86400 seconds, got 0"),
        (("--max-connections", "0"), "--max-connections must be 1 to 100000, got 0"),
        (("--max-terminals", "0"), "--max-terminals must be 1 to 10000000, got 0"),
    ],
)
def test_bad_limits_are_refused(args: tuple[str, ...], message: str) -> None:
    run = posemu("host", "--listen", "127.0.0.1:0", *args)
    assert (run.code, run.err.strip()) == (2, f"error: {message}")


def test_an_empty_state_file_is_refused_by_name(tmp_path: Path) -> None:
    state = tmp_path / "host.db"
    state.write_bytes(b"")
    run = posemu("host", "--listen", "127.0.0.1:0", "--state", str(state))
    assert run.code == 2
    assert run.err.startswith(f"error: --state: host state {state} is empty;")


def test_a_state_path_that_cannot_be_created_is_one_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    state = blocker / "host.db"
    run = posemu("host", "--listen", "127.0.0.1:0", "--state", str(state))
    assert run.code == 2
    assert "Traceback" not in run.err
    assert run.err.startswith("error: --state: host state ")
    assert str(state) in run.err
    assert run.err.count("\n") == 1


def test_a_directory_given_as_state_file_is_named_as_such(tmp_path: Path) -> None:
    run = posemu("host", "--listen", "127.0.0.1:0", "--state", str(tmp_path))
    assert run.code == 2
    assert f"host state {tmp_path} is a directory" in run.err
    assert "delete it" not in run.err  # never advise deleting a directory


@pytest.mark.parametrize("tmk", ["00", "zz", "0123456789ABCDEFFEDCBA987654321"])
def test_a_bad_tmk_is_named_in_hex_digits(tmk: str) -> None:
    run = posemu("host", "--listen", "127.0.0.1:0", "--tmk", tmk)
    assert (run.code, run.err) == (
        2,
        f"error: --tmk: expected 32 or 48 hex digits (a TDES key), got {len(tmk)} characters\n",
    )
