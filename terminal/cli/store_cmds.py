"""``posemu store check|backup|restore|reset|new-key``: look after the terminal's data directory.

What to do when the store is damaged or gone: ``check`` says what is wrong; ``restore`` puts
a backup in place (the current files are kept: a safety copy, or moved to
``backups/damaged-<time>/``); ``reset`` starts a new, empty store explicitly; ``new-key``
starts a new data key when the old one is lost for good. Nothing here deletes a file.

Exit status: 0 done (check: healthy), 2 a problem or bad arguments; one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from terminal.core.errors import TerminalError

__all__ = ["add_parser"]

EXIT_ERROR = 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(  # default None: main merges a top-level `posemu --data-dir D store`
        "--data-dir",
        type=Path,
        help="terminal data directory (default: per user)",
    )
    p = sub.add_parser("store", help="check, back up, restore or reset the terminal's data")
    cmds = p.add_subparsers(dest="store_cmd", required=True)

    check = cmds.add_parser("check", parents=[common], help="is the store healthy? (read-only)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=_guarded(cmd_check))

    backup = cmds.add_parser("backup", parents=[common], help="write a consistent backup")
    backup.add_argument("--to", type=Path, default=None, help="file (default: backups/)")
    backup.set_defaults(func=_guarded(cmd_backup))

    restore = cmds.add_parser(
        "restore", parents=[common], help="put a backup in place of the database"
    )
    restore.add_argument("backup_file", type=Path, metavar="FILE", help="a backup .db file")
    restore.set_defaults(func=_guarded(cmd_restore))

    reset = cmds.add_parser(
        "reset", parents=[common], help="start a new, empty store (old files moved aside)"
    )
    reset.add_argument("--yes", action="store_true", help="required: yes, start from nothing")
    reset.set_defaults(func=_guarded(cmd_reset))

    new_key = cmds.add_parser(
        "new-key", parents=[common], help="start a new data key (tokens under the old one go)"
    )
    new_key.add_argument("--yes", action="store_true", help="required: the old key is lost")
    new_key.set_defaults(func=_guarded(cmd_new_key))


def _guarded(command: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(command(args))
        except TerminalError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR

    run.__doc__ = command.__doc__
    return run


def _data_dir(args: argparse.Namespace) -> Path:
    """--data-dir, else $POSEMU_DATA_DIR, else the per-user folder: as every other command."""
    from terminal.settings import resolve_data_dir

    return resolve_data_dir(getattr(args, "data_dir", None))[0]


def cmd_check(args: argparse.Namespace) -> int:
    """Open read-only, run the integrity check, verify the data key; report."""
    from terminal.store import StoreMissingError, TerminalStore
    from terminal.store.presence import backups

    data_dir = _data_dir(args)
    try:
        opened = TerminalStore(data_dir, read_only=True)
    except StoreMissingError:  # nothing lost: no store was ever made here
        print(
            json.dumps({"ok": True, "store": None}) if args.json else f"no store yet in {data_dir}"
        )
        return 0
    with opened as store:
        report: dict[str, Any] = {
            "database": str(store.path),
            "schema_version": store.db.schema_version(),
            "journal_entries": len(store.journal.find(_all())),
            "pending_reversals": store.saf.count(),
            "data_key_check_value": store.vault.check(),
            "backups": [str(p) for p in backups(data_dir)],
        }
    if args.json:
        print(json.dumps({"ok": True, **report}))
    else:
        print(f"ok: {report['database']}")
        for key, value in report.items():
            if key != "database":
                shown = ", ".join(value) if isinstance(value, list) else value
                print(f"  {key.replace('_', ' ')}: {shown if shown not in (None, '') else '-'}")
    return 0


def _all() -> Any:
    from terminal.core.journal import JournalQuery

    return JournalQuery(limit=10**9)


def cmd_backup(args: argparse.Namespace) -> int:
    from terminal.store import TerminalStore

    with TerminalStore(_data_dir(args), read_only=True) as store:  # works on a read-only dir
        print(store.backup(args.to))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore ``FILE``; a healthy store is kept as a safety copy, a lost one moved aside."""
    from terminal.store import StoreCorruptError, StoreMissingError, TerminalStore

    data_dir = _data_dir(args)
    try:
        store = TerminalStore(data_dir, create=False)
    except (StoreCorruptError, StoreMissingError):
        moved = TerminalStore.restore_lost(data_dir, args.backup_file)
        where = f"; the old files are in {moved}" if moved else ""
        print(f"restored {args.backup_file} into {data_dir}{where}")
        return 0
    with store:
        safety = store.restore(args.backup_file)
    print(f"restored {args.backup_file} into {data_dir}; the replaced data is in {safety}")
    return 0


def _confirmed(args: argparse.Namespace, what: str) -> bool:
    """Destructive-looking commands say what they do and want ``--yes``."""
    if not args.yes:
        print(f"error: {what}. Add --yes to do it", file=sys.stderr)
    return bool(args.yes)


def cmd_reset(args: argparse.Namespace) -> int:
    from terminal.store import TerminalStore

    if not _confirmed(
        args,
        "reset starts a new, empty store (trace numbers restart, the journal is empty);"
        " the old files are moved to backups/damaged-*/",
    ):
        return EXIT_ERROR
    data_dir = _data_dir(args)
    moved = TerminalStore.reset(data_dir)
    where = f"; the old files are in {moved}" if moved else ""
    print(f"new store in {data_dir}{where}")
    return 0


def cmd_new_key(args: argparse.Namespace) -> int:
    from terminal.store import TerminalStore

    if not _confirmed(
        args,
        "new-key deletes every card token sealed under the old data key (voids and refunds"
        " by reference still work)",
    ):
        return EXIT_ERROR
    with TerminalStore(_data_dir(args), create=False) as store:
        moved = store.new_key()
    where = f"; the old key file is in {moved}" if moved else ""
    print(f"a new data key will be made at the next sale{where}")
    return 0
