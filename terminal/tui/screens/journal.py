"""The journal: find a transaction by date range, amount, STAN, RRN or status, see its
receipt, and reprint a lost one as a DUPLICATE.

Rows whose receipt never printed are highlighted: that is where a lost slip is found
(the merchant-facing guides' first step). Queries run in a thread worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select

from terminal.core.errors import TerminalError
from terminal.core.journal import JournalEntry, TxnState
from terminal.tui.controller import receipt_preview
from terminal.tui.entry import journal_query
from terminal.tui.messages import JournalLoaded, ReceiptPrinted
from terminal.tui.outcome import format_money
from terminal.tui.screens.base import PosScreen
from terminal.tui.widgets import ReceiptPane

__all__ = ["RECEIPT_COLUMN", "JournalScreen"]

_UNPRINTED = "bold #e5a50a"
#: STAN and RRN right after the type: what a cashier searches by, and what a void or refund
#: needs, must stay visible beside the receipt preview at 100 columns.
_COLUMNS = ("Time", "Type", "STAN", "RRN", "Amount", "State", "Receipt", "Card")
#: Index of the "Receipt" column (tests and highlighting read it).
RECEIPT_COLUMN = _COLUMNS.index("Receipt")


class JournalScreen(PosScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f5", "search", "Search"),
        Binding("r", "reprint", "Reprint"),
        Binding("u", "toggle_unprinted", "Unprinted only"),
        Binding("slash", "focus_filters", "Filters", key_display="/"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[int, JournalEntry] = {}
        self.unprinted_only = False
        self.selected: int | None = None
        self._duplicate_of: int | None = None  # the reprint stays on paper until moving on

    def body(self) -> Iterator[Widget]:
        states = [(state.value, state.value) for state in TxnState]
        with Vertical(id="journal"):
            with Horizontal(id="journal-filters"):
                yield Input(placeholder="from YYYY-MM-DD", id="f-since", compact=True)
                yield Input(placeholder="to YYYY-MM-DD", id="f-until", compact=True)
                yield Input(placeholder="amount 12.34", id="f-amount", compact=True)
                yield Input(placeholder="STAN", id="f-stan", compact=True)
                yield Input(placeholder="RRN", id="f-rrn", compact=True)
                yield Select(states, prompt="any status", id="f-state", compact=True)
            with Horizontal(id="journal-main"):
                table: DataTable[str | Text] = DataTable(id="journal-table", cursor_type="row")
                table.add_columns(*_COLUMNS)
                yield table
                yield ReceiptPane(placeholder="(select a transaction)", id="journal-receipt")
            yield Label("", id="journal-summary")

    def on_mount(self) -> None:
        self.query_one("#journal-table", DataTable).focus()
        self.action_search()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < 100, "-narrow")

    # --- searching ------------------------------------------------------------------------
    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def action_search(self) -> None:
        state = self.query_one("#f-state", Select).value
        try:
            query = journal_query(
                since=self._value("f-since"),
                until=self._value("f-until"),
                amount=self._value("f-amount"),
                stan=self._value("f-stan"),
                rrn=self._value("f-rrn"),
                state=state if isinstance(state, str) else "",
                unprinted_only=self.unprinted_only,
            )
        except TerminalError as exc:
            self.notify(str(exc), severity="error")
            return
        self.pos.controller.search_journal(query)

    @on(Input.Submitted)
    def _filter_submitted(self) -> None:
        self.action_search()
        self.query_one("#journal-table", DataTable).focus()

    @on(Select.Changed, "#f-state")
    def _state_changed(self) -> None:
        self.action_search()

    def action_toggle_unprinted(self) -> None:
        self.unprinted_only = not self.unprinted_only
        self.action_search()

    def action_focus_filters(self) -> None:
        self.query_one("#f-since", Input).focus()

    def journal_loaded(self, message: JournalLoaded) -> None:
        if message.error:
            self.notify(f"Journal search failed: {message.error}", severity="error")
            return
        table = self.query_one("#journal-table", DataTable)
        keep = self.selected
        table.clear()
        self.entries = {e.id: e for e in message.entries if e.id is not None}
        currency = self.pos.services.config.currency
        for entry in message.entries:
            if entry.id is None:
                continue
            table.add_row(*self._cells(entry, currency), key=str(entry.id))
        unprinted = sum(1 for e in message.entries if e.never_printed)
        scope = "never printed" if self.unprinted_only else "found"
        self.query_one("#journal-summary", Label).update(
            f"{len(message.entries)} {scope}  ·  {unprinted} never printed (highlighted)"
            "  ·  r: reprint a DUPLICATE"  # fits 80 columns with 4-digit counts
        )
        if keep is not None and str(keep) in table.rows:
            table.move_cursor(row=table.get_row_index(str(keep)))
        elif not message.entries:
            self.selected = None
            self.query_one(ReceiptPane).clear("(no transaction matches)")

    @property
    def unprinted_ids(self) -> set[int]:
        return {jid for jid, entry in self.entries.items() if entry.never_printed}

    @staticmethod
    def _cells(entry: JournalEntry, currency: str) -> list[str | Text]:
        if entry.receipt is None:
            printed = "-"
        elif entry.never_printed:
            printed = "NOT PRINTED"
        else:
            printed = "printed"
        cells = [
            entry.local_time.strftime("%m-%d %H:%M"),
            entry.kind.value,
            entry.stan,
            entry.rrn,
            format_money(entry.amount, entry.currency or currency),
            entry.state.value,
            printed,
            entry.masked_pan or entry.qr_ref or "",
        ]
        style = _UNPRINTED if entry.never_printed else ""
        return [Text(cell, style=style) for cell in cells]

    # --- preview and reprint --------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#journal-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        entry = self.entries.get(int(key)) if key else None
        if entry is None or entry.id == self._duplicate_of:
            return
        self._duplicate_of = None
        self.selected = entry.id
        text = receipt_preview(entry, self.pos.services.config.receipt_width)
        pane = self.query_one(ReceiptPane)
        if text:
            pane.show(text, title=f"STAN {entry.stan}")
        else:
            pane.clear(f"(no receipt: {entry.kind.value} {entry.state.value})")

    def action_reprint(self) -> None:
        if self.selected is None:
            self.notify("Select a transaction first", severity="warning")
            return
        problem = self.pos.controller.reprint(self.selected)
        if problem:
            self.notify(f"Not reprinted: {problem}", severity="error")

    def receipt_printed(self, message: ReceiptPrinted) -> None:
        title = "DUPLICATE" if message.duplicate else f"{message.copy.upper()} COPY"
        self.query_one(ReceiptPane).show(message.pane_text, title=title)
        self._duplicate_of = message.journal_id
        self.action_search()  # the row is printed now: no longer highlighted
