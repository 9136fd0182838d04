"""``posemu iso8583 encode|decode``, one message and bulk (``-``), as a user runs them.

In-process through the real entry point (``terminal.cli.main.main``) with stdin replaced,
so the bulk path's batching, line numbers, error lines and masking are checked without
paying interpreter start-ups.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from iso8583 import Message, Tpdu, get_spec, pack
from iso8583.dialects.cup import CUP_HEADER
from iso8583.jsonio import message_from_json, message_to_json
from terminal.cli import iso8583_cmds
from terminal.cli.main import main

SALE = Message(
    "0200",
    {
        2: "4761739001010010",
        3: "000000",
        4: "000000001234",
        11: "000123",
        35: "4761739001010010=30122011143857589",
        41: "POSEMU01",
        43: "PAN 4761739001010010 IN FREE TEXT       ",
        52: bytes.fromhex("1A2B3C4D5E6F7081"),
        55: {"9F26": "1122334455667788", "9A": "261123"},
    },
)


def _run(capsys, monkeypatch, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_bulk_encode_reports_bad_lines_and_goes_on(capsys, monkeypatch):
    spec = get_spec("iso87ascii")
    good = json.dumps(message_to_json(SALE, spec))
    lines = [good, "", "{not json", good, '{"mti": "0200", "fields": {"4": 1234}}', good]
    code, out, err = _run(capsys, monkeypatch, ["iso8583", "encode", "-"], "\n".join(lines) + "\n")
    assert code == 2
    assert out.split() == [pack(SALE, spec).hex().upper()] * 3
    assert err.splitlines() == [
        "error: line 3: invalid JSON at column 2: Expecting property name enclosed in double "
        "quotes",
        "error: line 5: field 4: numeric fields are strings in JSON (leading zeros matter), "
        'write "1234"',
    ]


def test_bulk_decode_json_masks_unless_revealed(capsys, monkeypatch):
    spec = get_spec("iso87ascii")
    hexed = pack(SALE, spec).hex().upper()
    stdin = f"{hexed}\nzz{hexed}\n{hexed[:-4]}\n"
    code, out, err = _run(capsys, monkeypatch, ["iso8583", "decode", "--json", "-"], stdin)
    assert code == 2
    rows = [json.loads(line) for line in out.splitlines()]
    masked = rows[0]["fields"]
    assert masked["2"] == "476173******0010"
    assert masked["35"].startswith("476173******0010=")
    assert "4761739001010010" not in out
    assert masked["43"] == "PAN 476173******0010 IN FREE TEXT       "
    assert masked["52"] == "[16 chars hidden]"
    assert masked["55"] == {"9F26": "[8 bytes]", "9A": "[3 bytes]"}
    assert rows[1] == {"line": 2, "error": "input is not hex (character 0)"}
    assert rows[2]["line"] == 3
    assert "field 55" in rows[2]["error"]
    assert err.splitlines()[0] == "error: line 2: input is not hex (character 0)"

    code, out, _ = _run(
        capsys, monkeypatch, ["iso8583", "decode", "--json", "--reveal", "-"], hexed + "\n"
    )
    assert code == 0
    assert message_from_json(json.loads(out), spec) == SALE


def test_bulk_output_is_written_in_batches_in_order(capsys, monkeypatch):
    spec = get_spec("iso87binary")
    monkeypatch.setattr(iso8583_cmds, "_BATCH", 3)
    messages = [Message("0800", {11: f"{i:06d}", 70: "301"}) for i in range(8)]
    stdin = "".join(pack(m, spec).hex() + "\n" for m in messages)
    code, out, _ = _run(
        capsys, monkeypatch, ["iso8583", "decode", "--spec", "iso87binary", "--json", "-"], stdin
    )
    assert code == 0
    assert [json.loads(line)["fields"]["11"] for line in out.splitlines()] == [
        f"{i:06d}" for i in range(8)
    ]


@pytest.mark.parametrize("spec_name", ["iso87ascii", "cup"])
def test_framed_round_trip_on_the_command_line(capsys, monkeypatch, spec_name):
    spec = get_spec(spec_name)
    signon = Message("0800", {11: "000001", 41: "POSEMU01"})
    text = json.dumps(message_to_json(signon, spec))
    argv = ["iso8583", "encode", "--spec", spec_name, "--framed", text]
    wrap: dict[str, Any] = {}
    if spec.frame_format.tpdu:
        # A TPDU is per link: the CLI cannot invent one, says so, and takes it as --tpdu.
        code, _, err = _run(capsys, monkeypatch, argv)
        assert code == 2
        assert err == f"error: --framed: dialect {spec_name} frames carry a TPDU: add --tpdu HEX\n"
        code, _, err = _run(capsys, monkeypatch, [*argv, "--tpdu", "60zz"])
        assert (code, err) == (2, "error: --tpdu '60zz': expected 10 hex digits (5 bytes)\n")
        argv += ["--tpdu", "6000010000"]
        wrap = {"tpdu": Tpdu(0x60, destination=1), "header": CUP_HEADER}
    else:
        code, _, err = _run(capsys, monkeypatch, [*argv, "--tpdu", "6000010000"])
        assert (code, err) == (2, f"error: --tpdu: dialect {spec_name} frames have no TPDU\n")
    code, out, _ = _run(capsys, monkeypatch, argv)
    assert code == 0
    framed = out.strip()
    assert framed == spec.frame_format.wrap(pack(signon, spec), **wrap).hex().upper()
    code, out, _ = _run(
        capsys,
        monkeypatch,
        ["iso8583", "decode", "--spec", spec_name, "--framed", "--json", framed],
    )
    assert code == 0
    assert json.loads(out) == message_to_json(signon, spec)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("303", "input has an odd number of hex digits (3): a byte is cut in half"),
        ("30 3", "input has an odd number of hex digits (3): a byte is cut in half"),
        ("30zz", "input is not hex (character 2)"),
    ],
)
def test_bad_hex_input_says_what_is_wrong(capsys, monkeypatch, text, message):
    code, _, err = _run(capsys, monkeypatch, ["iso8583", "decode", text])
    assert (code, err) == (2, f"error: {message}\n")
