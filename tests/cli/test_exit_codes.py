"""Exit codes a script relies on: the user's own faults (input, a damaged store) are 2, never 3."""

from __future__ import annotations

import pytest


def _damage(data_dir) -> None:
    db = data_dir / "terminal.db"
    db.write_bytes(b"")
    for extra in data_dir.glob("terminal.db-*"):
        extra.unlink()


@pytest.mark.parametrize(
    "argv",
    [
        ("pay", "echo"),
        ("pay", "sale", "--amount", "1.00", "--card", "visa-approve"),
        ("journal", "list"),
        ("journal", "show", "--stan", "1"),
    ],
)
def test_damaged_store_is_exit_2_with_kind_store(run, tmp_path, argv):
    d = tmp_path / "d"
    assert (
        run("pay", "sale", "--amount", "1.00", "--card", "visa-approve", "--data-dir", str(d)).code
        == 0
    )
    _damage(d)
    out = run(*argv, "--data-dir", str(d), "--json")
    assert out.code == 2, out
    assert out.json["exit_status"] == 2
    assert out.json["error_kind"] == "store"
    assert "posemu store" in out.err  # says how to go on
    assert "host or network" not in out.err
