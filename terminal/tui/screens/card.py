"""Present a card: pick a named test card, paste raw track data, or swipe on a real reader.

Track data and keyed PANs are typed into a password field and cleared as soon as they are
read: only masked PANs are ever drawn. A chip card swiped on this chip terminal is refused
as a real one would be; ``f`` swipes it as a fallback after a (simulated) chip failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from terminal.core.errors import TerminalError
from terminal.core.testcards import CARDS, get_card
from terminal.engine.cardinput import CardInput
from terminal.tui.outcome import TxnDraft, format_money
from terminal.tui.screens.base import PosScreen

__all__ = ["CardScreen", "card_from_text"]


def card_from_text(text: str) -> CardInput:
    """Reader output or a track 2 string; ``PAN YYMM`` is a keyed (manual) entry."""
    return CardInput.from_text(text)


class CardScreen(PosScreen[CardInput | None]):
    """Dismisses with the presented :class:`CardInput`, or None when backed out of."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f", "fallback", "Chip failed: swipe"),
        Binding("t", "focus_track", "Paste track"),
    ]

    def __init__(self, draft: TxnDraft) -> None:
        super().__init__()
        self.draft = draft
        self._refused: Any = None  # a chip card the reader swiped and the terminal refused

    def body(self) -> Iterator[Widget]:
        heading = self.draft.op.label.upper()
        if self.draft.amount:
            heading += "  ·  " + format_money(self.draft.amount, self.pos.services.config.currency)
        with Vertical(id="card"):
            yield Label(f"{heading}  ·  present a card", id="card-title")
            with Horizontal(id="card-main"):
                yield OptionList(
                    *(Option(f"{card.name:<19} {card.masked_pan}", id=card.name) for card in CARDS),
                    id="cards",
                )
                with Vertical(id="card-side"):
                    yield Static("", id="card-note")
                    yield Static("Paste track data, or PAN and YYMM:")
                    yield Input(placeholder="track data", password=True, id="track")
                    yield Static(self._reader_note(), id="reader-note")

    def _reader_note(self) -> str:
        reader = self._reader()
        if reader is None:
            return "Swipe on a real reader: none attached (posemu --reader URL)."
        return f"Waiting for a swipe on the reader {reader.url} ..."

    def _reader(self) -> Any:
        devices = self.pos.services.devices
        return devices.reader if devices is not None else None

    def on_mount(self) -> None:
        self.query_one("#cards", OptionList).focus()
        self._describe(CARDS[0].name)
        reader = self._reader()
        if reader is not None:  # swipes arrive on the reader's thread
            self._unsubscribe = reader.subscribe(self.from_device(self._swiped))

    def on_unmount(self) -> None:
        self._refused = None
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()

    def _swiped(self, item: Any) -> None:
        """A swipe (or a read error) from the attached reader, on the UI's loop."""
        if not self.is_current:
            return
        swipe = getattr(item, "swipe", None)
        if swipe is None:
            self.notify(f"Card not read: {item.reason}. Swipe again.", severity="error")
            return
        card = CardInput.from_swipe(swipe)
        self._refused = swipe if self.pos.check_card(card) else None  # for f: fallback
        self._present(card)

    def _describe(self, name: str) -> None:
        card = get_card(name)
        pin = "  PIN required." if card.pin_required else ""
        self.query_one("#card-note", Static).update(
            f"{card.brand.display_name}, expires {card.expiry.yymm[2:]}/{card.expiry.yymm[:2]}: "
            f"{card.note} (host answers {card.expected_response}).{pin}"
        )

    def _highlighted(self) -> str | None:
        options = self.query_one("#cards", OptionList)
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id

    @on(OptionList.OptionHighlighted, "#cards")
    def _highlight(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self._describe(event.option.id)

    @on(OptionList.OptionSelected, "#cards")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._present(CardInput.test_card(event.option.id))

    def action_fallback(self) -> None:
        """The chip failed: swipe again as a fallback, the card just refused by the real
        reader if there is one, else the highlighted catalogue card."""
        refused, self._refused = self._refused, None
        if refused is not None:
            self._present(CardInput.from_swipe(refused, chip_failed=True))
            return
        name = self._highlighted()
        if name:
            self._present(CardInput.test_card(name, chip_failed=True))

    def action_focus_track(self) -> None:
        self.query_one("#track", Input).focus()

    @on(Input.Submitted, "#track")
    def _track(self, event: Input.Submitted) -> None:
        text, event.input.value = event.value, ""  # never keep track data on screen
        if not text.strip():
            return
        try:
            card = card_from_text(text)
        except TerminalError as exc:
            self.notify(f"Cannot read that card: {exc}", severity="error")
            return
        self._present(card)

    def _present(self, card: CardInput) -> None:
        problem = self.pos.check_card(card)
        if problem:
            self.notify(f"{problem}. Press f to swipe as a fallback.", severity="warning")
            return
        self.answer(card)
