"""``posemu journal list|show|reprint`` against a real data directory."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import pytest

from iso8583.acquirer.model import TxnKind
from terminal.cli import journal_cmds
from terminal.core.journal import PrintStatus, TxnState
from terminal.core.receipts.text import DUPLICATE_MARK
from terminal.store import TerminalStore
from tests.store.helpers import FULL_PAN, MASKED_PAN, SOLD_AT, entry, printed, receipt_dict


def run(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="posemu")
    journal_cmds.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["journal", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data(tmp_path):
    """Three sales: one printed, one never printed, one without a receipt (a failure)."""
    directory = tmp_path / "data"
    with TerminalStore(directory) as store:
        store.journal.add(entry(copies=(printed(),)), pan=FULL_PAN)
        store.journal.add(
            entry(
                stan="000002",
                rrn="332709000124",
                amount=5000,
                local_time=SOLD_AT.replace(hour=12),
                receipt=receipt_dict(5000, stan="000002", when=SOLD_AT.replace(hour=12)),
            )
        )
        store.journal.add(
            entry(
                stan="000003",
                state=TxnState.FAILED,
                rrn="",
                auth_code="",
                receipt=None,
                local_time=SOLD_AT.replace(day=24),
            )
        )
    return directory


def test_list_table_newest_first_masked_only(capsys, data):
    code, out, err = run(capsys, "list", "--data-dir", str(data))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID", "TIME", "KIND", "AMOUNT", "PAN", "STAN", "RRN", "AUTH", "STATE", "PRINT"
    ]  # fmt: skip
    assert [line.split()[0] for line in lines[1:]] == ["3", "2", "1"]
    assert "CNY 12.34" in lines[3]
    assert MASKED_PAN in out
    assert FULL_PAN not in out
    assert lines[1].split()[-1] == "no-receipt"
    assert lines[2].split()[-1] == "unprinted"
    assert lines[3].split()[-1] == "printed"


def test_list_json_lines(capsys, data):
    code, out, _ = run(capsys, "list", "--data-dir", str(data), "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [3, 2, 1]
    assert rows[1]["never_printed"] is True
    assert rows[2]["copies"][0]["status"] == "printed"
    assert all(FULL_PAN not in line for line in out.splitlines())


@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        (["--amount", "50"], [2]),
        (["--amount", "12.34"], [3, 1]),
        (["--stan", "2"], [2]),
        (["--rrn", "332709000124"], [2]),
        (["--unprinted"], [2]),
        (["--state", "failed"], [3]),
        (["--state", "failed", "--state", "approved"], [3, 2, 1]),
        (["--since", "2026-11-23T10:00"], [3, 2]),
        (["--until", "2026-11-23"], [2, 1]),
        (["--since", "2026-11-23", "--until", "2026-11-23T10:00:00"], [1]),
        (["--limit", "1"], [3]),
        (["--amount", "99"], []),
    ],
)
def test_list_filters(capsys, data, filters, ids):
    code, out, _ = run(capsys, "list", "--data-dir", str(data), "--json", *filters)
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ids


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--amount", "12.345"], "'12.345'"),
        (["--amount", "abc"], "'abc'"),
        (["--amount", "-1"], "'-1'"),
        (["--since", "yesterday"], "--since"),
        (["--until", "2026-13-01"], "--until"),
        (["--stan", "1234567"], "--stan"),
        (["--rrn", "12-34"], "--rrn"),
        (["--state", "lost"], "--state"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_list_bad_arguments_exit_2_with_one_line(capsys, data, args, needle):
    code, out, err = run(capsys, "list", "--data-dir", str(data), *args)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert needle in err


def test_missing_data_dir_is_not_created(capsys, tmp_path):
    code, _, err = run(capsys, "list", "--data-dir", str(tmp_path / "none"))
    assert code == 1
    assert "no terminal data" in err
    assert not (tmp_path / "none").exists()


def test_show_by_id_stan_and_rrn(capsys, data):
    for target in (["2"], ["--stan", "000002"], ["--rrn", "332709000124"]):
        code, out, err = run(capsys, "show", "--data-dir", str(data), *target)
        assert code == 0, err
        assert "id            2" in out
        assert "MERCHANT COPY" in out
        assert "50.00" in out
        assert FULL_PAN not in out


def test_show_json_and_entry_without_receipt(capsys, data):
    code, out, _ = run(capsys, "show", "--data-dir", str(data), "--json", "1")
    assert code == 0
    shown = json.loads(out)
    assert shown["id"] == 1
    assert "APPROVED" in shown["receipt_text"]
    code, out, _ = run(capsys, "show", "--data-dir", str(data), "3")
    assert code == 0
    assert "(no receipt stored)" in out


@pytest.mark.parametrize(
    ("target", "code", "needle"),
    [
        (["99"], 1, "journal entry 99 not found"),
        (["--stan", "000099"], 1, "STAN 000099"),
        ([], 2, "exactly one"),
        (["1", "--stan", "1"], 2, "exactly one"),
        (["one"], 2, "journal id"),
        (["--stan", "000001", "--width", "40"], 2, "--width"),
    ],
)
def test_show_errors(capsys, data, target, code, needle):
    got, _, err = run(capsys, "show", "--data-dir", str(data), *target)
    assert got == code
    assert len(err.splitlines()) == 1
    assert needle in err


def test_ambiguous_stan_lists_the_candidates(capsys, data):
    with TerminalStore(data) as store:
        store.journal.add(entry(batch="000002"))  # STAN 000001 again, next batch
    code, _, err = run(capsys, "show", "--data-dir", str(data), "--stan", "1")
    assert code == 2
    assert "4, 1" in err


def test_reprint_prints_a_duplicate_and_records_it(capsys, data, tmp_path):
    code, out, err = run(capsys, "reprint", "--data-dir", str(data), "--rrn", "332709000124")
    assert code == 0, err
    assert DUPLICATE_MARK in out
    assert "CUSTOMER COPY" in out
    assert max(len(line) for line in out.splitlines()) <= 32
    with TerminalStore(data) as store:
        got = store.journal.get(2)
    (copy,) = got.copies
    assert (copy.copy, copy.status, copy.duplicate) == ("customer", PrintStatus.PRINTED, True)
    assert copy.printed_at is not None
    assert not got.never_printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing written elsewhere


def test_reprint_merchant_copy_wide_json(capsys, data):
    code, out, _ = run(
        capsys, "reprint", "--data-dir", str(data), "1", "--copy", "merchant", "--width", "42"
    )
    assert code == 0
    assert "MERCHANT COPY" in out
    assert max(len(line) for line in out.splitlines()) <= 42
    code, out, _ = run(capsys, "reprint", "--data-dir", str(data), "1", "--json")
    reprint = json.loads(out)
    assert reprint["copy"] == "customer"
    assert DUPLICATE_MARK in reprint["text"]
    with TerminalStore(data) as store:
        copies = store.journal.get(1).copies
    assert [(c.copy, c.duplicate) for c in copies] == [
        ("merchant", False),
        ("merchant", True),
        ("customer", True),
    ]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["3"], 1, "no receipt"),
        (["1", "--copy", "cashier"], 2, "--copy"),
        (["77"], 1, "not found"),
    ],
)
def test_reprint_errors(capsys, data, args, code, needle):
    got, out, err = run(capsys, "reprint", "--data-dir", str(data), *args)
    assert got == code
    assert out == ""
    assert needle in err
    with TerminalStore(data) as store:
        assert all(not c.duplicate for e in store.journal.batch_entries("000001") for c in e.copies)


def test_corrupt_database_is_one_line(capsys, tmp_path):
    (tmp_path / "terminal.db").write_text("garbage" * 100)
    code, _, err = run(capsys, "list", "--data-dir", str(tmp_path))
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "terminal.db" in err


def test_void_entries_show_their_original(capsys, data):
    with TerminalStore(data) as store:
        void = store.journal.add(replace(entry(kind=TxnKind.VOID, original_id=1), receipt=None))
    code, out, _ = run(capsys, "show", "--data-dir", str(data), str(void))
    assert code == 0
    assert "original      1" in out
