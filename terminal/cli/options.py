"""Options shared by the commands: where they may be given, and what they mean.

Kept apart from ``tui_cmd`` so the top-level parser can be built without importing the
TUI, the engine or the codec (everything heavy is imported inside the functions).

Why here: ``posemu --host X pay echo`` must talk to X, not quietly to the embedded host.
argparse lets a subcommand's defaults overwrite the top-level values, so the top-level
options are parsed under their own names and merged by :func:`merge_global`, which refuses
them where they do not apply. One address syntax (``HOST:PORT``, ``tcp://``, ``tls://``)
and one way from options, environment and settings file to a :class:`TerminalConfig`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from terminal.cli.agent_options import AGENT_DESTS, add_agent_options
from terminal.core.errors import TerminalError

if TYPE_CHECKING:
    from terminal.config import TerminalConfig

__all__ = [
    "GLOBAL_OPTIONS",
    "THEMES",
    "OptionError",
    "add_global_options",
    "add_terminal_options",
    "amount_fields",
    "emit_error",
    "merge_global",
    "spec_from",
    "terminal_settings",
]

#: Top-level option dest -> the dest a subcommand uses for it.
GLOBAL_OPTIONS: Final = {
    "global_host": "host",
    "global_spec": "spec",
    "global_data_dir": "data_dir",
    "global_theme": "theme",
    "global_reader": "reader",
    "global_printer": "printer",
    "global_scanner": "scanner",
    "global_firmware_url": "firmware_url",
    **{f"global_{dest}": dest for dest in AGENT_DESTS},
}


THEMES: Final = ("dark", "light")


class OptionError(TerminalError, ValueError):
    """An option given where it does not apply, twice with different values, or malformed."""


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The top-level options: valid before any command that has the same option."""
    parser.add_argument(
        "--host",
        dest="global_host",
        metavar="HOST",
        help="acquirer host as HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT (default: "
        "$POSEMU_HOST, the settings file, else the host simulator in-process)",
    )
    parser.add_argument(
        "--spec",
        dest="global_spec",
        metavar="SPEC",
        help="dialect name or dialect file (default: iso87ascii)",
    )
    parser.add_argument(
        "--data-dir",
        dest="global_data_dir",
        metavar="DIR",
        help="terminal data directory (default: $POSEMU_DATA_DIR, else per user)",
    )
    parser.add_argument(
        "--theme", dest="global_theme", choices=THEMES, help="colour theme of the TUI"
    )
    parser.add_argument(
        "--reader", dest="global_reader", metavar="URL", help="magnetic-stripe reader (TUI)"
    )
    parser.add_argument(
        "--printer", dest="global_printer", metavar="URL", help="receipt printer (pyserial URL)"
    )
    parser.add_argument(
        "--scanner", dest="global_scanner", metavar="URL", help="QR / barcode scanner (TUI)"
    )
    parser.add_argument(
        "--firmware-url",
        dest="global_firmware_url",
        metavar="URL",
        help="firmware repository for the TUI's firmware screen",
    )
    add_agent_options(parser, embedded_default=True, dest_prefix="global_")


def add_terminal_options(p: argparse.ArgumentParser) -> None:
    """The options of ``posemu tui`` (the same as the top-level ones)."""
    p.add_argument(
        "--host",
        help="acquirer host as HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT (default: "
        "$POSEMU_HOST, the settings file, else the host simulator in-process)",
    )
    p.add_argument("--spec", help="dialect name or dialect file (default: iso87ascii)")
    p.add_argument(
        "--data-dir", help="terminal data directory (default: $POSEMU_DATA_DIR, else per user)"
    )
    p.add_argument("--theme", choices=THEMES, help="colour theme (default: dark)")
    p.add_argument(
        "--reader",
        metavar="URL",
        help="magnetic-stripe reader (pyserial URL: /dev/ttyUSB0?baudrate=9600, /dev/pts/N, "
        "socket://HOST:PORT, rfc2217://HOST:PORT)",
    )
    p.add_argument(
        "--printer",
        metavar="URL",
        help="ESC/POS receipt printer (pyserial URL, or file:PATH); default: the screen's pane",
    )
    p.add_argument("--scanner", metavar="URL", help="QR / barcode scanner (pyserial URL)")
    p.add_argument(
        "--firmware-url", help="firmware repository for the firmware screen (posemu firmware serve)"
    )
    add_agent_options(p, embedded_default=True)


