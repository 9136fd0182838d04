"""``posemu host --state FILE`` and the new options, as a tester runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from iso8583.acquirer import Kind
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
        void = client.exchange(client.request(Kind.VOID, amount=2500, original=original))
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
