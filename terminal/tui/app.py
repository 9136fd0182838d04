"""``PosApp``: the thin Textual App of the emulated smart POS.

It owns the bindings every screen shares (theme, palette), routes between screens, and
relays the controller's messages to the screen on top; the app logic is in
:mod:`terminal.tui.controller`, the wording in :mod:`terminal.tui.outcome`. It receives its
services (dependency injection) and builds no adapter itself.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.timer import Timer

from terminal.engine.cardinput import CardInput
from terminal.engine.errors import InputError
from terminal.tui.confirmations import confirm_settlement, confirm_void
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
from terminal.tui.screens.agent import AgentScreen
from terminal.tui.screens.base import PosScreen
from terminal.tui.services import PosServices
from terminal.tui.tracelog import TraceLog
from terminal.tui.widgets import StatusInfo

__all__ = ["PALETTE_COMMANDS", "THEMES", "PosApp", "PosCommands"]

_S = TypeVar("_S", bound=Screen[Any])
_GC_HOLD_MAX = 1.0  # seconds
#: How often a thread waiting for the GIL gets it from a busy one (Python's default: 5 ms).
#: The engine runs in the runtime's I/O thread; each of a sale's ~16 fsync and socket
#: returns waits for the GIL while the UI draws progress, up to the switch interval each:
#: at 1 ms, card-to-result drops by ~25 ms on a loaded two-core machine.
_SWITCH_INTERVAL = 0.001

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
    ("Firmware update", "Check for and install signed firmware", "action_open_screen", "firmware"),
    ("Agent / TMS", "Faults, remote commands, repair request", "action_open_screen", "agent"),
    ("Home", "Back to amount entry", "go_home", None),
    ("Toggle light/dark theme", "Switch the colour theme", "action_toggle_theme", None),
)


def _forget_dead_widgets() -> None:
    """Let go of what Textual keeps of widgets that are gone.

    Textual 8 memoises ``StylesCache.get_inner_outer`` with ``functools.lru_cache`` on the
    method, so the cache's keys keep the styles caches (every line drawn) of the last 1024
    widgets alive long after they were removed. The POS removes a card screen per sale:
    after some 60 sales that was most of the heap, ~200k objects for every full garbage
    collection to walk. The memo itself is two colours per widget, cheap to rebuild.
    """
    try:
        from textual._styles_cache import StylesCache

        StylesCache.get_inner_outer.cache_clear()
    except (ImportError, AttributeError):  # another Textual: nothing to work around
        pass


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

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "posemu"
    SUB_TITLE = "smart POS emulator"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {PosCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("t", "toggle_trace", "Trace", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, services: PosServices, *, theme: str = "dark") -> None:
        super().__init__()
        self.services = services
        self.controller = PosController(services, self)
        self.trace_log = TraceLog(services.events)
        self.theme = THEMES.get(theme, theme)
        self.outcomes: list[Outcome] = []  # every result shown, newest last (tests read it)
        self.progress: list[str] = []  # progress lines of the latest operation
        self._asked: dict[Screen[Any], Callable[[Any], None]] = {}
        self._answering: Screen[Any] | None = None  # an input screen whose answer runs
        self._handing_over: Screen[Any] | None = None  # ...and the processing screen replaces
        self._retired: list[Screen[Any]] = []  # input screens to take down after the result
        self._gc_held: Timer | None = None  # while the collector is held (see _hold_gc)
        self._switch_interval = sys.getswitchinterval()  # given back on unmount

    # --- lifecycle ------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return HomeScreen()

    @property
    def home(self) -> HomeScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, HomeScreen)
        return screen

    def on_mount(self) -> None:
        sys.setswitchinterval(min(self._switch_interval, _SWITCH_INTERVAL))
        self.theme_changed_signal.subscribe(self, self._drop_kept)
        # Once up, what start-up built (tens of thousands of objects: modules, styles, the
        # home screen) goes to the collector's permanent generation, which full collections
        # no longer walk each time; given back in on_unmount.
        self.call_after_refresh(gc.freeze)
        self.run_worker(self.controller.follow_events(), name="events", group="events")
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
        self._release_gc()
        gc.unfreeze()  # see on_mount
        sys.setswitchinterval(self._switch_interval)
        self.controller.close()
        self.trace_log.close()
        with contextlib.suppress(Exception):
            await self.services.backend.stop()

    def status_info(self) -> StatusInfo:
        config = self.services.config
        return StatusInfo(
            merchant=config.merchant_name,
            terminal_id=config.terminal_id,
            now=self.services.clock(),
            host=self.controller.link_state.value,
            tms=self._tms_state(),
            paper_ok=self.controller.paper_ok,
            printer=self.services.devices.printer_state if self.services.devices else "",
        )

    def _tms_state(self) -> str:
        """The agent's link to its broker (online, connecting, offline), or not connected."""
        agent = self.services.agent
        if agent is None:
            return "not connected"
        return str(agent.status().get("state", "unknown"))

    def refresh_status(self) -> None:
        from terminal.tui.widgets import StatusBar

        for bar in self.screen.query(StatusBar):
            bar.refresh_info()

    # --- actions shared by every screen ---------------------------------------------------
    def action_toggle_trace(self) -> None:
        """Show the message trace over whatever is on screen; ``t`` again closes it."""
        from terminal.tui.screens.trace import TraceScreen

        if isinstance(self.screen, TraceScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(TraceScreen())

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
            "firmware": self._firmware_screen,
            "agent": AgentScreen,
        }
        if name == "firmware" and self.services.firmware is None:
            self.notify("No firmware repository: start with --firmware-url URL", severity="warning")
            return
        if self.controller.busy:
            self.notify("A transaction is in progress", severity="warning")
            return
        if type(self.screen).__name__.lower().startswith(name):
            return
        self.push_screen(factories[name]())

    def _firmware_screen(self) -> Screen[Any]:
        from terminal.tui.screens.firmware import FirmwareScreen

        assert self.services.firmware is not None
        return FirmwareScreen(self.services.firmware)

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
                self._run(TxnDraft(op, amount))
            case Operation.QR_CPM:
                self._ask(QrCpmScreen(amount), partial(self._code_entered, amount))
            case Operation.VOID | Operation.REFUND | Operation.COMPLETION | Operation.PREAUTH:
                self._ask(OperationForm(op, amount), partial(self._form_done, op))
            case Operation.SETTLEMENT:
                draft = TxnDraft(op)
                self._ask(confirm_settlement(self.services), partial(self._confirmed, draft))
            case _:
                self._run(TxnDraft(op))

    # --- input screens: each answer leads to the next screen of the operation -------------
    def _ask(self, screen: Screen[Any], then: Callable[[Any], None]) -> None:
        """Show an input screen (form, card, PIN, wallet code); ``then`` gets its answer.

        Asked while another input screen's answer is being handled, the new screen takes
        that one's place (card -> PIN) rather than stacking on top of it.
        """
        self._asked[screen] = then
        if self._answering is not None and self.screen is self._answering:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def answered(self, screen: Screen[Any], value: Any) -> None:
        """An input screen's answer (None: backed out of); see ``PosScreen.answer``.

        What the answer opens next replaces the input screen directly: the screen underneath
        (home, menu) is not brought back and redrawn in between, which cost a full frame and
        its footer in the middle of every sale. When nothing replaces it, it just closes.
        """
        then = self._asked.pop(screen, None)
        if then is None:  # not asked through _ask: a plain screen
            screen.dismiss(value)
            return
        self._answering = screen
        try:
            then(value)
        finally:
            self._answering = None
        if self.screen is screen and self._handing_over is not screen:
            self.pop_screen()

    def _run(self, draft: TxnDraft) -> None:
        """Start ``draft``; from an input screen, the processing screen will replace it."""
        if not self.controller.run(draft):
            return
        self._hold_gc()
        if self._answering is not None:
            self._handing_over = self._answering

    # --- no garbage collection between the cashier's key and the result -----------------
    def _hold_gc(self) -> None:
        """Keep Python's cyclic garbage collector from running until the result is drawn.

        A full collection walks every object of the process: with Textual's caches, 60 to
        200 ms on a small machine, more than the whole sale, landing on whichever sale
        happens to cross the threshold. Held here, the collection runs right after the
        result is on screen (like Textual's own ``PAUSE_GC_ON_SCROLL`` during scrolling);
        never longer than ``_GC_HOLD_MAX`` (an operation waiting long for a host or a QR
        customer does not hold it).
        """
        if self._gc_held is not None or not gc.isenabled():
            return
        gc.disable()
        self._gc_held = self.set_timer(_GC_HOLD_MAX, self._release_gc)

    def _release_gc(self) -> None:
        if self._gc_held is not None:
            self._gc_held.stop()
            self._gc_held = None
            gc.enable()

    def _after_result(self) -> None:
        """The result is on screen: what could wait until then."""
        self._release_gc()
        retired, self._retired = self._retired, []
        for screen in retired:
            self.uninstall_screen(screen)
            if screen not in self.screen_stack:
                screen.remove()
        _forget_dead_widgets()

    def _form_done(self, op: Operation, values: FormValues | None) -> None:
        if values is None:
            return
        draft = TxnDraft(op, values.amount, values.ref)
        if op is Operation.PREAUTH or (op is Operation.REFUND and values.ref is None):
            self._collect_card(draft)
        elif op is Operation.VOID and values.ref is not None:
            self._ask(confirm_void(self.services, values.ref), partial(self._confirmed, draft))
        else:
            self._run(draft)

    def _confirmed(self, draft: TxnDraft, yes: bool | None) -> None:
        if yes:
            self._run(draft)
        else:
            self.notify(f"{draft.op.label}: not started", severity="information")

    def _code_entered(self, amount: int, code: str | None) -> None:
        if code:
            self._run(TxnDraft(Operation.QR_CPM, amount, code=code))

    def _collect_card(self, draft: TxnDraft) -> None:
        self._ask(CardScreen(draft), partial(self._card_presented, draft))

    def _card_presented(self, draft: TxnDraft, card: CardInput | None) -> None:
        if card is None:
            return
        draft = replace(draft, card=card)
        needs_pin = card.service_code is not None and card.service_code.pin_required
        if needs_pin and draft.op is not Operation.REFUND:
            self._ask(PinScreen(draft), partial(self._pin_entered, draft))
        else:
            self._run(draft)

    def _pin_entered(self, draft: TxnDraft, pin: str | None) -> None:
        if pin is None:
            self.notify("PIN entry cancelled", severity="warning")
            return
        self._run(replace(draft, pin=pin))

    def check_card(self, card: CardInput) -> str:
        """'' when the terminal accepts this card as presented, else why not (chip...)."""
        try:
            card.read(chip_capable=self.services.config.chip_capable)
        except InputError as exc:
            return str(exc)
        return ""

    # --- the processing and result screens, built once -----------------------------------
    def _kept(self, name: str, build: Callable[[], _S]) -> _S:
        """The App's one ``name`` screen, built (by ``build``) on first use and then kept.

        Composing and mounting a screen costs Textual more than the whole of a sale with
        the embedded host, so the processing and result screens are reused; a fresh one is
        built only while the kept one is still in the stack (an echo test started from the
        palette over a result).
        """
        key = f"pos-{name}"
        if self.is_screen_installed(key):
            screen = self.get_screen(key)
            if screen not in self.screen_stack:
                if isinstance(screen, PosScreen):
                    screen.reused = True
                return screen  # type: ignore[return-value]
            return build()
        screen = build()
        self.install_screen(screen, key)
        return screen

    def _drop_kept(self, _theme: object = None) -> None:
        """Forget kept screens that are not shown: Textual restyles only the screen stack
        when the theme changes, so they would come back in the old colours."""
        for key in ("pos-processing", "pos-result"):
            if self.is_screen_installed(key):
                screen = self.get_screen(key)
                if screen not in self.screen_stack:
                    self.uninstall_screen(key)
                    screen.remove()

    # --- controller messages --------------------------------------------------------------
    def on_txn_started(self, message: TxnStarted) -> None:
        if not self.screen_stack:  # closing
            return
        self.progress = []
        op, amount, pan = message.op, message.amount, message.masked_pan
        screen = self._kept("processing", lambda: ProcessingScreen(op, amount, pan))
        screen.begin(op, amount, pan)
        input_screen, self._handing_over = self._handing_over, None
        if input_screen is not None and self.screen is input_screen:
            # The card/PIN screen gives way without a detour by the screen underneath, and
            # is taken down only once the result is shown (installed: Textual leaves it be).
            self.install_screen(input_screen, f"pos-retired-{id(input_screen)}")
            self._retired.append(input_screen)
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

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
        screen = self._kept("result", lambda: ResultScreen(outcome))
        screen.show(outcome)
        screen.call_after_refresh(self._after_result)
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
