"""Result: APPROVED with its auth code, DECLINED with code and text, or what went wrong.

The merchant copy printed by the emulated printer is shown on its paper; ``p`` prints the
customer copy on request. A reversal that is delivered after the screen appears updates it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label, Static

from terminal.tui.messages import ReceiptPrinted, ReversalUpdate
from terminal.tui.outcome import Outcome, Tone
from terminal.tui.screens.base import PosScreen
from terminal.tui.widgets import ReceiptPane

__all__ = ["ResultScreen"]


class ResultScreen(PosScreen[None]):
    """Shows one :class:`Outcome`; Enter or Escape returns to where the operation began.

    The App keeps one and reuses it (:meth:`show`), as building a screen costs more than
    the rest of a sale with the embedded host.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "back", "Done"),
        Binding("escape", "back", "Back"),
        Binding("p", "print_customer", "Customer copy"),
    ]

    def __init__(self, outcome: Outcome) -> None:
        super().__init__()
        self.outcome = outcome
        self.reversal = outcome.reversal

    def show(self, outcome: Outcome) -> None:
        """Show ``outcome`` instead of the one shown before (its receipt, its reversal)."""
        self.outcome = outcome
        self.reversal = outcome.reversal
        if self.is_mounted:
            self._fill()
            self.refresh_bindings()

    @property
    def has_customer_copy(self) -> bool:
        """Only an operation with a slip has a customer copy to print (not a settlement,
        a cancellation, an echo or a refused input)."""
        return self.outcome.journal_id is not None and bool(self.outcome.receipt_text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "print_customer":
            return self.has_customer_copy  # False: the key is neither shown nor active
        return True

    def _help(self) -> str:
        return "Enter: done   p: print customer copy" if self.has_customer_copy else "Enter: done"

    def _merchant_copy(self) -> str:
        last = self.pos.controller.last_receipt
        jid = self.outcome.journal_id
        if last is not None and jid is not None and last.journal_id == jid and not last.duplicate:
            return last.text
        return ""

    def _rows(self) -> str:
        return "\n".join(f"{label:<10} {value}" for label, value in self.outcome.rows)

    def _placeholder(self) -> str:
        if self.outcome.receipt_text and not self._merchant_copy():
            return "(receipt not printed: paper out?\n reprint it from the journal)"
        return "(no receipt)"

    def body(self) -> Iterator[Widget]:
        outcome = self.outcome
        merchant = self._merchant_copy()
        reversal = Label(self.reversal, id="result-reversal")
        reversal.display = bool(self.reversal)
        pane = ReceiptPane(merchant, placeholder=self._placeholder(), id="result-receipt")
        if merchant:
            pane.border_title = "MERCHANT COPY"
        with Horizontal(id="result"):
            with Vertical(id="result-main"):
                yield Label(outcome.title, id="result-title", classes=f"-{outcome.tone.value}")
                yield Label(outcome.message, id="result-message")
                yield Static(self._rows(), id="result-rows", markup=False)
                yield reversal
                yield Label(self._help(), id="result-help")
            yield pane

    def _fill(self) -> None:
        """Put the current outcome into the widgets composed for an earlier one."""
        outcome = self.outcome
        title = self.query_one("#result-title", Label)
        title.update(outcome.title)
        for tone in Tone:
            title.set_class(tone is outcome.tone, f"-{tone.value}")
        self.set_text("#result-message", outcome.message)
        self.set_text("#result-rows", self._rows())
        self.set_text("#result-help", self._help())
        self.set_text("#result-reversal", self.reversal)
        self.query_one("#result-reversal", Label).display = bool(self.reversal)
        pane = self.query_one(ReceiptPane)
        pane.placeholder = self._placeholder()
        merchant = self._merchant_copy()
        pane.show(merchant, title="MERCHANT COPY" if merchant else "")

    def reversal_update(self, message: ReversalUpdate) -> None:
        jid = self.outcome.journal_id
        if jid is not None and message.journal_id != jid:
            return
        self.reversal = message.text
        if self.set_text("#result-reversal", message.text):
            self.query_one("#result-reversal").display = True

    def receipt_printed(self, message: ReceiptPrinted) -> None:
        title = f"{message.copy.upper()} COPY" + (" (DUPLICATE)" if message.duplicate else "")
        self.query_one(ReceiptPane).show(message.text, title=title)

    def action_print_customer(self) -> None:
        jid = self.outcome.journal_id
        if jid is None or not self.outcome.receipt_text:
            self.notify("No receipt for this operation", severity="warning")
            return
        problem = self.pos.controller.print_customer_copy(jid)
        if problem:
            self.notify(f"Customer copy not printed: {problem}", severity="error")

    def action_back(self) -> None:
        self.dismiss(None)
