"""The TUI with real devices attached: a reader, a scanner and an ESC/POS printer, each a
simulator served over TCP (``socket://``) by a pump thread, as ``posemu devsim`` does."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Label

from terminal.cli.tui_cmd import TuiRuntime, interactive_rules
from terminal.core.devices import PrinterStatus
from terminal.devices.sim.devices import PrinterSim, ReaderSim, ScannerSim
from terminal.devices.sim.transport import TcpEnd
from terminal.tui.screens import CardScreen, JournalScreen
from terminal.tui.screens.devices import DevicesScreen
from terminal.tui.screens.qr_cpm import SAMPLE_WALLET_CODE, QrCpmScreen
from terminal.tui.widgets import StatusBar
from tests.tui.helpers import FAST_CONFIG, Harness, drive, type_amount, wait_for, wait_result


class Bench:
    def __init__(self) -> None:
        quiet = lambda _text: None  # noqa: E731
        self.ends = {name: TcpEnd() for name in ("reader", "scanner", "printer")}
        self.reader = ReaderSim(self.ends["reader"], card="visa-approve", say=quiet)
        self.scanner = ScannerSim(self.ends["scanner"], code=SAMPLE_WALLET_CODE, say=quiet)
        self.shown: list[str] = []
        self.printer = PrinterSim(
            self.ends["printer"], status=PrinterStatus(), say=quiet, show=self.shown.append
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while not self._stop.is_set():
            for name, end in self.ends.items():
                data = end.read(0.01)
                if data and name == "printer":
                    self.printer.on_bytes(data)

    def url(self, name: str) -> str:
        return self.ends[name].label

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for end in self.ends.values():
            end.close()


@pytest.fixture
def bench_harness(tmp_path: Path) -> Iterator[tuple[Bench, Harness]]:
    bench = Bench()
    runtime = TuiRuntime(
        data_dir=tmp_path / "data",
        config=FAST_CONFIG,
        rules=interactive_rules(),
        signon_at_start=False,
        reader=bench.url("reader"),
        scanner=bench.url("scanner"),
        printer=bench.url("printer") + "?poll=0.2",
    )
    try:
        yield bench, Harness(runtime, runtime.open())
    finally:
        runtime.close()
        bench.close()


async def test_swipe_on_the_reader_pays_and_prints_on_the_printer(bench_harness):
    bench, harness = bench_harness
    devices = harness.services.devices
    assert devices is not None
    async with drive(harness.services) as (app, pilot):
        await wait_for(pilot, lambda: devices.reader.wait_online(0))
        await type_amount(pilot, "1000")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        bench.reader.command("bad", "lrc")  # a bad swipe: an error note, still waiting
        await wait_for(pilot, lambda: any("not read" in n.message for n in app._notifications))
        assert isinstance(app.screen, CardScreen)
        bench.reader.command("swipe", "")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "APPROVED"
        await wait_for(pilot, lambda: len(bench.printer.receipts) == 1)
        slip = bench.printer.receipts[0]
        assert slip.raw.startswith(b"\x1b@")
        assert "476173******0010" in slip.text
        entry = harness.journal.get(outcome.journal_id)
        assert not entry.never_printed
        assert app.status_info().printer == "ready"
        pane = str(app.screen.query_one(".slip").render())  # was: 'not printed: paper out?'
        await wait_for(pilot, lambda: "printed on" in str(app.screen.query_one(".slip").render()))
        assert "not printed" not in str(app.screen.query_one(".slip").render()), pane

        bench.printer.command("paper", "out")  # the status bar shows the real printer
        await wait_for(pilot, lambda: app.status_info().printer == "paper out", timeout=10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.home)
        await pilot.press("d")
        await wait_for(
            pilot, lambda: isinstance(app.screen, DevicesScreen) and app.screen.is_mounted
        )
        table = app.screen.query_one("#devices-table", DataTable)
        cells = [str(c) for row in range(table.row_count) for c in table.get_row_at(row)]
        assert bench.url("reader") in cells
        assert any("paper_out" in c for c in cells), cells


async def test_scan_on_the_wallet_code_screen_pays(bench_harness):
    bench, harness = bench_harness
    devices = harness.services.devices
    assert devices is not None
    async with drive(harness.services) as (app, pilot):
        await wait_for(pilot, lambda: devices.scanner.wait_online(0))
        await type_amount(pilot, "4200")
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, QrCpmScreen))
        bench.scanner.command("scan", "")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "APPROVED"
        assert outcome.result.kind.value == "qr-pay"


async def test_chip_card_swiped_on_the_reader_then_fallback(bench_harness):
    bench, harness = bench_harness
    devices = harness.services.devices
    assert devices is not None
    async with drive(harness.services) as (app, pilot):
        await wait_for(pilot, lambda: devices.reader.wait_online(0))
        await type_amount(pilot, "500")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        bench.reader.command("swipe", "chip-visa")  # a chip card: insert the chip
        await wait_for(pilot, lambda: any("fallback" in n.message for n in app._notifications))
        assert isinstance(app.screen, CardScreen)
        await pilot.press("f")  # the chip failed: the same swiped card, as a fallback
        outcome = await wait_result(app, pilot)
        entry = harness.journal.get(outcome.journal_id)
        assert entry.masked_pan.endswith(bench_card_last4("chip-visa"))
        assert entry.entry_mode.startswith("80")  # field 22: magstripe fallback


def bench_card_last4(name: str) -> str:
    from terminal.core.testcards import get_card

    return get_card(name).pan[-4:]


async def test_paper_out_mid_receipt_then_duplicate_from_the_journal(bench_harness):
    """Paper runs out mid-slip on the serial printer: the journal counts the copy as never
    printed; after the refill a DUPLICATE reprint comes out of the printer and the journal
    list is refreshed at once (it kept saying '1 never printed' until searched again)."""
    bench, harness = bench_harness
    devices = harness.services.devices
    assert devices is not None
    async with drive(harness.services) as (app, pilot):
        await wait_for(pilot, lambda: devices.reader.wait_online(0))
        bench.printer.command("paper-out-after", "5")
        await type_amount(pilot, "1000")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        bench.reader.command("swipe", "")
        outcome = await wait_result(app, pilot)
        await wait_for(pilot, lambda: harness.journal.get(outcome.journal_id).never_printed)
        bench.printer.command("paper", "in")
        await wait_for(pilot, lambda: app.status_info().printer == "ready", timeout=10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.home)
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen))

        def summary() -> str:
            return str(app.screen.query_one("#journal-summary", Label).render())

        await wait_for(pilot, lambda: "1 never printed" in summary())
        await pilot.press("r")
        await wait_for(pilot, lambda: len(bench.printer.receipts) == 2)
        assert "DUPLICATE" in bench.printer.receipts[1].text
        await wait_for(pilot, lambda: "0 never printed" in summary())
        assert "printed on" in str(app.screen.query_one(".slip").render())


async def test_devices_table_is_not_cut_at_80x24(bench_harness):
    """Device, Link (the URL), State and Last event all visible at 80x24 (State was cut)."""
    from terminal.tui.app import PosApp

    _bench, harness = bench_harness
    app = PosApp(harness.services)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)  # type: ignore[attr-defined]
        await pilot.press("d")
        await wait_for(
            pilot, lambda: isinstance(app.screen, DevicesScreen) and app.screen.is_mounted
        )
        table = app.screen.query_one("#devices-table", DataTable)
        await wait_for(pilot, lambda: table.row_count >= 3)
        await pilot.pause()
        assert table.virtual_size.width <= table.scrollable_content_region.width


async def test_status_bar_keeps_its_clock_with_a_printer_at_100_columns(bench_harness):
    """'printer ready' is longer than 'paper OK': at 100 columns the words form pushed the
    clock off the line; the bar falls back to short labels instead."""
    from terminal.tui.app import PosApp

    _bench, harness = bench_harness
    app = PosApp(harness.services)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.services.backend.running)  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: app.status_info().printer == "ready", timeout=10)
        app.refresh_status()
        await pilot.pause()
        bar = app.screen.query_one(StatusBar)
        text = bar.render()
        assert text.cell_len <= bar.content_size.width, text.plain
        assert re.search(r"\d\d:\d\d:\d\d$", text.plain), text.plain
