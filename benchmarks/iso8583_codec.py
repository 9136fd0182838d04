"""Pack/unpack throughput of a realistic 0200 purchase: posemu's codec vs pyiso8583.

Both sides pack and unpack the same message (fields 2 3 4 7 11 12 13 14 22 23 25 35 37 41 42
43 49 52 55 64, with 42 bytes of EMV TLV in field 55) in the same run, in alternating rounds
so that machine noise hits both alike; the median round rate of each is compared. Rates are
per CPU second of the measuring process (``time.process_time``, on both sides), so other
processes on a shared machine do not count against either side. pyiso8583
gets a spec that describes the very same bytes (checked before timing), so both do the same
work, except that we also parse field 55 into its EMV tags and check every character class,
which pyiso8583 does not.

Besides ``iso8583.pack``/``unpack`` (which run the message construct's buffer API), the same
message goes through the construct protocol: ``spec.construct.build``/``parse``, and embedded in
a user's ``Struct("length" / Int16ub, "message" / FixedSized(this.length, spec.construct))``;
those rows print their rates and ratios too (construct's own ``parse``/``build`` machinery,
context and stream, is the difference).

Run: ``make bench`` or ``.venv/bin/python -m benchmarks.iso8583_codec [--rounds 7] [-n 20000]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from construct import FixedSized, Int16ub, Struct, this

from benchmarks._pyiso import pyiso_python
from iso8583 import Message, Spec, get_spec, pack, unpack
from iso8583.tlv import encode_ber_tlv

WORKER = Path(__file__).with_name("pyiso_worker.py")

EMV = {  # 42 bytes of typical chip data
    "9F26": "1122334455667788",
    "9F27": "80",
    "9F36": "0042",
    "9F37": "1A2B3C4D",
    "95": "0000008000",
    "9A": "261123",
    "9C": "00",
}

FIELDS: dict[int, Any] = {
    2: "4761739001010010",
    3: "000000",
    4: "000000001234",
    7: "1123071200",
    11: "000123",
    12: "071200",
    13: "1123",
    14: "3012",
    22: "051",
    23: "001",
    25: "00",
    35: "4761739001010010=30122011143857589",
    37: "633107123456",
    41: "POSEMU01",
    42: "POSEMU000000001",
    43: "POSEMU TEST MERCHANT   SHENZHEN    CN CN",
    49: "156",
    52: bytes.fromhex("1A2B3C4D5E6F7081"),
    55: EMV,
    64: bytes.fromhex("0102030405060708"),
}


def _pyiso_ascii() -> tuple[str, dict[str, Any]]:
    """pyiso8583's own ``default_ascii`` spec is, field for field, our iso87ascii."""
    spec = "default_ascii"
    msg: dict[str, Any] = {"t": "0200"}
    for n, v in FIELDS.items():
        if n == 55:
            msg["55"] = encode_ber_tlv(v).hex().upper()
        elif isinstance(v, bytes):
            msg[str(n)] = v.hex().upper()
        else:
            msg[str(n)] = v
    return spec, msg


def _pyiso_binary() -> tuple[dict[str, Any], dict[str, Any]]:
    """A pyiso8583 spec describing our iso87binary bytes for the fields of the benchmark."""

    def n(length: int, ll: int = 0) -> dict[str, Any]:
        d = {
            "data_enc": "b",
            "len_enc": "bcd" if ll else "ascii",
            "len_type": ll,
            "max_len": length,
            "len_count": "nibbles",
            "left_pad": "0",
        }
        return d

    spec: dict[str, Any] = {
        "h": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 0},
        "t": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 2},
        "p": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8},
        "1": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8},
        "2": n(19, 1),
        "3": n(6),
        "4": n(12),
        "7": n(10),
        "11": n(6),
        "12": n(6),
        "13": n(4),
        "14": n(4),
        "22": n(3),
        "23": n(3),
        "25": n(2),
        "35": {
            "data_enc": "b",
            "len_enc": "bcd",
            "len_type": 1,
            "max_len": 37,
            "len_count": "nibbles",
            "right_pad": "F",
        },
        "37": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 12},
        "41": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 8},
        "42": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 15},
        "43": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 40},
        "49": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 3},
        "52": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8},
        "55": {"data_enc": "b", "len_enc": "bcd", "len_type": 2, "max_len": 255},
        "64": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8},
    }
    msg: dict[str, Any] = {"t": "0200"}
    for num, v in FIELDS.items():
        if num == 55:
            msg["55"] = encode_ber_tlv(v).hex()
        elif isinstance(v, bytes):
            msg[str(num)] = v.hex()
        elif num == 35:
            msg["35"] = v.replace("=", "D")
        else:
            msg[str(num)] = v
    return spec, msg


