"""Entry point of the ``posemu`` console script.

Every subcommand module exposes ``add_parser(subparsers)`` and sets ``func``; errors of our own
packages become one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from iso8583 import Iso8583Error
from terminal.cli import iso8583_cmds

__all__ = ["build_parser", "main"]

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posemu", description="Smart POS terminal emulator")
    sub = parser.add_subparsers(dest="command")
    iso8583_cmds.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except Iso8583Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
