"""``posemu pay --trace`` / ``--trace-file``: what went over the wire, masked, with timings."""

from __future__ import annotations

import json

from iso8583.acquirer.security import TEST_TMK
from terminal.core.testcards import CARDS

PANS = [card.pan for card in CARDS]


def test_trace_shows_each_message_masked_with_timings(run, tmp_path):
    trace = tmp_path / "trace.jsonl"
    out = run("pay", "sale", "--amount", "12.34", "--card", "debit-pin", "--pin", "1234",
              "--trace", "--trace-file", str(trace), "--json",
              "--data-dir", str(tmp_path))  # fmt: skip
    assert out.code == 0, out.err
    assert out.json["approved"]  # stdout stays one JSON object
    records = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    assert [(r["direction"], r["mti"]) for r in records] == [
        ("sent", "0800"), ("received", "0810"), ("sent", "0200"), ("received", "0210"),
    ]  # fmt: skip
    sale, answer = records[2], records[3]
    assert sale["fields"]["4"] == "000000001234"
    assert "*" in sale["fields"]["2"]
    assert sale["fields"]["52"].startswith("[")  # PIN block: length only
    assert answer["elapsed_ms"] > 0
    assert answer["stan"] == sale["stan"] == out.json["stan"]
    assert records[1]["fields"]["62"].endswith("hidden: keys]")  # working keys never shown
    text = out.err
    assert ">> sent 0200 sale" in text
    assert "<< received 0210 sale" in text
    assert " ms at " in text
    assert "Primary account number" in text
    for dump in (text, trace.read_text(encoding="utf-8")):
        for pan in PANS:
            assert pan not in dump
        assert TEST_TMK.material.hex().upper() not in dump.upper()


def test_trace_file_that_cannot_be_written_fails_before_sending(run, tmp_path):
    bad = tmp_path / "no-such-dir" / "t.jsonl"
    out = run("pay", "echo", "--trace-file", str(bad), "--data-dir", str(tmp_path))
    assert out.code == 2
    assert out.err.startswith(f"error: --trace-file {bad}: cannot write")
