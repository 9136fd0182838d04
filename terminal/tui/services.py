"""What the TUI is given to work with: the terminal's ports, typed here, built elsewhere.

Why ports: the TUI never picks adapters (the wiring in ``terminal.cli.tui_cmd`` does, with a
:class:`~terminal.runtime.TerminalRuntime`). It sees the terminal only through
:class:`PosBackend` (the runtime's engine handle: operations run on the runtime's I/O
thread, never on Textual's loop), the :class:`~terminal.core.ports.JournalFeed`, the
receipt service, the event bus, the built-in printer's paper switch and, on a test host
only, a simulated QR customer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from terminal.config import TerminalConfig
from terminal.core.events import EventBus
from terminal.core.ports import JournalFeed, PrintJob
from terminal.core.receipting import CopyOutcome
from terminal.core.receipts import Copy
from terminal.engine.cardinput import CardInput
from terminal.engine.results import TxnRef, TxnResult
from terminal.tui.agent_port import AgentPanelPort

__all__ = [
    "Clock",
    "CustomerSimulator",
    "DevicesLike",
    "MpmSessionLike",
    "PanePrinterLike",
    "PosBackend",
    "PosServices",
    "ReceiptsLike",
    "package_version",
]

Clock = Callable[[], datetime]
FirmwareStart = Callable[[Callable[[str, int, int], None]], Awaitable[tuple[bool, str]]]


class MpmSessionLike(Protocol):
    """A merchant-presented QR order: show ``payload``, then ``await wait()``; ``cancel()``
    when the customer walks away (the order is reversed at the host)."""

    @property
    def payload(self) -> str: ...

    @property
    def order_ref(self) -> str: ...

    async def wait(self) -> TxnResult: ...

    async def cancel(self) -> TxnResult: ...


class PosBackend(Protocol):
    """The terminal's operations, exactly as the TUI calls them (from its own loop).

    ``deliver_pending`` sends queued reversals now (returns how many are left): the TUI
    calls it after the cashier cancels, so the reversal is shown rather than deferred.
    """

    @property
    def running(self) -> bool: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def signon(self) -> TxnResult: ...
    async def echo(self) -> TxnResult: ...
    async def sale(self, amount: int, card: CardInput, pin: str | None = None) -> TxnResult: ...
    async def void(self, ref: TxnRef) -> TxnResult: ...
    async def refund(self, ref_or_card: TxnRef | CardInput, amount: int) -> TxnResult: ...
    async def preauth(self, amount: int, card: CardInput, pin: str | None = None) -> TxnResult: ...
    async def completion(self, ref: TxnRef, amount: int) -> TxnResult: ...
    async def balance(self, card: CardInput, pin: str | None = None) -> TxnResult: ...
    async def qr_mpm(self, amount: int) -> MpmSessionLike: ...
    async def qr_cpm(self, amount: int, code: str) -> TxnResult: ...
    async def settle(self) -> TxnResult: ...
    async def deliver_pending(self) -> int: ...


class ReceiptsLike(Protocol):
    """The receipt service (blocking: the TUI calls it in a thread)."""

    def print_copy(self, journal_id: int, copy: Copy | str = ...) -> CopyOutcome: ...
    def reprint(self, journal_id: int, copy: Copy | str = ...) -> CopyOutcome: ...
    def print_pending(self, journal_id: int) -> list[CopyOutcome]: ...


class DeviceRowLike(Protocol):
    role: str
    url: str
    state: str
    last_event: str


class DevicesLike(Protocol):
    """Devices attached on the command line (``--reader``, ``--printer``, ``--scanner``).

    ``reader``/``scanner`` are ``terminal.core.devices.CardReader``/``CodeScanner`` (or
    None); their listeners run on the device's thread. ``printer_state`` is the real
    printer's state for the status bar ("" when printing goes to the pane).
    """

    reader: Any
    scanner: Any

    def rows(self) -> Sequence[DeviceRowLike]: ...
    @property
    def printer_state(self) -> str: ...


class PanePrinterLike(Protocol):
    """The emulated built-in printer: its slips go to ``sink``; its paper can run out."""

    sink: Callable[[PrintJob, str], None] | None

    @property
    def paper_ok(self) -> bool: ...
    def set_paper(self, ok: bool) -> None: ...


class CustomerSimulator(Protocol):
    """The customer side of a QR order, on a test host only (the wiring provides it)."""

    async def pay(self, order_ref: str) -> str: ...
    async def decline(self, order_ref: str, code: str = "05") -> str: ...


def package_version() -> str:
    """The installed posemu version: what the devices panel reports as firmware."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("posemu")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(slots=True)
class PosServices:
    """Everything the App receives (dependency injection): no adapter is built in the TUI."""

    backend: PosBackend
    journal: JournalFeed
    receipts: ReceiptsLike
    printer: PanePrinterLike
    config: TerminalConfig
    events: EventBus = field(default_factory=EventBus)
    customer: CustomerSimulator | None = None
    clock: Clock = datetime.now
    version: str = field(default_factory=package_version)
    host_label: str = ""  # where the host is, for the status bar and devices panel
    signon_at_start: bool = True  # a real terminal signs on when it boots
    #: ``(name, shown value, source)`` of each setting (terminal.settings.describe).
    settings: list[tuple[str, str, str]] = field(default_factory=list)
    #: start(progress) -> (ok, message) for the firmware screen; None: no repository given
    firmware: FirmwareStart | None = None
    #: The config in force now (the runtime's, which a restart may replace); None: fixed.
    current_config: Callable[[], TerminalConfig] | None = None
    devices: DevicesLike | None = None  # serial reader, printer, scanner (None: none attached)
    agent: AgentPanelPort | None = None  # the device-management agent, if it runs
