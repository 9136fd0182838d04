"""Blocking I/O stays off Textual's event loop: every journal write of a sale (each one an
fsync'd SQLite commit) runs on the runtime's I/O thread or a printing thread."""

from __future__ import annotations

import threading

from terminal.tui.screens import CardScreen
from tests.tui.helpers import drive, pick_card, type_amount, wait_for, wait_result


async def test_a_sales_journal_writes_never_run_on_the_ui_loop(harness, monkeypatch):
    journal = harness.runtime.runtime.store.journal
    threads: list[tuple[str, str]] = []
    for name in ("add", "update", "set_copy_status", "add_copy", "get", "find"):
        real = getattr(journal, name)

        def recording(*args, _real=real, _name=name, **kwargs):
            threads.append((_name, threading.current_thread().name))
            return _real(*args, **kwargs)

        monkeypatch.setattr(journal, name, recording)

    async with drive(harness.services) as (app, pilot):
        ui_thread = threading.current_thread().name
        await type_amount(pilot, "1500")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardScreen))
        await pick_card(app, pilot, "visa-approve")
        outcome = await wait_result(app, pilot)
        assert outcome.title == "APPROVED"

    writes = [t for t in threads if t[0] in ("add", "update", "set_copy_status")]
    assert len(writes) >= 4  # created, sent, answered + receipt, copy printed
    assert [t for t in threads if t[1] == ui_thread] == []
    assert any(t[1] == "posemu-engine" for t in writes)
