"""Entry point of the ``posemu`` console script.

Every subcommand module exposes ``add_parser(subparsers)`` and sets ``func``; errors of our own
packages become one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from iso8583 import Iso8583Error
from terminal.cli import (
    card_cmds,
    config_cmd,
    host_cmd,
    iso8583_cmds,
    journal_cmds,
    pay_cmds,
    tui_cmd,
)
from terminal.cli.options import add_global_options, emit_error, merge_global
from terminal.core.errors import TerminalError

__all__ = ["build_parser", "main"]

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posemu",
        description="Smart POS terminal emulator. Without a command: the terminal UI.",
    )
    add_global_options(parser)
    parser.add_argument(
        "--theme", dest="global_theme", choices=tui_cmd.THEMES, help="colour theme of the TUI"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (tui_cmd, pay_cmds, journal_cmds, card_cmds, host_cmd, iso8583_cmds, config_cmd):
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None) or tui_cmd.run_tui
    try:
        if args.command is None:  # the TUI: it takes every top-level option
            args.host = args.spec = args.data_dir = args.theme = None
        merge_global(args)
        return int(func(args))
    except (Iso8583Error, TerminalError) as exc:
        return emit_error(str(exc), as_json=bool(getattr(args, "json", False)), code=EXIT_ERROR)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
