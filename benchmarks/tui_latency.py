"""TUI responsiveness against the targets of the TUI issue, printed as ratios to the limit.

* card-to-result: from pressing Enter on a test card to the first complete frame of the
  result screen, with the embedded host over real loopback TCP (target: under 100 ms).
  Measured in-process with Textual's headless driver: from handing the key event to the
  driver to the frame being rendered to terminal bytes (see :func:`card_to_result`); the
  first sale (sign-on, connection set-up) is reported apart.
* start-up: from launching the real ``posemu`` command in a tmux pane until its first frame
  (the status bar) is on screen (target: under 1.5 s), the way a tester experiences it.

Run: ``.venv/bin/python -m benchmarks.tui_latency [--sales 20] [--starts 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual import events
from textual.widgets import OptionList

from terminal.cli.tui_cmd import TuiRuntime, interactive_rules
from terminal.config import TerminalConfig
from terminal.core.testcards import CARDS
from terminal.tui.app import PosApp
from terminal.tui.screens import CardScreen, HomeScreen, ResultScreen

CARD_TO_RESULT_LIMIT_MS = 100.0
STARTUP_LIMIT_S = 1.5
ROOT = Path(__file__).resolve().parent.parent
#: Terminal control sequences (CSI, OSC), stripped to read the text a frame draws.
_ESCAPES = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\))")


async def _until(pilot: object, predicate: object, timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise SystemExit("the TUI did not reach the expected screen")
        await pilot.pause(0.001)  # type: ignore[attr-defined]


class FrameProbe:
    """Timestamps the first frame that puts a new result on the terminal.

    It wraps ``App._display``, the one call every screen refresh goes through with the
    frame the compositor has just rendered (every changed widget drawn into strips). The
    headless driver would drop the frame there; the probe turns each frame of the measured
    window into the bytes a real driver writes (``render_segments``), so that cost is in
    the time too, and reads the text of those bytes. The result counts as on screen at the
    first frame by which, since the sale's outcome was recorded, the result screen is on
    top showing that outcome and its title, its message (with the auth code, new for every
    sale) and the printed merchant copy's heading have all been drawn.
    """

    def __init__(self, app: PosApp) -> None:
        self.app = app
        self.done = asyncio.Event()
        self.at = 0.0
        self._count: int | None = None
        self._missing: set[str] | None = None
        self._display = app._display
        app._display = self._probe  # type: ignore[method-assign]

    def arm(self) -> None:
        """Watch for the result of the next outcome."""
        self.done.clear()
        self.at = 0.0
        self._count = len(self.app.outcomes)
        self._missing = None

    def _probe(self, screen: object, renderable: object) -> None:
        self._display(screen, renderable)  # type: ignore[arg-type]
        if renderable is None or self._count is None or self.done.is_set():
            return
        text = renderable.render_segments(self.app.console)  # type: ignore[attr-defined]
        app = self.app
        if screen is not app.screen or not isinstance(screen, ResultScreen):
            return
        if len(app.outcomes) <= self._count or screen.outcome is not app.outcomes[-1]:
            return
        if self._missing is None:
            outcome = screen.outcome
            self._missing = {outcome.title, outcome.message, "MERCHANT COPY"}
        drawn = _ESCAPES.sub("", text)
        self._missing = {part for part in self._missing if part not in drawn}
        if not self._missing:
            self.at = time.perf_counter()
            self._count = None
            self.done.set()


async def card_to_result(sales: int) -> list[float]:
    """Seconds from Enter on the card to the first frame of its result, one per sale.

    Start: just before the Enter key event is handed to the App's driver (as Textual's
    Pilot does, but without Pilot's wait-until-idle, which would add its own 20 ms ticks
    and wait for the status bar and spinner to go quiet). End: the first frame drawn with
    the ResultScreen on top, complete (see :class:`FrameProbe`). The loop is not polled
    meanwhile: the benchmark waits on an event the probe sets.
    """
    timings: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        runtime = TuiRuntime(
            data_dir=Path(tmp),
            config=TerminalConfig(),
            rules=interactive_rules(),
            signon_at_start=False,
        )
        services = runtime.open()
        try:
            app = PosApp(services)
            async with app.run_test(size=(100, 32)) as pilot:
                probe = FrameProbe(app)
                index = [card.name for card in CARDS].index("visa-approve")
                for _ in range(sales):
                    await _until(pilot, lambda: isinstance(app.screen, HomeScreen))
                    await pilot.press("1", "0", "0", "0", "enter")
                    await _until(pilot, lambda: isinstance(app.screen, CardScreen))
                    app.screen.query_one("#cards", OptionList).highlighted = index
                    await pilot.pause()
                    count = len(app.outcomes)
                    probe.arm()
                    enter = events.Key("enter", "\r")
                    enter.set_sender(app)
                    driver = app._driver
                    assert driver is not None
                    start = time.perf_counter()
                    driver.send_message(enter)
                    try:
                        await asyncio.wait_for(probe.done.wait(), 10.0)
                    except TimeoutError:
                        raise SystemExit("the result screen was never drawn") from None
                    timings.append(probe.at - start)
                    if len(app.outcomes) <= count or app.outcomes[-1].title != "APPROVED":
                        raise SystemExit("the sale was not approved: not the path measured")
                    await pilot.press("enter")
        finally:
            runtime.close()
    return timings


def startup(starts: int) -> list[float]:
    """Seconds from launching ``posemu`` in tmux to the status bar on screen."""
    if shutil.which("tmux") is None:
        return []
    posemu = Path(sys.executable).with_name("posemu")
    timings = []
    for i in range(starts):
        with tempfile.TemporaryDirectory() as tmp:
            sock = f"posemu-bench-{i}"
            start = time.perf_counter()
            subprocess.run(
                [
                    "tmux",
                    "-L",
                    sock,
                    "new-session",
                    "-d",
                    "-x",
                    "100",
                    "-y",
                    "32",
                    f"{posemu} --data-dir {tmp}",
                ],
                check=True,
                cwd=ROOT,
            )
            try:
                while time.perf_counter() - start < 15:
                    screen = subprocess.run(
                        ["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True, text=True
                    ).stdout
                    if "TID" in screen and "type the amount" in screen:
                        timings.append(time.perf_counter() - start)
                        break
                    time.sleep(0.01)
            finally:
                subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=20)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args(argv)
    sales = asyncio.run(card_to_result(args.sales + 1))
    first, rest = sales[0] * 1000, [t * 1000 for t in sales[1:]]
    p50 = statistics.median(rest)
    worst = max(rest)
    print(
        f"card -> result (embedded host, {len(rest)} sales after the first): "
        f"p50 {p50:.1f} ms, max {worst:.1f} ms; first sale (sign-on included) {first:.1f} ms"
    )
    print(
        f"  limit {CARD_TO_RESULT_LIMIT_MS:.0f} ms: p50/limit {p50 / CARD_TO_RESULT_LIMIT_MS:.2f}"
        f", max/limit {worst / CARD_TO_RESULT_LIMIT_MS:.2f}"
    )
    starts = startup(args.starts)
    if starts:
        med = statistics.median(starts)
        print(
            f"start-up to first frame (posemu in tmux, {len(starts)} runs): median {med:.2f} s,"
            f" max {max(starts):.2f} s"
        )
        print(f"  limit {STARTUP_LIMIT_S:.1f} s: median/limit {med / STARTUP_LIMIT_S:.2f}")
    elif args.starts:
        print("start-up: tmux not installed, not measured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
