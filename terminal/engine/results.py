"""What an operation returns, and how the operator points at an earlier transaction.

``TxnResult`` is the one answer shape for every operation (the CLI prints it as JSON, the
TUI shows it), so callers never dig through journal rows or ISO messages. It holds masked
card data only.
"""

from __future__ import annotations

from dataclasses import dataclass

from iso8583.acquirer.model import Totals, TxnKind
from terminal.core.journal import TxnState
from terminal.engine.errors import InputError

__all__ = ["TxnRef", "TxnResult"]


@dataclass(frozen=True, slots=True)
class TxnResult:
    """The outcome of one operation.

    ``state`` is the journal state when a journal entry exists (None for sign-on, echo,
    settlement). ``error`` is one line when the host gave no usable answer; then
    ``reversal_pending`` says whether a reversal still waits in store-and-forward.
    """

    kind: TxnKind
    approved: bool
    response_code: str = ""
    response_text: str = ""
    auth_code: str = ""
    rrn: str = ""
    stan: str = ""
    masked_pan: str = ""
    amount: int | None = None
    currency: str = "156"
    journal_id: int | None = None
    receipt_text: str = ""
    customer_receipt_text: str = ""
    reversal_pending: bool = False
    balance: int | None = None
    state: TxnState | None = None
    error: str = ""
    batch: str = ""
    totals: Totals | None = None  # settlement: the terminal's totals of the closed batch
    uploaded: int = 0  # settlement: transactions sent in a batch upload
    order_ref: str = ""  # merchant-presented QR order reference

    @property
    def answered(self) -> bool:
        """The host gave a usable answer (approved or declined)."""
        return not self.error


@dataclass(frozen=True, slots=True)
class TxnRef:
    """An earlier transaction, by journal id, by STAN (current batch) or by RRN."""

    journal_id: int | None = None
    stan: str | None = None
    rrn: str | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.journal_id, self.stan, self.rrn) if v is not None]
        if len(given) != 1:
            raise InputError("a transaction reference needs exactly one of id, STAN, RRN")

    def __str__(self) -> str:
        if self.journal_id is not None:
            return f"id {self.journal_id}"
        if self.stan is not None:
            return f"STAN {self.stan}"
        return f"RRN {self.rrn}"
