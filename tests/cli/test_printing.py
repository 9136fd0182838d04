"""The CLI's receipts go through the receipt service: --printer, reprint, the feed."""

from __future__ import annotations

import json
from pathlib import Path

from terminal.cli.main import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_unprinted_copy_is_found_reprinted_to_a_file_and_followed(tmp_path: Path, capsys):
    data = str(tmp_path / "pos")
    code, out, _ = _run(capsys, "pay", "sale", "--amount", "1.00", "--card", "visa-approve",
                        "--data-dir", data)  # fmt: skip
    assert code == 0
    assert "MERCHANT COPY" in out  # the stdout printer
    code, out, err = _run(capsys, "pay", "sale", "--amount", "2.00", "--card", "visa-approve",
                          "--data-dir", data, "--printer", "none", "--json")  # fmt: skip
    assert code == 0
    assert "no printer attached" in err
    lost = json.loads(out)["journal_id"]

    code, out, _ = _run(capsys, "journal", "list", "--unprinted", "--json", "--data-dir", data)
    assert [json.loads(line)["id"] for line in out.splitlines()] == [lost]

    code, out, _ = _run(capsys, "journal", "changes", "--json", "--data-dir", data)
    feed = json.loads(out)
    assert [e["id"] for e in feed["entries"]][-1] == lost
    cursor = feed["cursor"]

    slip = tmp_path / "slip.bin"
    code, _, _ = _run(capsys, "journal", "reprint", str(lost), "--copy", "merchant",
                      "--printer", f"file:{slip}", "--data-dir", data)  # fmt: skip
    assert code == 0
    assert slip.read_bytes().startswith(b"\x1b@")
    assert b"DUPLICATE" in slip.read_bytes()

    code, out, _ = _run(capsys, "journal", "changes", "--json", "--since", str(cursor),
                        "--data-dir", data)  # fmt: skip
    (changed,) = json.loads(out)["entries"]
    assert changed["id"] == lost
    assert changed["print_status"] == "printed"


def test_bad_printer_is_refused_before_anything_is_sent(tmp_path: Path, capsys):
    code, _, err = _run(capsys, "pay", "sale", "--amount", "1.00", "--card", "visa-approve",
                        "--data-dir", str(tmp_path), "--printer", "lpt1")  # fmt: skip
    assert code == 2
    assert "printer 'lpt1'" in err
    assert not (tmp_path / "terminal.db").exists()
