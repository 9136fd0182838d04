"""JSON-lines bridge to pyiso8583, run by ``test_pyiso8583_diff.py`` in its own virtualenv.

Why a subprocess: pyiso8583 is imported as ``iso8583`` too, so it cannot share an interpreter
with this project. One long-lived worker answering one JSON object per line keeps each
comparison at the cost of a pipe round trip instead of an interpreter start.

Requests and answers (one JSON object per line; bytes travel as hex)::

    {"op": "encode", "msg": {"t": "0200", "3": "000000"}} -> {"ok": true, "hex": "3032..."}
    {"op": "decode", "hex": "3032..."}                      -> {"ok": true, "msg": {...}}
    {"op": "spec"}                                         -> {"ok": true, "spec": {...}}
    {"op": "version"}                                      -> {"ok": true, "version": "4.0.1"}

A failure answers ``{"ok": false, "error": <class name>, "reason": <text>, "field": <key>}``.
Run it with ``python -I`` so that neither the working directory nor PYTHONPATH can shadow
pyiso8583 with this project's package.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _load() -> tuple[Any, Any]:
    import iso8583

    try:
        from iso8583.specs import default_ascii
    except ImportError:  # this project's iso8583 package, not pyiso8583
        sys.stderr.write(f"pyiso_worker: {iso8583.__file__} is not pyiso8583\n")
        raise SystemExit(2) from None
    return iso8583, default_ascii


def _handle(pyiso: Any, spec: Any, request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "encode":
        raw, _ = pyiso.encode(dict(request["msg"]), spec)
        return {"ok": True, "hex": bytes(raw).hex()}
    if op == "decode":
        decoded, _ = pyiso.decode(bytearray.fromhex(request["hex"]), spec)
        return {"ok": True, "msg": decoded}
    if op == "spec":
        keep = ("len_type", "max_len", "data_enc", "len_enc")
        return {"ok": True, "spec": {k: {f: v.get(f) for f in keep} for k, v in spec.items()}}
    if op == "version":
        return {"ok": True, "version": getattr(pyiso, "__version__", "?")}
    return {"ok": False, "error": "BadRequest", "reason": f"unknown op {op!r}", "field": None}


def main() -> int:
    pyiso, spec = _load()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = _handle(pyiso, spec, json.loads(line))
        except Exception as exc:  # every failure is an answer, the worker keeps serving
            answer = {"ok": False, "error": type(exc).__name__, "reason": str(exc),
                      "field": getattr(exc, "field", None)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
