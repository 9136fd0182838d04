"""``posemu iso8583 specs|decode|encode``: the ISO 8583 engine from the shell.

One message per argument, or with ``-`` one per line from stdin (bulk conversion of logs): a bad
line is reported on stderr with its line number and the rest goes on; the exit status is 2 if
any message was bad. Bulk output is written in batches (flushed before each error line, so the
two streams stay in order on a terminal); the per-dialect JSON tables of ``iso8583.jsonio`` and
the message construct's compiled plans keep each line to a few dozen microseconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from iso8583 import Iso8583Error, Spec, get_spec, spec_names
from iso8583.describe import describe
from iso8583.errors import DecodeError, EncodeError
from iso8583.jsonio import json_table

__all__ = ["add_parser", "resolve_spec"]

EXIT_BAD_INPUT = 2
_BATCH = 2048  # output lines per write


def resolve_spec(name: str) -> Spec:
    """A built-in dialect name, or a path to a dialect file (.toml, .json, jPOS .xml)."""
    if name in spec_names():
        return get_spec(name)
    path = Path(name)
    if path.suffix.lower() in (".toml", ".json") and path.exists():
        from iso8583.specfile import load_spec

        return load_spec(path)
    if path.suffix.lower() == ".xml" and path.exists():
        from iso8583.jpos import load_jpos_packager

        return load_jpos_packager(path)
    if path.suffix or "/" in name:  # meant as a file: say so, not "unknown dialect"
        from iso8583.errors import SpecError

        if not path.exists():
            raise SpecError(f"--spec {name}: no such dialect file")
        raise SpecError(f"--spec {name}: a dialect file ends in .toml, .json or .xml")
    return get_spec(name)  # raises SpecError listing the built-in names


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("iso8583", help="pack, unpack and inspect ISO 8583 messages")
    cmds = p.add_subparsers(dest="iso_cmd", required=True)

    specs = cmds.add_parser("specs", help="list the built-in dialects")
    specs.add_argument("--json", action="store_true", help="machine-readable output")
    specs.set_defaults(func=cmd_specs)

    dec = cmds.add_parser("decode", help="decode a hex message (or '-' for one per stdin line)")
    dec.add_argument("--spec", help="dialect name or dialect file (default: iso87ascii)")
    dec.add_argument("--json", action="store_true", help="print the message as JSON")
    dec.add_argument(
        "--reveal",
        action="store_true",
        help="show PAN, track data, PIN block and EMV values in clear",
    )
    dec.add_argument(
        "--framed",
        action="store_true",
        help="input includes the dialect's length header / TPDU / header",
    )
    dec.add_argument("hex", help="message bytes as hex, or '-' to read stdin")
    dec.set_defaults(func=cmd_decode)

    enc = cmds.add_parser("encode", help="encode a JSON message (or '-' for JSON lines)")
    enc.add_argument("--spec", help="dialect name or dialect file (default: iso87ascii)")
    enc.add_argument(
        "--framed", action="store_true", help="wrap the output in the dialect's framing"
    )
    enc.add_argument(
        "--tpdu",
        metavar="HEX",
        help="with --framed, for a dialect with a TPDU (cup): its 5 bytes, e.g. 6000010000",
    )
    enc.add_argument("json", help='{"mti": "0200", "fields": {...}}, or "-" to read stdin')
    enc.set_defaults(func=cmd_encode)


def _inputs(arg: str, stdin: TextIO) -> Iterator[tuple[int | None, str]]:
    if arg != "-":
        yield None, arg
        return
    for number, line in enumerate(stdin, 1):
        if line.strip():
            yield number, line.strip()


def _json_dumps() -> Callable[[Any], str]:
    """``json.dumps`` with its defaults, minus the per-call encoder set-up (bulk output)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # not CPython: the plain function
        return json.dumps
    encode = make(
        None,  # no circular-reference check: messages are trees
        json.JSONEncoder().default,
        json.encoder.encode_basestring_ascii,
        None,
        ": ",
        ", ",
        False,
        False,
        True,
    )
    return lambda obj: "".join(encode(obj, 0))


def _json_loads() -> Callable[[str], Any]:
    """``json.loads`` of one stripped line; anything unusual takes the plain function."""
    scan = json.decoder.JSONDecoder().scan_once

    def loads(text: str) -> Any:
        try:
            obj, end = scan(text, 0)
        except (StopIteration, json.JSONDecodeError):
            return json.loads(text)  # raises the usual error
        return obj if end == len(text) else json.loads(text)

    return loads


