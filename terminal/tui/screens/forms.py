"""The small form before a referenced operation: which transaction, and how much.

A reference is a STAN of the open batch, an RRN, or ``#`` and a journal id; amounts are
typed POS-style in minor units like everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label

from terminal.core.errors import TerminalError
from terminal.engine.results import TxnRef
from terminal.tui.entry import parse_reference
from terminal.tui.outcome import Operation, currency_of
from terminal.tui.screens.base import PosScreen
from terminal.tui.widgets import AmountField

__all__ = ["FormValues", "OperationForm"]

_NEEDS_REF = {Operation.VOID, Operation.REFUND, Operation.COMPLETION}
_NEEDS_AMOUNT = {Operation.REFUND, Operation.COMPLETION, Operation.PREAUTH}


@dataclass(frozen=True, slots=True)
class FormValues:
    ref: TxnRef | None
    amount: int | None


class OperationForm(PosScreen[FormValues | None]):
    """Dismisses with :class:`FormValues`; a refund with no reference goes to a card."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("enter", "submit", "OK"),
    ]

    def __init__(self, op: Operation, amount: int = 0) -> None:
        super().__init__()
        self.op = op
        self.default_amount = amount

    def body(self) -> Iterator[Widget]:
        config = self.pos.services.config
        with Vertical(id="form"):
            yield Label(self.op.label.upper(), id="form-title")
            if self.op in _NEEDS_REF:
                hint = "  (empty: refund to a card)" if self.op is Operation.REFUND else ""
                yield Label(f"Original transaction: STAN, RRN or #journal-id{hint}")
                yield Input(placeholder="e.g. 12 or 000012", id="form-ref")
            if self.op in _NEEDS_AMOUNT:
                yield Label("Amount (type digits: 1 2 3 4 = 12.34; Backspace, Delete):")
                yield AmountField(
                    self.default_amount,
                    currency=currency_of(config.currency).alpha,
                    id="form-amount",
                )
            yield Label("Enter: OK   Tab: next field   Escape: back", id="form-help")

    def on_mount(self) -> None:
        first = self.query("#form-ref, #form-amount").first()
        first.focus()

    @on(Input.Submitted, "#form-ref")
    def _ref_submitted(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        ref = None
        if self.op in _NEEDS_REF:
            text = self.query_one("#form-ref", Input).value
            if text.strip():
                try:
                    ref = parse_reference(text)
                except TerminalError as exc:
                    self.notify(str(exc), severity="error")
                    return
            elif self.op is not Operation.REFUND:
                self.notify("Type the original transaction's reference", severity="warning")
                return
        amount = None
        if self.op in _NEEDS_AMOUNT:
            amount = self.query_one("#form-amount", AmountField).minor
            if amount <= 0:
                self.notify("Type the amount", severity="warning")
                return
        self.answer(FormValues(ref, amount))
