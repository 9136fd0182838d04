"""Messages the controller posts to the App: small dataclasses, one fact each.

Why messages: the engine runs in workers; screens learn what happened only through these,
on the UI's own loop, so no widget is ever touched from a worker. None carries a full PAN
or a PIN.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from terminal.core.journal import JournalEntry, JournalQuery
from terminal.tui.outcome import LinkState, Operation, Outcome

__all__ = [
    "HostStatus",
    "JournalLoaded",
    "Notice",
    "QrOrderReady",
    "ReceiptPrinted",
    "ReversalUpdate",
    "TxnFinished",
    "TxnProgress",
    "TxnStarted",
]


@dataclass
class TxnStarted(Message):
    """An operation went to a worker: show the processing screen."""

    op: Operation
    amount: int | None = None
    masked_pan: str = ""


@dataclass
class TxnProgress(Message):
    """One line of progress (connecting, sent, waiting...)."""

    line: str


@dataclass
class TxnFinished(Message):
    """The operation ended, whatever the outcome: show the result."""

    outcome: Outcome


@dataclass
class ReversalUpdate(Message):
    """A reversal was queued or delivered (possibly after the result was shown)."""

    journal_id: int
    stan: str
    text: str
    delivered: bool


@dataclass
class HostStatus(Message):
    """The host link changed state."""

    state: LinkState
    detail: str = ""


@dataclass
class QrOrderReady(Message):
    """A merchant-presented QR order exists: show its code."""

    payload: str
    amount: int
    timeout: float
    order_ref: str = ""


@dataclass
class ReceiptPrinted(Message):
    """A slip was printed: on the receipt pane (``text``), or on an attached printer
    (``text`` empty, ``printer`` names it), which the pane then says."""

    journal_id: int
    copy: str
    text: str
    duplicate: bool = False
    printer: str = ""

    @property
    def pane_text(self) -> str:
        """What the receipt pane shows for it: the slip, or where it was printed."""
        if self.text:
            return self.text
        where = "the receipt printer" if self.printer in ("", "printer") else self.printer
        copy = "DUPLICATE" if self.duplicate else f"{self.copy} copy"
        return f"({copy} printed on\n {where})"


@dataclass
class JournalLoaded(Message):
    """Journal rows matching ``query``."""

    query: JournalQuery
    entries: tuple[JournalEntry, ...]
    error: str = ""


@dataclass
class Notice(Message):
    """Something the cashier should read that is not a transaction result."""

    text: str
    severity: str = "information"  # "information" | "warning" | "error"
