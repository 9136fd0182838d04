"""The embedded host's ledger and keys survive a restart when given a state directory."""

from __future__ import annotations

from pathlib import Path

from iso8583.acquirer import Kind
from iso8583.host import EmbeddedHost, Status
from iso8583.host.state import STATE_FILE
from tests.host.client import HostClient


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
    assert (state / STATE_FILE).stat().st_mode & 0o777 == 0o600

    with EmbeddedHost("iso87ascii", state_dir=state) as second:
        assert second.ledger.by_rrn(sale.rrn) is not None
        with HostClient(second.address, second.spec) as client:
            # The host kept this terminal's working keys: no new sign-on before a MAC'd void.
            client.keys = keys
            void = client.exchange(client.request(Kind.VOID, amount=2500, original=original))
        assert void.response_code == "00"
        assert second.ledger.by_rrn(sale.rrn).status is Status.VOIDED


def test_a_damaged_state_file_is_set_aside_and_the_host_starts_fresh(tmp_path: Path) -> None:
    state = tmp_path / "host"
    state.mkdir()
    (state / STATE_FILE).write_bytes(b"not a pickle")
    with EmbeddedHost("iso87ascii", state_dir=state) as host:
        assert host.ledger.by_rrn("000000000000") is None
    assert (state / STATE_FILE).with_suffix(".bad").exists()
    assert (state / STATE_FILE).exists()  # rewritten on stop


def test_state_of_another_dialect_is_not_adopted(tmp_path: Path) -> None:
    state = tmp_path / "host"
    with (
        EmbeddedHost("iso87ascii", state_dir=state) as first,
        HostClient(first.address, first.spec) as client,
    ):
        client.signon()
        _, sale = client.sale(1000)
    with EmbeddedHost("iso87binary", state_dir=state) as other:
        assert other.ledger.by_rrn(sale.rrn) is None
