"""``posemu journal list|show|reprint``: find a lost receipt and print it again.

The merchant-facing flow: list what was never printed (``--unprinted``) or narrow down by
time, amount, STAN or RRN; ``show`` one entry with its slip; ``reprint`` it, marked as a
DUPLICATE, which is recorded in the journal as one more copy. Only masked PANs are shown.

Exit status: 0 done, 1 nothing found (no such entry, no data directory), 2 bad arguments or
any other error; always one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Final

from terminal.cli.options import emit_error
from terminal.core.errors import NotFoundError, PrinterError, TerminalError
from terminal.core.journal import (
    JournalEntry,
    JournalQuery,
    TxnState,
    amount_text,
    entry_json,
    print_status,
)
from terminal.core.money import parse_amount
from terminal.core.ports import PrintJob
from terminal.core.receipting import ReceiptService
from terminal.core.receipts import SUPPORTED_WIDTHS, Receipt, render_text
from terminal.devices import PRINTER_URLS, open_printer
from terminal.settings import resolve_data_dir
from terminal.store import StoreError, StoreMissingError, TerminalStore

__all__ = ["EXIT_BAD_ARGS", "EXIT_NOT_FOUND", "add_parser", "print_status"]

EXIT_NOT_FOUND: Final = 1
EXIT_BAD_ARGS: Final = 2
_DEFAULT_LIMIT: Final = 100


class _BadArgs(Exception):
    """An argument that cannot be used: exit 2."""


class _NotFound(Exception):
    """Nothing matches: exit 1."""


# --- argument parsing ---------------------------------------------------------------------
def add_parser(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", type=Path, default=None, help="terminal data directory (default: per user)"
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")

    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("id", nargs="?", default=None, help="journal id")
    target.add_argument("--stan", default=None, help="trace number (STAN) instead of the id")
    target.add_argument("--rrn", default=None, help="retrieval reference number instead")
    target.add_argument(
        "--width",
        default="32",
        help=f"slip width in columns: {', '.join(map(str, SUPPORTED_WIDTHS))}",
    )

    p = sub.add_parser("journal", help="find, show and reprint journal entries (lost receipts)")
    cmds = p.add_subparsers(dest="journal_cmd", required=True)

    ls = cmds.add_parser("list", parents=[common], help="list entries, newest first")
    ls.add_argument("--since", help="from this local time (ISO 8601, e.g. 2026-11-23T09:00)")
    ls.add_argument("--until", help="up to this local time (a date alone means the whole day)")
    ls.add_argument("--amount", help="exact amount, e.g. 12.34")
    ls.add_argument("--stan", help="trace number")
    ls.add_argument("--rrn", help="retrieval reference number")
    ls.add_argument(
        "--state",
        action="append",
        default=[],
        help=f"transaction state (repeatable): {', '.join(s.value for s in TxnState)}",
    )
    ls.add_argument("--unprinted", action="store_true", help="only receipts never printed")
    ls.add_argument("--limit", default=str(_DEFAULT_LIMIT), help="at most this many entries")
    ls.set_defaults(func=_guarded(cmd_list))

    show = cmds.add_parser("show", parents=[common, target], help="one entry and its receipt")
    show.set_defaults(func=_guarded(cmd_show))

    changes = cmds.add_parser(
        "changes", parents=[common], help="entries created or changed after a cursor (follow)"
    )
    changes.add_argument("--since", default="0", help="cursor from the last call (default 0)")
    changes.add_argument("--limit", default=str(_DEFAULT_LIMIT), help="at most this many")
    changes.set_defaults(func=_guarded(cmd_changes))

    rep = cmds.add_parser(
        "reprint", parents=[common, target], help="print a DUPLICATE of an entry's receipt"
    )
    rep.add_argument("--copy", default="customer", help="merchant or customer (default)")
    rep.add_argument("--printer", help=f"where it prints: {PRINTER_URLS} (default: stdout)")
    rep.set_defaults(func=_guarded(cmd_reprint))


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One line on stderr and the documented exit status, whatever goes wrong."""

    def run(args: argparse.Namespace) -> int:
        as_json = bool(getattr(args, "json", False))
        try:
            return int(command(args))
        except (_NotFound, NotFoundError, StoreMissingError) as exc:
            return emit_error(str(exc), as_json=as_json, code=EXIT_NOT_FOUND, kind="not_found")
        except StoreError as exc:  # damaged, locked, read-only: as every command reports it
            return emit_error(str(exc), as_json=as_json, code=EXIT_BAD_ARGS, kind="store")
        except (_BadArgs, TerminalError) as exc:
            return emit_error(str(exc), as_json=as_json, code=EXIT_BAD_ARGS, kind="input")

    run.__doc__ = command.__doc__
    return run


