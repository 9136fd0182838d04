"""Entry point of the ``posemu`` console script.

Commands load lazily: :data:`COMMANDS` maps each command name to the module that implements
it, and only the module of the command being run is imported, so ``posemu --help`` or
``posemu card parse`` never pay for Textual, the engine or the codec. A command module
exposes ``add_parser(subparsers)`` (it may register several commands) and sets ``func``.
To add a command group: write ``terminal/cli/<name>_cmds.py`` and add one line to
:data:`COMMANDS`.

Errors of our own packages become one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import Any, NamedTuple, NoReturn

from terminal.cli.agent_options import AGENT_DESTS
from terminal.cli.options import add_global_options, emit_error, merge_global

__all__ = ["COMMANDS", "Command", "build_parser", "find_command", "main"]

EXIT_ERROR = 2


class Command(NamedTuple):
    module: str  # imported only when this command runs
    help: str  # shown by ``posemu --help`` without importing ``module``


#: Command name -> where it lives. One line per command; a module may serve several names.
COMMANDS: dict[str, Command] = {
    "tui": Command("terminal.cli.tui_cmd", "run the smart POS terminal in a text UI"),
    "pay": Command("terminal.cli.pay_cmds", "run a transaction against the acquirer host"),
    "journal": Command(
        "terminal.cli.journal_cmds", "find, show and reprint journal entries (lost receipts)"
    ),
    "store": Command(
        "terminal.cli.store_cmds", "check, back up, restore or reset the terminal's data"
    ),
    "cards": Command("terminal.cli.card_cmds", "list the named test cards"),
    "card": Command("terminal.cli.card_cmds", "card data tools"),
    "qr": Command("terminal.cli.card_cmds", "QR payload tools"),
    "host": Command("terminal.cli.host_cmd", "run the acquirer host simulator"),
    "iso8583": Command("terminal.cli.iso8583_cmds", "pack, unpack and inspect ISO 8583 messages"),
    "config": Command("terminal.cli.config_cmd", "show and change the terminal's settings"),
    "firmware": Command("terminal.cli.firmware_cmds", "publish, serve and install signed firmware"),
    "devsim": Command(
        "terminal.cli.devsim_cmd", "simulate a card reader, receipt printer or QR scanner"
    ),
    "agent": Command("terminal.cli.agent_cmd", "a headless terminal with its TMS agent"),
    "repair": Command("terminal.cli.agent_cmd", "send a repair request to the TMS"),
    "fleet": Command(
        "terminal.cli.fleet_cmd", "many emulated terminals with agents (TMS load test)"
    ),
    "tms": Command("terminal.cli.tms_cmds", "TMS console: watch terminals, send remote commands"),
}

#: Exception classes that mean "a problem in the user's terms": (module, class name). Checked
#: only if the module is already imported (an exception cannot come from an unloaded module).
_OUR_ERRORS = (
    ("iso8583.errors", "Iso8583Error"),
    ("terminal.core.errors", "TerminalError"),
    ("agent.errors", "AgentError"),
)


class _StoreOnce(argparse._StoreAction):
    """An option given twice with different values is refused: a tester who typed
    ``--amount 1.00 ... --amount 2.00`` must not be charged silently for the last one."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if option_string is not None:
            seen = namespace.__dict__.setdefault(_SEEN, {})
            first = seen.setdefault(self.dest, (option_string, values))
            if first[1] != values:
                parser.error(
                    f"{first[0]} given twice with different values: {first[1]!r} and {values!r}"
                )
        setattr(namespace, self.dest, values)


_SEEN = "_posemu_options_seen"  # removed from the namespace before anyone sees it


class _Parser(argparse.ArgumentParser):
    """A usage error is the documented error too: with ``--json``, also a JSON object on stdout
    (subcommand parsers are of the same class, so this holds for every command)."""

    json_errors = False  # set by :func:`main` from its argv

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)
        for action in self._actions:  # those copied from plain ``parents=`` parsers too
            if type(action) is argparse._StoreAction:
                action.__class__ = _StoreOnce

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, rest = super().parse_known_args(args, namespace)
        vars(parsed).pop(_SEEN, None)
        return parsed, rest

    def error(self, message: str) -> NoReturn:
        if _Parser.json_errors:
            body = {"ok": False, "error": f"{self.prog}: {message}", "error_kind": "input"}
            print(json.dumps({**body, "exit_status": EXIT_ERROR}, ensure_ascii=False), flush=True)
        super().error(message)


def _top_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="posemu",
        description="Smart POS terminal emulator. Without a command: the terminal UI.",
        allow_abbrev=False,  # so the command can be found without loading every module
    )
    add_global_options(parser)
    return parser


def find_command(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (skipping top-level options and their values), or None."""
    takes_value: dict[str, bool] = {}
    for action in _top_parser()._actions:
        for flag in action.option_strings:
            takes_value[flag] = action.nargs != 0
    args = iter(argv)
    for arg in args:
        if arg == "--":
            return next(args, None)
        if arg.startswith("-") and arg != "-":
            if "=" not in arg and takes_value.get(arg, False):
                next(args, None)
            continue
        return arg
    return None


def _load(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name].module)


def build_parser(load: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``posemu`` parser. ``load``: the commands whose modules are imported to add their
    full parsers (the others get a help-only stand-in); ``None`` loads every command."""
    wanted = set(COMMANDS) if load is None else {n for n in load if n in COMMANDS}
    modules = {COMMANDS[n].module for n in wanted}
    parser = _top_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    added: set[str] = set()
    for name, command in COMMANDS.items():
        if command.module in modules:
            if command.module not in added:
                added.add(command.module)
                importlib.import_module(command.module).add_parser(sub)
        elif name not in sub.choices:
            sub.add_parser(name, help=command.help, description=command.help)
    return parser


def _run_tui(args: argparse.Namespace) -> int:
    return int(_load("tui").run_tui(args))


def _ours(exc: BaseException) -> bool:
    for module_name, class_name in _OUR_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = find_command(argv)
    parser = build_parser([command] if command else [])
    _Parser.json_errors = "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", None) or _run_tui
    try:
        if args.command is None:  # the TUI: it takes every top-level option
            args.host = args.spec = args.data_dir = args.theme = None
            args.reader = args.printer = args.scanner = args.firmware_url = None
            args.__dict__.update(dict.fromkeys(AGENT_DESTS))  # the agent's, same way
        merge_global(args)
        return int(func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if not _ours(exc):
            raise
        return emit_error(str(exc), as_json=bool(getattr(args, "json", False)), code=EXIT_ERROR)


if __name__ == "__main__":
    sys.exit(main())
