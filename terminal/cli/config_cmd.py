"""``posemu config show|set|unset|path``: the terminal's settings file.

``show`` lists every setting with its value and where it came from (option, environment,
settings file, default); the TMK is shown by its key check value only. ``set`` validates the
whole result before it writes settings.toml atomically. Exit status: 0 done, 2 bad input.
"""

from __future__ import annotations

import argparse
import json

from terminal.cli.options import emit_error, terminal_settings
from terminal.core.errors import TerminalError

__all__ = ["add_parser"]

EXIT_BAD_INPUT = 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", help="terminal data directory (default: $POSEMU_DATA_DIR, else per user)"
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("config", help="show and change the terminal's settings")
    cmds = p.add_subparsers(dest="config_cmd", required=True)
    show = cmds.add_parser("show", parents=[common], help="every setting and where it is from")
    show.add_argument("--host", help="show as if given this --host")
    show.set_defaults(func=cmd_show)
    st = cmds.add_parser("set", parents=[common], help="change settings: NAME VALUE [NAME VALUE]")
    st.add_argument("pairs", nargs="+", metavar="NAME VALUE", help="e.g. terminal_id TID00042")
    st.set_defaults(func=cmd_set)
    un = cmds.add_parser("unset", parents=[common], help="back to the default: NAME...")
    un.add_argument("names", nargs="+", metavar="NAME")
    un.set_defaults(func=cmd_unset)
    path = cmds.add_parser("path", parents=[common], help="where the settings file is")
    path.set_defaults(func=cmd_path)


def cmd_show(args: argparse.Namespace) -> int:
    from terminal.settings import describe, settings_path

    try:
        config, sources, data_dir = terminal_settings(args)
    except TerminalError as exc:
        return emit_error(str(exc), as_json=args.json, code=EXIT_BAD_INPUT, kind="input")
    rows = describe(config, sources)
    if args.json:
        body = {
            "file": str(settings_path(data_dir)),
            "settings": {name: {"value": value, "source": src} for name, value, src in rows},
        }
        print(json.dumps(body, ensure_ascii=False))
        return 0
    print(f"# {settings_path(data_dir)}")
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        print(f"{name:<{width}}  {value}  ({source})")
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    from terminal.settings import resolve_data_dir, save_settings

    if len(args.pairs) % 2:
        return emit_error(
            f"'config set' takes NAME VALUE pairs; {args.pairs[-1]!r} has no value",
            as_json=args.json,
            code=EXIT_BAD_INPUT,
            kind="input",
        )
    changes = dict(zip(args.pairs[::2], args.pairs[1::2], strict=True))
    data_dir, _ = resolve_data_dir(args.data_dir)
    try:
        path = save_settings(data_dir, changes)
    except (TerminalError, OSError) as exc:
        return emit_error(str(exc), as_json=args.json, code=EXIT_BAD_INPUT, kind="input")
    _done(args, path, sorted(changes))
    return 0


def cmd_unset(args: argparse.Namespace) -> int:
    from terminal.settings import resolve_data_dir, save_settings

    data_dir, _ = resolve_data_dir(args.data_dir)
    try:
        path = save_settings(data_dir, dict.fromkeys(args.names))
    except (TerminalError, OSError) as exc:
        return emit_error(str(exc), as_json=args.json, code=EXIT_BAD_INPUT, kind="input")
    _done(args, path, sorted(args.names), verb="removed from")
    return 0


def _done(args: argparse.Namespace, path: object, names: list[str], verb: str = "saved in") -> None:
    if args.json:
        print(json.dumps({"ok": True, "file": str(path), "changed": names}))
    else:
        print(f"{', '.join(names)}: {verb} {path}")


def cmd_path(args: argparse.Namespace) -> int:
    from terminal.settings import resolve_data_dir, settings_path

    data_dir, _ = resolve_data_dir(args.data_dir)
    path = settings_path(data_dir)
    if args.json:
        print(json.dumps({"file": str(path), "exists": path.exists()}))
    else:
        print(path)
    return 0