def _rate(fn: Any, arg: Any, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn(arg)
    return n / (time.process_time() - start)


def _ours(spec: Spec, message: Message, n: int) -> dict[str, float]:
    """Rates of one round: the public API, the construct protocol, a user's Struct."""
    raw = pack(message, spec)
    framed = Struct("length" / Int16ub, "message" / FixedSized(this.length, spec.construct))
    framed_raw = len(raw).to_bytes(2, "big") + raw
    framed_obj = {"length": len(raw), "message": message}
    return {
        "pack": _rate(lambda m: pack(m, spec), message, n),
        "unpack": _rate(lambda r: unpack(r, spec), raw, n),
        "construct_build": _rate(spec.construct.build, message, n),
        "construct_parse": _rate(spec.construct.parse, raw, n),
        "struct_build": _rate(framed.build, framed_obj, n),
        "struct_parse": _rate(framed.parse, framed_raw, n),
    }


def _theirs(
    python: Path, spec: str | dict[str, Any], msg: dict[str, Any], n: int
) -> dict[str, Any]:
    out = subprocess.run(
        [str(python), str(WORKER)],
        input=json.dumps({"spec": spec, "message": msg, "n": n}),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


OPS = ("pack", "unpack", "construct_build", "construct_parse", "struct_build", "struct_parse")
LABELS = {
    "pack": "pack",
    "unpack": "unpack",
    "construct_build": "spec.construct.build",
    "construct_parse": "spec.construct.parse",
    "struct_build": "user Struct build",
    "struct_parse": "user Struct parse",
}


def run(rounds: int, n: int) -> list[dict[str, Any]]:
    python = pyiso_python()
    message = Message("0200", dict(FIELDS))
    results = []
    for name, peer in (("iso87ascii", _pyiso_ascii), ("iso87binary", _pyiso_binary)):
        spec = get_spec(name)
        pspec, pmsg = peer()
        probe = _theirs(python, pspec, pmsg, 1)
        if probe["hex"].upper() != pack(message, spec).hex().upper():
            raise SystemExit(f"{name}: pyiso8583 bytes differ from ours; not the same work")
        if spec.construct.parse(spec.construct.build(message)) != message:
            raise SystemExit(f"{name}: spec.construct does not round-trip the message")
        ours: dict[str, list[float]] = {op: [] for op in OPS}
        theirs: dict[str, list[float]] = {"pack": [], "unpack": []}
        for _ in range(rounds):
            for op, rate in _ours(spec, message, n).items():
                ours[op].append(rate)
            t = _theirs(python, pspec, pmsg, n)
            theirs["pack"].append(t["pack"])
            theirs["unpack"].append(t["unpack"])
        row: dict[str, Any] = {"dialect": name, "bytes": len(pack(message, spec))}
        for op in OPS:
            peer = "pack" if op == "pack" or op.endswith("build") else "unpack"
            row["posemu_" + op] = statistics.median(ours[op])
            row["pyiso_" + op] = statistics.median(theirs[peer])
            row[op + "_ratio"] = row["posemu_" + op] / row["pyiso_" + op]
        results.append(row)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("-n", type=int, default=20000, help="messages per round")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = run(args.rounds, args.n)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"0200 purchase, {args.rounds} alternating rounds x {args.n} messages, median rates")
    print("(build rows compare with pyiso8583's encode, parse rows with its decode)")
    print(
        f"{'dialect':<12} {'bytes':>5} {'op':<21} {'posemu msg/s':>13} {'pyiso8583 msg/s':>16}"
        f" {'ratio':>6}"
    )
    for r in rows:
        for op in OPS:
            print(
                f"{r['dialect']:<12} {r['bytes']:>5} {LABELS[op]:<21} {r['posemu_' + op]:>13,.0f} "
                f"{r['pyiso_' + op]:>16,.0f} {r[op + '_ratio']:>6.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
