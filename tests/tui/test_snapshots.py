"""How the POS looks, at a fixed 100x32, from the deterministic demo (fixed clock, config
and journal): home, an approved result with its receipt, the journal, the QR code.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the SVGs in ``tests/tui/__snapshots__``.
"""

from __future__ import annotations

import pytest

from terminal.demo import DemoApp

SNAPSHOT_SIZE = (100, 32)


async def _settle(pilot) -> None:
    await pilot.pause(0.2)  # the scene's screen is pushed on mount
    await pilot.pause()


@pytest.mark.parametrize("scene", ["home", "result", "journal", "qr"])
def test_scene(snap_compare, scene):
    assert snap_compare(DemoApp(scene), terminal_size=SNAPSHOT_SIZE, run_before=_settle)


def test_home_light_theme(snap_compare):
    app = DemoApp("home", theme="light")
    assert snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=_settle)
