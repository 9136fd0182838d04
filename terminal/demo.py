"""A deterministic POS for snapshots and screenshots: fixed clock, config, data and scene.

Why: a snapshot must not change with the time of day, the host's random auth codes or
whatever is in the user's journal. The demo runs the real service against the in-process
host simulator, in a fresh data directory under a temp path, with a fixed clock; the
journal is seeded with fixed transactions (one whose receipt never printed), and a scene
(``home``, ``result``, ``journal``, ``qr``) is opened from that fixed data. Nothing is sent
to the host unless the user of ``python -m terminal.demo`` starts an operation.

It lives beside the wiring, not in ``terminal.tui``: the TUI itself builds no adapter.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from iso8583.acquirer.model import TxnKind
from terminal.cli.tui_cmd import TuiRuntime
from terminal.config import TerminalConfig
from terminal.core.journal import JournalEntry, PrintStatus, ReceiptCopyRecord, TxnState
from terminal.core.ports import JournalStore
from terminal.core.qr.order import mpm_payload
from terminal.core.receipts import render_text
from terminal.core.transactions import build_receipt
from terminal.engine.results import TxnResult
from terminal.tui.app import PosApp
from terminal.tui.messages import ReceiptPrinted
from terminal.tui.outcome import Operation, Outcome, outcome_from_result
from terminal.tui.screens import JournalScreen, QrMpmScreen, ResultScreen

__all__ = ["FIXED_NOW", "SCENES", "DemoApp", "build_demo", "fixed_clock", "seed_journal"]

FIXED_NOW: Final = datetime(2025, 3, 14, 15, 9, 26)
SCENES: Final = ("home", "result", "journal", "qr")
DEMO_AMOUNT: Final = 1234
DEMO_ORDER: Final = "POSEMU01000001000007"


def fixed_clock() -> datetime:
    return FIXED_NOW


# (minutes before FIXED_NOW, kind, state, amount, masked PAN, brand, code, auth, rrn, printed)
_SEED: Final = (
    (95, TxnKind.SALE, TxnState.APPROVED, 4200, "476173******0010", "Visa", "00", "A1B2C3",
     "507309000001", True),
    (80, TxnKind.SALE, TxnState.DECLINED, 1551, "541333******0434", "Mastercard", "51", "",
     "507309000002", True),
    (62, TxnKind.SALE, TxnState.APPROVED, 8800, "520082******8210", "Mastercard", "00", "Q7W8E9",
     "507309000003", False),
    (40, TxnKind.SALE, TxnState.REVERSED, 2068, "625094******0016", "UnionPay", "", "", "", False),
    (15, TxnKind.REFUND, TxnState.APPROVED, 1000, "476173******0010", "Visa", "00", "Z9Y8X7",
     "507310000004", True),
    (3, TxnKind.SALE, TxnState.APPROVED, DEMO_AMOUNT, "476173******0010", "Visa", "00", "K4M5N6",
     "507310000005", True),
)  # fmt: skip


def seed_journal(journal: JournalStore, config: TerminalConfig) -> list[int]:
    """Write the fixed transactions; returns their journal ids, oldest first."""
    ids = []
    for n, row in enumerate(_SEED, start=1):
        minutes, kind, state, amount, pan, brand, code, auth, rrn, printed = row
        entry = JournalEntry(
            kind=kind,
            state=state,
            stan=f"{n:06d}",
            batch="000001",
            invoice=f"{n:06d}",
            local_time=FIXED_NOW - timedelta(minutes=minutes),
            terminal_id=config.terminal_id,
            merchant_id=config.merchant_id,
            amount=amount,
            currency=config.currency,
            masked_pan=pan,
            brand=brand,
            entry_mode="902",
            response_code=code,
            response_text={"00": "APPROVED", "51": "INSUFFICIENT FUNDS"}.get(code, "NO ANSWER"),
            auth_code=auth,
            rrn=rrn,
        )
        answered = state in (TxnState.APPROVED, TxnState.DECLINED)
        receipt = build_receipt(entry, config).to_dict() if answered else None
        jid = journal.add(replace(entry, receipt=receipt))
        if receipt is not None:
            status = PrintStatus.PRINTED if printed else PrintStatus.FAILED
            journal.set_copy_status(
                jid,
                ReceiptCopyRecord(
                    "merchant",
                    status,
                    printed_at=entry.local_time if printed else None,
                    error="" if printed else "paper out",
                ),
            )
        ids.append(jid)
    return ids


class DemoApp(PosApp):
    """The POS with fixed data, opening ``scene``; cleans its temp data dir on exit."""

    def __init__(
        self, scene: str = "home", *, data_dir: Path | None = None, theme: str = "dark"
    ) -> None:
        if scene not in SCENES:
            raise ValueError(f"unknown scene {scene!r}; one of {', '.join(SCENES)}")
        self._owned = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="posemu-demo-"))
        self.runtime = TuiRuntime(
            data_dir=self.data_dir, config=TerminalConfig(), clock=fixed_clock,
            signon_at_start=False,
        )  # fmt: skip
        services = self.runtime.open()
        assert self.runtime.store is not None
        self.seeded = seed_journal(self.runtime.store.journal, services.config)
        super().__init__(services, theme=theme)
        self.scene = scene

    def on_mount(self) -> None:
        config = self.services.config
        if self.scene == "home":
            self.home.set_amount(DEMO_AMOUNT)
        elif self.scene == "result":
            self.push_screen(ResultScreen(self._last_sale_outcome()))
        elif self.scene == "journal":
            self.push_screen(JournalScreen())
        elif self.scene == "qr":
            payload = mpm_payload(config, DEMO_AMOUNT, DEMO_ORDER)
            self.push_screen(QrMpmScreen(payload, DEMO_AMOUNT, config.qr_timeout, DEMO_ORDER))

    def _last_sale_outcome(self) -> Outcome:
        jid = self.seeded[-1]
        entry = self.services.journal.get(jid)
        assert entry.receipt is not None
        config = self.services.config
        text = render_text(build_receipt(entry, config), config.receipt_width)
        self.controller.last_receipt = ReceiptPrinted(jid, "merchant", text)
        result = TxnResult(
            kind=entry.kind, approved=True, response_code=entry.response_code,
            response_text=entry.response_text, auth_code=entry.auth_code, rrn=entry.rrn,
            stan=entry.stan, masked_pan=entry.masked_pan, amount=entry.amount,
            currency=entry.currency, journal_id=jid, receipt_text=text, state=entry.state,
            batch=entry.batch,
        )  # fmt: skip
        return outcome_from_result(Operation.SALE, result)

    def on_unmount(self) -> None:
        self.runtime.close()
        if self._owned:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def build_demo(scene: str = "home", theme: str = "dark") -> DemoApp:
    return DemoApp(scene, theme=theme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m terminal.demo")
    parser.add_argument("scene", nargs="?", default="home", choices=SCENES)
    parser.add_argument("--theme", choices=("dark", "light"), default="dark")
    args = parser.parse_args(argv)
    build_demo(args.scene, args.theme).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
