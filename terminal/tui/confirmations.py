"""The questions asked before a void or a settlement, worded from the journal.

Kept out of the screens (app logic outside widgets): a void names the transaction it will
cancel, so the cashier confirms what they mean, not a number they typed.
"""

from __future__ import annotations

from terminal.core.errors import TerminalError
from terminal.core.journal import JournalEntry, JournalQuery
from terminal.engine.results import TxnRef
from terminal.tui.outcome import format_money
from terminal.tui.screens.confirm import ConfirmScreen
from terminal.tui.services import PosServices

__all__ = ["confirm_settlement", "confirm_void"]


def _original(services: PosServices, ref: TxnRef) -> JournalEntry | None:
    try:
        if ref.journal_id is not None:
            return services.journal.get(ref.journal_id)
        found = services.journal.find(JournalQuery(stan=ref.stan, rrn=ref.rrn, limit=2))
    except (TerminalError, LookupError):
        return None
    return found[0] if len(found) == 1 else None


def confirm_void(services: PosServices, ref: TxnRef) -> ConfirmScreen:
    entry = _original(services, ref)
    if entry is None:
        details = f"Void the transaction with {ref}."
    else:
        money = format_money(entry.amount, entry.currency or services.config.currency)
        card = entry.masked_pan or entry.qr_ref or "-"
        details = (
            f"{entry.kind.value.upper()} {money}\n"
            f"Card {card}\nSTAN {entry.stan}  RRN {entry.rrn or '-'}\n"
            f"{entry.local_time:%Y-%m-%d %H:%M:%S}"
        )
    return ConfirmScreen(
        "Void this transaction? The customer is credited in full; this cannot be undone.",
        details,
    )


def confirm_settlement(services: PosServices) -> ConfirmScreen:
    del services  # the engine totals the batch; nothing to look up before asking
    return ConfirmScreen(
        "Settle the open batch?",
        "The batch totals go to the host and the batch is closed.\n"
        "After settlement its sales can no longer be voided, only refunded.",
    )
