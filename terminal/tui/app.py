"""``PosApp``: the thin Textual App of the emulated smart POS.

It owns the bindings every screen shares (theme, palette), routes between screens, and
relays the controller's messages to the screen on top; the app logic is in
:mod:`terminal.tui.controller`, the wording in :mod:`terminal.tui.outcome`. It receives its
services (dependency injection) and builds no adapter itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from terminal.engine.cardinput import CardInput
from terminal.engine.errors import InputError
from terminal.tui.controller import PosController
from terminal.tui.messages import (
    HostStatus,
    JournalLoaded,
    Notice,
    QrOrderReady,
    ReceiptPrinted,
    ReversalUpdate,
    TxnFinished,
    TxnProgress,
    TxnStarted,
)
from terminal.tui.outcome import Operation, Outcome, TxnDraft
from terminal.tui.screens import (
    CardScreen,
    DevicesScreen,
    FormValues,
    HomeScreen,
    JournalScreen,
    MenuScreen,
    OperationForm,
    PinScreen,
    ProcessingScreen,
    QrCpmScreen,
    QrMpmScreen,
    ResultScreen,
)
from terminal.tui.services import PosServices
from terminal.tui.widgets import StatusInfo

__all__ = ["PALETTE_COMMANDS", "THEMES", "PosApp", "PosCommands"]

#: ``--theme`` names to Textual themes.
THEMES = {"dark": "textual-dark", "light": "textual-light"}

#: Command palette entries: title, help, App method name, argument.
PALETTE_COMMANDS: tuple[tuple[str, str, str, str | None], ...] = (
    ("Sale", "Charge the amount typed on the home screen to a card", "start", "sale"),
    ("QR sale: customer scans", "Show a QR code for the amount", "start", "qr-mpm"),
    ("QR sale: scan wallet code", "Charge a customer's payment code", "start", "qr-cpm"),
    ("Void", "Cancel an approved sale of the open batch", "start", "void"),
    ("Refund", "Give money back, by reference or to a card", "start", "refund"),
    ("Pre-authorisation", "Reserve an amount on a card", "start", "preauth"),
    ("Completion", "Complete a pre-authorisation", "start", "completion"),
    ("Balance enquiry", "Ask the issuer for a card's balance", "start", "balance"),
    ("Settlement", "Close the batch with the host", "start", "settlement"),
    ("Sign-on", "Fetch fresh working keys", "start", "signon"),
    ("Echo test", "Check the host answers", "start", "echo"),
    ("Menu", "All transaction types", "action_open_screen", "menu"),
    ("Journal", "Find a transaction, reprint a lost receipt", "action_open_screen", "journal"),
    ("Devices and agent", "Printer, readers, faults, firmware", "action_open_screen", "devices"),
    ("Home", "Back to amount entry", "go_home", None),
    ("Toggle light/dark theme", "Switch the colour theme", "action_toggle_theme", None),
)


class PosCommands(Provider):
    """Every menu action in the command palette (ctrl+p)."""

    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app = self.app
        entries = []
        for title, help_text, method, arg in PALETTE_COMMANDS:
            target = getattr(app, method)
            entries.append((title, help_text, partial(target, arg) if arg else target))
        return entries

    async def discover(self) -> Hits:
        for title, help_text, command in self._entries():
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, command in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)


class PosApp(App[None]):
    """The emulated smart POS terminal."""

    CSS_PATH = "app.tcss"
    TITLE = "posemu"
    SUB_TITLE = "smart POS emulator"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {PosCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, services: PosServices, *, theme: str = "dark") -> None:
        super().__init__()
        self.services = services
        self.controller = PosController(services, self)
        self.theme = THEMES.get(theme, theme)
        self.outcomes: list[Outcome] = []  # every result shown, newest last (tests read it)
        self.progress: list[str] = []  # progress lines of the latest operation

    # --- lifecycle ------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return HomeScreen()

    @property
    def home(self) -> HomeScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, HomeScreen)
        return screen

    def on_mount(self) -> None:
        self.run_worker(self._boot(), name="boot", group="boot", exit_on_error=False)

    async def _boot(self) -> None:
        try:
            await self.services.backend.start()
        except Exception as exc:
            self.notify(f"Terminal could not start: {exc}", severity="error", timeout=10)
            return
        if self.services.signon_at_start:
            await self.controller.background_signon()

    async def on_unmount(self) -> None:
        self.controller.close()
        with contextlib.suppress(Exception):
            await self.services.backend.stop()

    def status_info(self) -> StatusInfo:
        config = self.services.config
        return StatusInfo(
            merchant=config.merchant_name,
            terminal_id=config.terminal_id,
            now=self.services.clock(),
            host=self.controller.link_state.value,
            paper_ok=self.controller.paper_ok,
        )

    def refresh_status(self) -> None:
        from terminal.tui.widgets import StatusBar

        for bar in self.screen.query(StatusBar):
            bar.refresh_info()

    # --- actions shared by every screen ---------------------------------------------------
    def action_toggle_theme(self) -> None:
        self.theme = THEMES["light"] if self.theme == THEMES["dark"] else THEMES["dark"]

    def go_home(self) -> None:
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ProcessingScreen):
            self.pop_screen()

    def action_open_screen(self, name: str) -> None:
        factories: dict[str, Callable[[], Screen[Any]]] = {
            "menu": MenuScreen,
            "journal": JournalScreen,
            "devices": DevicesScreen,
        }
        if self.controller.busy:
            self.notify("A transaction is in progress", severity="warning")
            return
        if type(self.screen).__name__.lower().startswith(name):
            return
        self.push_screen(factories[name]())

    # --- starting operations --------------------------------------------------------------
    def start(self, name: str) -> None:
        """Begin an operation by name (menu, palette, home keys): collect what it needs."""
        op = Operation(name)
        if self.controller.busy:
            self.notify("A transaction is in progress", severity="warning")
            return
        amount = self.home.amount
        if op in (Operation.SALE, Operation.QR_MPM, Operation.QR_CPM) and amount <= 0:
            self.go_home()
            self.notify("Type the amount first (digits: 1 2 3 4 = 12.34)", severity="warning")
            return
        match op:
            case Operation.SALE:
                self._collect_card(TxnDraft(op, amount))
            case Operation.BALANCE:
                self._collect_card(TxnDraft(op))
            case Operation.QR_MPM:
                self.controller.run(TxnDraft(op, amount))
            case Operation.QR_CPM:
                self.push_screen(QrCpmScreen(amount), partial(self._code_entered, amount))
            case Operation.VOID | Operation.REFUND | Operation.COMPLETION | Operation.PREAUTH:
                self.push_screen(OperationForm(op, amount), partial(self._form_done, op))
            case _:
                self.controller.run(TxnDraft(op))

    def _form_done(self, op: Operation, values: FormValues | None) -> None:
        if values is None:
            return
        draft = TxnDraft(op, values.amount, values.ref)
        if op is Operation.PREAUTH or (op is Operation.REFUND and values.ref is None):
            self._collect_card(draft)
        else:
            self.controller.run(draft)

    def _code_entered(self, amount: int, code: str | None) -> None:
        if code:
            self.controller.run(TxnDraft(Operation.QR_CPM, amount, code=code))

    def _collect_card(self, draft: TxnDraft) -> None:
        self.push_screen(CardScreen(draft), partial(self._card_presented, draft))

    def _card_presented(self, draft: TxnDraft, card: CardInput | None) -> None:
        if card is None:
            return
        draft = replace(draft, card=card)
        needs_pin = card.service_code is not None and card.service_code.pin_required
        if needs_pin and draft.op is not Operation.REFUND:
            self.push_screen(PinScreen(draft), partial(self._pin_entered, draft))
        else:
            self.controller.run(draft)

    def _pin_entered(self, draft: TxnDraft, pin: str | None) -> None:
        if pin is None:
            self.notify("PIN entry cancelled", severity="warning")
            return
        self.controller.run(replace(draft, pin=pin))

    def check_card(self, card: CardInput) -> str:
        """'' when the terminal accepts this card as presented, else why not (chip...)."""
        try:
            card.read(chip_capable=self.services.config.chip_capable)
        except InputError as exc:
            return str(exc)
        return ""

    # --- controller messages --------------------------------------------------------------
    def on_txn_started(self, message: TxnStarted) -> None:
        if not self.screen_stack:  # closing
            return
        self.progress = []
        self.push_screen(ProcessingScreen(message.op, message.amount, message.masked_pan))

    def _forward(self, method: str, *args: Any) -> bool:
        """Hand a message to the screen on top if it wants it (none while closing)."""
        if not self.screen_stack:
            return False
        handler = getattr(self.screen, method, None)
        if handler is None:
            return False
        handler(*args)
        return True

    def on_txn_progress(self, message: TxnProgress) -> None:
        self.progress.append(message.line)
        self._forward("add_progress", message.line)

    def on_qr_order_ready(self, message: QrOrderReady) -> None:
        if not self.screen_stack:  # closing
            return
        screen = QrMpmScreen(message.payload, message.amount, message.timeout, message.order_ref)
        if isinstance(self.screen, ProcessingScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def on_txn_finished(self, message: TxnFinished) -> None:
        if not self.screen_stack:  # closing
            return
        outcome = message.outcome
        self.outcomes.append(outcome)
        if outcome.op in (Operation.SALE, Operation.QR_MPM, Operation.QR_CPM):
            self.home.clear_amount()
        screen = ResultScreen(outcome)
        if isinstance(self.screen, ProcessingScreen | QrMpmScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def on_reversal_update(self, message: ReversalUpdate) -> None:
        if not self._forward("reversal_update", message) and message.delivered:
            self.notify(message.text, title=f"STAN {message.stan}")

    def on_receipt_printed(self, message: ReceiptPrinted) -> None:
        self._forward("receipt_printed", message)

    def on_journal_loaded(self, message: JournalLoaded) -> None:
        self._forward("journal_loaded", message)

    def on_notice(self, message: Notice) -> None:
        severity = message.severity if message.severity in ("warning", "error") else "information"
        self.notify(message.text, severity=severity)  # type: ignore[arg-type]

    def on_host_status(self, message: HostStatus) -> None:
        if self.screen_stack:
            self.refresh_status()
        if message.detail and message.state.value == "offline":
            self.notify(f"Host link failed: {message.detail}", severity="error")
