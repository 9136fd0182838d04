"""Runs inside the pyiso8583 venv: the plain script a user would write for bulk conversion.

``encode SPEC``: one pyiso8583 JSON message per stdin line -> one hex line.
``decode SPEC``: one hex message per stdin line -> one JSON line.
SPEC names one of pyiso8583's built-in specs. Output is written once, at the end.
"""

import json
import sys

import iso8583.specs

import iso8583  # pyiso8583


def main() -> None:
    op, name = sys.argv[1], sys.argv[2]
    spec = getattr(iso8583.specs, name)
    out = []
    if op == "encode":
        for line in sys.stdin:
            if line.strip():
                raw, _ = iso8583.encode(json.loads(line), spec)
                out.append(raw.hex().upper())
    else:
        for line in sys.stdin:
            if line.strip():
                doc, _ = iso8583.decode(bytes.fromhex(line), spec)
                out.append(json.dumps(doc))
    sys.stdout.write("\n".join(out) + "\n")


main()
