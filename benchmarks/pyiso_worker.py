"""Runs inside the pyiso8583 venv: times encode/decode of one message, prints JSON rates.

Input on stdin: {"spec": {...} or a built-in spec name, "message": {...}, "n": N}.
pyiso8583 takes binary and BCD field values as hex strings.
"""

import json
import sys
import time

import iso8583.specs

import iso8583  # pyiso8583


def main() -> None:
    job = json.load(sys.stdin)
    spec = job["spec"]
    if isinstance(spec, str):  # one of pyiso8583's built-in specs
        spec = getattr(iso8583.specs, spec)
    msg = {
        k: bytes.fromhex(v["hex"]) if isinstance(v, dict) else v for k, v in job["message"].items()
    }
    n = job["n"]
    raw, _ = iso8583.encode(dict(msg), spec)
    start = time.process_time()
    for _ in range(n):
        iso8583.encode(dict(msg), spec)
    enc = time.process_time() - start
    start = time.process_time()
    for _ in range(n):
        iso8583.decode(raw, spec)
    dec = time.process_time() - start
    json.dump({"pack": n / enc, "unpack": n / dec, "hex": raw.hex()}, sys.stdout)


main()
