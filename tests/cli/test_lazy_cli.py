"""The CLI loads lazily: a command imports only what it uses (fast start, issue 7).

Each case runs ``posemu`` in a fresh interpreter and checks which modules got imported, not
how long it took (no timed assertions on shared CI cores).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.cli.main import COMMANDS, build_parser, find_command

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import contextlib, io, json, sys
from terminal.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

# (argv, modules that must not be imported)
_HEAVY_UI = ("textual", "terminal.tui", "rich")
_ENGINE = ("terminal.engine", "terminal.store", "sqlite3", "terminal.net")
CASES = [
    (["--help"], (*_HEAVY_UI, *_ENGINE, "iso8583", "construct")),
    (["iso8583", "specs"], (*_HEAVY_UI, *_ENGINE)),
    (["card", "parse", ";4761739001010010=28122011758900000000?"], (*_HEAVY_UI, *_ENGINE)),
    (["qr", "parse", "not a payload"], (*_HEAVY_UI, *_ENGINE)),
    (["cards", "--json"], (*_HEAVY_UI, *_ENGINE)),
    (["pay", "--help"], _HEAVY_UI),
    (["journal", "--help"], _HEAVY_UI),
    (["host", "--help"], _HEAVY_UI),
]


def _imported(argv: list[str]) -> tuple[int, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize(("argv", "forbidden"), CASES, ids=lambda v: " ".join(v)[:30])
def test_command_imports_only_what_it_uses(argv: list[str], forbidden: tuple[str, ...]) -> None:
    code, modules = _imported(argv)
    assert code in (0, 2, None)
    loaded = sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))
    assert loaded == [], f"posemu {' '.join(argv)} imported {loaded[:8]}"


def test_no_command_module_but_the_tuis_imports_textual() -> None:
    """Every registered command module (those added later too), loaded in one process."""
    others = sorted(n for n in COMMANDS if COMMANDS[n].module != COMMANDS["tui"].module)
    probe = (
        "import json, sys\n"
        "from terminal.cli.main import build_parser\n"
        f"build_parser({others!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    modules = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(m for m in modules if m.split(".")[0] in ("textual", "rich")) == []


def test_tui_command_still_loads_the_tui() -> None:
    parser = build_parser(["tui"])
    from terminal.cli.tui_cmd import run_tui

    assert parser.parse_args(["tui", "--theme", "light"]).func is run_tui


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        ([], None),
        (["--theme", "light"], None),
        (["--host", "pay", "journal"], "journal"),  # an option's value is not the command
        (["--host=h:1", "pay", "sale"], "pay"),
        (["--data-dir", "/tmp/x", "card", "parse", "x"], "card"),
        (["--", "qr"], "qr"),
    ],
)
def test_find_command_skips_top_level_options(argv: list[str], command: str | None) -> None:
    assert find_command(argv) == command


def test_help_lists_every_command_without_loading_it() -> None:
    text = build_parser([]).format_help()
    for name, command in COMMANDS.items():
        assert name in text
        assert command.help.split()[0] in text


def test_full_parser_matches_the_table() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(COMMANDS) <= set(sub.choices)