def _where(line: int | None) -> str:
    return f"line {line}: " if line is not None else ""


def cmd_specs(args: argparse.Namespace) -> int:
    rows = [(name, get_spec(name)) for name in spec_names()]
    if args.json:
        print(
            json.dumps(
                [
                    {"name": n, "description": s.description, "fields": len(s.fields)}
                    for n, s in rows
                ]
            )
        )
    else:
        for name, spec in rows:
            print(f"{name:<12} {spec.description}")
    return 0


class _Output:
    """Collects stdout lines and writes them in batches; errors go to stderr in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failed = 0

    def add(self, text: str) -> None:
        self.lines.append(text)
        if len(self.lines) >= _BATCH:
            self.flush()

    def error(self, line: int | None, exc: Exception) -> None:
        self.failed += 1
        self.flush()
        sys.stdout.flush()
        print(f"error: {_where(line)}{exc}", file=sys.stderr)

    def flush(self) -> None:
        if self.lines:
            sys.stdout.write("\n".join(self.lines) + "\n")
            self.lines.clear()

    def done(self) -> int:
        self.flush()
        return EXIT_BAD_INPUT if self.failed else 0


def _hex_bytes(text: str) -> bytes:
    try:
        return bytes.fromhex(text)  # skips whitespace between bytes; the usual input
    except ValueError:
        pass
    cleaned = "".join(text.split())
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        bad = next((i for i, c in enumerate(cleaned) if c not in "0123456789abcdefABCDEF"), None)
        if bad is None:
            raise DecodeError(
                f"input has an odd number of hex digits ({len(cleaned)}): a byte is cut in half"
            ) from None
        raise DecodeError(f"input is not hex (character {bad})") from None


def cmd_decode(args: argparse.Namespace) -> int:
    spec = resolve_spec(args.spec or "iso87ascii")  # None: not given here nor at the top
    unpack = spec.construct.unpack
    unwrap = spec.frame_format.unwrap if args.framed else None
    table = json_table(spec, reveal=args.reveal)
    dumps = _json_dumps()
    out = _Output()
    for line, text in _inputs(args.hex, sys.stdin):
        try:
            data = _hex_bytes(text)
            if unwrap is not None:
                data = unwrap(data).payload
            message = unpack(data)
        except Iso8583Error as exc:
            out.error(line, exc)
            if args.json and line is not None:
                out.add(dumps({"line": line, "error": str(exc)}))
            continue
        if args.json:
            out.add(dumps(table.to_json(message)))
        else:
            if line is not None:
                out.add(f"# line {line}")
            out.add(describe(message, spec, reveal=args.reveal))
    return out.done()


def _wrapper(spec: Spec, tpdu_hex: str | None) -> Callable[[bytes], bytes]:
    """The dialect's framing; a TPDU is per link, so the user gives it (the header, fixed for
    the dialect, is the one the terminal sends)."""
    from iso8583.dialects.cup import CUP_HEADER
    from iso8583.framing import Tpdu

    fmt = spec.frame_format
    tpdu = None
    if fmt.tpdu:
        if tpdu_hex is None:
            raise EncodeError(f"--framed: dialect {spec.name} frames carry a TPDU: add --tpdu HEX")
        try:
            tpdu = Tpdu.from_bytes(bytes.fromhex(tpdu_hex))
        except (ValueError, Iso8583Error):
            raise EncodeError(f"--tpdu {tpdu_hex!r}: expected 10 hex digits (5 bytes)") from None
    elif tpdu_hex is not None:
        raise EncodeError(f"--tpdu: dialect {spec.name} frames have no TPDU")
    size = fmt.header_length
    header = CUP_HEADER if size == len(CUP_HEADER) else bytes(size)
    return lambda data: fmt.wrap(data, tpdu=tpdu, header=header)


def cmd_encode(args: argparse.Namespace) -> int:
    spec = resolve_spec(args.spec or "iso87ascii")  # None: not given here nor at the top
    pack = spec.construct.pack
    wrap = _wrapper(spec, args.tpdu) if args.framed else None
    from_json = json_table(spec).from_json
    loads = _json_loads()
    out = _Output()
    for line, text in _inputs(args.json, sys.stdin):
        try:
            try:
                obj = loads(text)
            except json.JSONDecodeError as exc:
                raise EncodeError(f"invalid JSON at column {exc.colno}: {exc.msg}") from None
            data = pack(from_json(obj))
            if wrap is not None:
                data = wrap(data)
        except Iso8583Error as exc:
            out.error(line, exc)
            continue
        out.add(data.hex().upper())
    return out.done()
