"""The terminal's options, shared by ``posemu`` (no command: the TUI) and ``posemu tui``.

Kept apart from ``tui_cmd`` so the top-level parser can be built without importing the
TUI, the engine or the codec.
"""

from __future__ import annotations

import argparse

from terminal.cli.agent_options import add_agent_options

__all__ = ["THEMES", "add_terminal_options"]

THEMES = ("dark", "light")


def add_terminal_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        help="acquirer host as HOST:PORT or tcp://HOST:PORT (default: start the host "
        "simulator in-process)",
    )
    p.add_argument("--spec", default="iso87ascii", help="dialect name or dialect file")
    p.add_argument("--data-dir", help="terminal data directory (default: per-user data dir)")
    p.add_argument("--theme", choices=THEMES, default="dark", help="colour theme")
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