def _time_arg(name: str, text: str | None, *, end_of_day: bool) -> datetime | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time.max if end_of_day else time.min)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _BadArgs(f"--{name} {text!r}: expected an ISO 8601 date or time") from None


def _stan_arg(text: str | None) -> str | None:
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 6):
        raise _BadArgs(f"--stan {text!r}: expected 1 to 6 digits")
    return text.zfill(6)


def _rrn_arg(text: str | None) -> str | None:
    if text is None:
        return None
    if not (text.isascii() and text.isalnum() and 1 <= len(text) <= 12):
        raise _BadArgs(f"--rrn {text!r}: expected 1 to 12 letters or digits")
    return text


def _positive(name: str, text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise _BadArgs(f"{name} {text!r}: expected a positive whole number")
    return int(text)


def _width_arg(text: str) -> int:
    if text not in {str(w) for w in SUPPORTED_WIDTHS}:
        choices = ", ".join(map(str, SUPPORTED_WIDTHS))
        raise _BadArgs(f"--width {text!r}: expected one of {choices}")
    return int(text)


def _states_arg(values: list[str]) -> list[TxnState]:
    try:
        return [TxnState(v) for v in values]
    except ValueError:
        known = ", ".join(s.value for s in TxnState)
        bad = next(v for v in values if v not in {s.value for s in TxnState})
        raise _BadArgs(f"--state {bad!r}: expected one of {known}") from None


def _open(args: argparse.Namespace, *, read_only: bool = False) -> TerminalStore:
    """``read_only`` for list/show: they work in a read-only data directory."""
    data_dir, _ = resolve_data_dir(args.data_dir)
    return TerminalStore(data_dir, create=False, read_only=read_only)


# --- presentation -------------------------------------------------------------------------
_COLUMNS: Final = ("ID", "TIME", "KIND", "AMOUNT", "PAN", "STAN", "RRN", "AUTH", "STATE", "PRINT")


def _row(entry: JournalEntry) -> tuple[str, ...]:
    return (
        str(entry.id),
        entry.local_time.strftime("%Y-%m-%d %H:%M:%S"),
        entry.kind.value,
        amount_text(entry),
        entry.masked_pan or "-",
        entry.stan,
        entry.rrn or "-",
        entry.auth_code or "-",
        entry.state.value,
        print_status(entry),
    )


def _table(entries: list[JournalEntry]) -> str:
    rows = [_COLUMNS, *(_row(e) for e in entries)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    right = {0, 3}  # numbers line up on the right
    lines = []
    for r in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# --- commands -----------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    """Entries matching every filter, newest first."""
    query = JournalQuery(
        since=_time_arg("since", args.since, end_of_day=False),
        until=_time_arg("until", args.until, end_of_day=True),
        amount=None if args.amount is None else parse_amount(args.amount),
        stan=_stan_arg(args.stan),
        rrn=_rrn_arg(args.rrn),
        states=_states_arg(args.state),
        unprinted_only=args.unprinted,
        limit=_positive("--limit", args.limit),
    )
    with _open(args, read_only=True) as store:
        entries = store.journal.find(query)
    if args.json:
        for entry in entries:
            print(json.dumps(entry_json(entry), ensure_ascii=False))
    elif entries:
        print(_table(entries))
    else:
        print("no matching journal entries", file=sys.stderr)
    return 0


def _resolve(store: TerminalStore, args: argparse.Namespace) -> JournalEntry:
    given = [name for name in ("id", "stan", "rrn") if getattr(args, name) is not None]
    if len(given) != 1:
        raise _BadArgs("name exactly one entry: a journal id, --stan N or --rrn R")
    if args.id is not None:
        return store.journal.get(_positive("journal id", args.id))
    stan, rrn = _stan_arg(args.stan), _rrn_arg(args.rrn)
    label = f"STAN {stan}" if stan is not None else f"RRN {rrn}"
    found = store.journal.find(JournalQuery(stan=stan, rrn=rrn, limit=10))
    if not found:
        raise _NotFound(f"no journal entry with {label} in {store.path}")
    if len(found) > 1:
        ids = ", ".join(str(e.id) for e in found)
        raise _BadArgs(f"{label} matches journal entries {ids}; pass the id")
    return found[0]


def _receipt(entry: JournalEntry) -> Receipt:
    if entry.receipt is None:
        raise _NotFound(f"journal entry {entry.id} has no receipt")
    return Receipt.from_dict(entry.receipt)


def cmd_show(args: argparse.Namespace) -> int:
    """An entry's details and its stored receipt (the merchant copy, as printed)."""
    width = _width_arg(args.width)
    with _open(args, read_only=True) as store:
        entry = _resolve(store, args)
    text = None if entry.receipt is None else render_text(_receipt(entry), width)
    if args.json:
        print(json.dumps({**entry_json(entry), "receipt_text": text}, ensure_ascii=False))
        return 0
    details = entry_json(entry)
    for key in ("id", "time", "kind", "state", "amount_text", "masked_pan", "brand"):
        print(f"{key.replace('_text', ''):<14}{details[key] or '-'}")
    for key in ("entry_mode", "stan", "batch", "invoice", "rrn", "auth_code"):
        print(f"{key:<14}{details[key] or '-'}")
    print(f"{'response':<14}{entry.response_code or '-'} {entry.response_text}".rstrip())
    print(f"{'terminal':<14}{entry.terminal_id} / merchant {entry.merchant_id}")
    if entry.original_id is not None:
        print(f"{'original':<14}{entry.original_id}")
    print(f"{'print status':<14}{print_status(entry)}")
    for copy in entry.copies:
        when = "" if copy.printed_at is None else f" {copy.printed_at:%Y-%m-%d %H:%M:%S}"
        dup = " duplicate" if copy.duplicate else ""
        error = f" ({copy.error})" if copy.error else ""
        print(f"{'  copy':<14}{copy.copy}{dup} {copy.status.value}{when}{error}")
    print()
    print(text if text is not None else "(no receipt stored)", end="" if text else "\n")
    return 0


class _Capture:
    """``--json`` on stdout: the slip goes into the JSON object the command writes."""

    name = "json"

    def __init__(self) -> None:
        self.job: PrintJob | None = None

    def print_job(self, job: PrintJob) -> None:
        self.job = job


def cmd_reprint(args: argparse.Namespace) -> int:
    """Print a DUPLICATE slip through the receipt service: one more copy of the receipt,
    recorded pending, then printed (or failed, with the printer's reason)."""
    width = _width_arg(args.width)
    if args.copy not in ("merchant", "customer"):
        raise _BadArgs(f"--copy {args.copy!r}: expected merchant or customer")
    args.printer = args.printer or "stdout"
    capture = _Capture() if args.json and args.printer == "stdout" else None
    printer = capture or open_printer(args.printer)
    try:
        with _open(args) as store:
            entry = _resolve(store, args)
            _receipt(entry)  # no receipt: exit 1 before a copy is recorded
            receipts = ReceiptService(store.journal, printer, width=width)
            outcome = receipts.reprint(entry.id or 0, args.copy)
    finally:
        stop = getattr(printer, "stop", None)  # a serial printer holds its port open
        if stop is not None:
            stop()
    if not outcome.printed:
        raise PrinterError(outcome.reason, printer=outcome.printer)
    if capture is not None and capture.job is not None:
        receipt = capture.job.receipt
        out = {
            "id": entry.id,
            "copy": args.copy,
            "reprinted_at": None
            if receipt.reprinted_at is None
            else receipt.reprinted_at.isoformat(),
            "text": render_text(receipt, width),
        }
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def cmd_changes(args: argparse.Namespace) -> int:
    """What changed after ``--since`` (the journal feed): new entries, new states, print
    statuses. Prints the cursor to pass next time (JSON: ``{"entries": [...], "cursor": N}``)."""
    cursor = 0 if args.since == "0" else _positive("--since", args.since)
    with _open(args, read_only=True) as store:
        entries, cursor = store.journal.changes_since(cursor, _positive("--limit", args.limit))
    if args.json:
        body = {"entries": [entry_json(e) for e in entries], "cursor": cursor}
        print(json.dumps(body, ensure_ascii=False))
        return 0
    if entries:
        print(_table(entries))
    print(f"cursor {cursor}", file=sys.stderr)
    return 0