def merge_global(args: argparse.Namespace) -> None:
    """Move top-level options onto the command's own, refusing where they do not apply."""
    command = _command_name(args)
    for top, dest in GLOBAL_OPTIONS.items():
        value = getattr(args, top, None)
        if hasattr(args, top):
            delattr(args, top)
        if value is None:
            continue
        flag = "--" + dest.replace("_", "-")
        if not hasattr(args, dest):
            raise OptionError(f"{flag} does not apply to '{command}'")
        own = getattr(args, dest)
        if own is not None and str(own) != str(value):
            raise OptionError(
                f"{flag} given twice: {value!r} before '{command}' and {own!r} after it"
            )
        setattr(args, dest, type(own)(value) if isinstance(own, Path) else value)


def _command_name(args: argparse.Namespace) -> str:
    parts = ["posemu"]
    for attr in (
        "command",
        "pay_cmd",
        "journal_cmd",
        "card_cmd",
        "qr_cmd",
        "iso_cmd",
        "config_cmd",
    ):
        value = getattr(args, attr, None)
        if isinstance(value, str):
            parts.append(value)
    return " ".join(parts)


def spec_from(name: str | None, *, flag: str = "--spec") -> Any:
    """The dialect: a built-in name or an existing dialect file, with a user-term error."""
    from iso8583 import Iso8583Error, spec_names
    from terminal.cli.iso8583_cmds import resolve_spec

    name = name or "iso87ascii"
    if name not in spec_names():
        path = Path(name)
        looks_like_file = path.suffix or "/" in name or "\\" in name
        if looks_like_file and not path.exists():
            raise OptionError(f"{flag} {name}: no such dialect file")
        if looks_like_file and path.suffix.lower() not in (".toml", ".json", ".xml"):
            raise OptionError(f"{flag} {name}: a dialect file ends in .toml, .json or .xml")
        if not looks_like_file:
            known = ", ".join(sorted(spec_names()))
            raise OptionError(f"{flag} {name}: not a built-in dialect ({known}) or a file")
    try:
        return resolve_spec(name)
    except Iso8583Error as exc:
        raise OptionError(f"{flag} {name}: {exc}") from None


def terminal_settings(
    args: argparse.Namespace, **extra: tuple[Any, str]
) -> tuple[TerminalConfig, dict[str, str], Path]:
    """Config, sources and data directory for a command from its options and the settings.

    The command's ``--host``/``--spec``/``--data-dir``/``--tls-*`` beat ``$POSEMU_HOST``/
    ``$POSEMU_DATA_DIR`` and the data directory's settings.toml.
    """
    from terminal.settings import load_settings, normalise_host, resolve_data_dir

    data_dir, _ = resolve_data_dir(getattr(args, "data_dir", None))
    overrides: dict[str, tuple[Any, str]] = dict(extra)
    host = getattr(args, "host", None)
    if host:
        overrides["host"] = (normalise_host(host, what="--host"), "--host")
    for name in ("tls_ca", "tls_cert", "tls_key"):
        value = getattr(args, name, None)
        if value:
            if not Path(value).is_file():
                raise OptionError(f"--{name.replace('_', '-')} {value}: no such file")
            overrides[name] = (value, f"--{name.replace('_', '-')}")
    config, sources = load_settings(data_dir, overrides=overrides)
    return config, sources, data_dir


def amount_fields(minor: int | None, currency: str) -> dict[str, Any]:
    """See :func:`terminal.core.journal.amount_json`: one representation of money."""
    from terminal.core.journal import amount_json

    return amount_json(minor, currency)


def emit_error(text: str, *, as_json: bool, code: int, kind: str = "error") -> int:
    """One ``error:`` line on stderr and, with ``--json``, a JSON object on stdout."""
    print(f"error: {text}", file=sys.stderr, flush=True)
    if as_json:
        body = {"ok": False, "error": text, "error_kind": kind, "exit_status": code}
        print(json.dumps(body, ensure_ascii=False), flush=True)
    return code
