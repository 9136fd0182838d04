"""``posemu tui``: the emulated smart POS in a text UI, wired to a real acquirer link.

This is where the TUI's adapters are picked: a :class:`~terminal.runtime.TerminalRuntime`
with the SQLite store in ``--data-dir`` (default: the per-user data directory) and the
built-in pane printer, talking ISO 8583 over TCP to ``--host``, or, without ``--host``, to
the host simulator started in-process on a free port (so ``posemu`` alone gives a working
terminal), whose QR customer the tester then plays. :class:`TuiRuntime` does the wiring for
the command, the deterministic demo and the tests alike.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from iso8583 import Iso8583Error
from iso8583.host.embedded import EmbeddedHost
from iso8583.host.rules import HostError, Rules, default_rules
from terminal.cli.agent_options import attach_agent, wants_agent
from terminal.cli.iso8583_cmds import resolve_spec
from terminal.cli.options import THEMES, add_terminal_options
from terminal.config import ConfigError, TerminalConfig
from terminal.core.devices import DeviceError
from terminal.core.errors import TerminalError
from terminal.devices import PanePrinter
from terminal.devices.attached import AttachedDevices
from terminal.engine.service import TerminalService
from terminal.firmware import tui_update_starter
from terminal.runtime import TerminalRuntime
from terminal.settings import normalise_host
from terminal.simulation import QrCustomer
from terminal.store.state import TerminalStore, default_data_dir
from terminal.tui.services import PosServices

__all__ = [
    "THEMES",
    "TuiRuntime",
    "add_parser",
    "interactive_rules",
    "normalise_host",
    "run_tui",
]

EXIT_ERROR = 2
#: Seconds until the simulated QR customer pays by themselves: effectively never.
MANUAL_PAY_DELAY = 24 * 3600.0


def interactive_rules() -> Rules:
    """The simulator's default rules, except that a QR customer pays only when told to
    (the QR screen's keys), instead of after ``mpm_pay_delay`` seconds."""
    return replace(default_rules(), mpm_pay_delay=MANUAL_PAY_DELAY)


class TuiRuntime:
    """The TUI's services, built and torn down in the right order (host last)."""

    def __init__(
        self,
        *,
        host: str | None = None,
        spec: str = "iso87ascii",
        data_dir: Path | str | None = None,
        config: TerminalConfig | None = None,
        rules: Rules | None = None,
        clock: Callable[[], datetime] = datetime.now,
        signon_at_start: bool = True,
        settings: list[tuple[str, str, str]] | None = None,
        firmware_url: str | None = None,
        reader: str | None = None,
        printer: str | None = None,
        scanner: str | None = None,
        agent_args: argparse.Namespace | None = None,
    ) -> None:
        self._settings = settings or []
        self._firmware_url = firmware_url
        self._host = host
        self._device_urls = {"reader": reader, "printer": printer, "scanner": scanner}
        self.devices: AttachedDevices | None = None
        self._spec_name = spec
        self._data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self._config = config or TerminalConfig()
        self._rules = rules
        self._clock = clock
        self._signon = signon_at_start
        self.embedded: EmbeddedHost | None = None
        self.runtime: TerminalRuntime | None = None
        self.services: PosServices | None = None
        self._agent_args = agent_args
        self.tms: Any = None  # agent.tms_side.TmsSide when the agent runs

    @property
    def store(self) -> TerminalStore | None:
        store = self.runtime.store if self.runtime is not None else None
        return store if isinstance(store, TerminalStore) else None

    @property
    def service(self) -> TerminalService | None:
        return self.runtime.service if self.runtime is not None else None

    def open(self) -> PosServices:
        spec = resolve_spec(self._spec_name)
        try:
            if self._host is None:
                self.embedded = EmbeddedHost(spec, self._rules or interactive_rules())
                address, port = self.embedded.start()
                url, label = f"tcp://{address}:{port}", f"embedded simulator {address}:{port}"
            else:
                url = normalise_host(self._host)
                label = url
            config = self._config.with_(host=url, spec=spec.name)
            printer = PanePrinter()
            urls = self._device_urls
            if urls["printer"] == "stdout":
                raise DeviceError(
                    "--printer stdout", "the TUI owns the screen; it prints to its pane"
                )
            devices = AttachedDevices.from_urls(  # bad URLs fail here, before anything opens
                reader=urls["reader"], printer=urls["printer"], scanner=urls["scanner"]
            )
            runtime = TerminalRuntime(
                config, data_dir=self._data_dir, spec=spec, printer=printer, clock=self._clock
            )
            printer.publish = runtime.bus.publish
            self.runtime = runtime
            if devices.all:
                devices.attach_to(runtime)  # a --printer replaces the pane printer
                devices.start()
                self.devices = devices
            panel = self._attach_agent(runtime, config)
        except BaseException:
            self.close()
            raise
        self.services = PosServices(
            backend=runtime.engine,
            journal=runtime.journal,
            receipts=runtime.receipts,
            printer=printer,
            config=config,
            events=runtime.bus,
            customer=QrCustomer(config, spec),
            clock=self._clock,
            host_label=label,
            signon_at_start=self._signon,
            settings=self._settings,
            firmware=tui_update_starter(runtime, self._firmware_url)
            if self._firmware_url
            else None,
            current_config=lambda: runtime.config,
            devices=self.devices,
            agent=panel,
        )
        return self.services

    def _attach_agent(self, runtime: TerminalRuntime, config: TerminalConfig) -> Any:
        """With the agent on: the TMS side (the embedded broker unless ``--tms``) in a thread
        of its own, the agent plugged into the runtime, and the panel for the TUI."""
        args = self._agent_args
        if args is None or not wants_agent(args, embedded_default=True):
            return None
        from agent.panel import AgentPanel
        from agent.tms_side import TmsSide
        from terminal.cli.tms_options import broker_settings, broker_url

        url = broker_url(args)
        settings = broker_settings(args, url) if url else None
        self.tms = TmsSide(url, config.terminal_id, settings=settings)
        url = self.tms.start()
        agent = attach_agent(args, runtime, self._data_dir, url)
        return AgentPanel(agent, self.tms)

    def close(self) -> None:
        if self.devices is not None:
            self.devices.stop()
            self.devices = None
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None
        if self.tms is not None:
            self.tms.stop()
            self.tms = None
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    def __enter__(self) -> PosServices:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tui", help="run the smart POS terminal in a text UI")
    add_arguments(p)
    p.set_defaults(func=run_tui)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_terminal_options(p)


def needs_terminal() -> str | None:
    """Why the TUI cannot run here (stdin or stdout is not a terminal), or None."""
    for name, stream in (("input", sys.stdin), ("output", sys.stdout)):
        try:
            tty = stream is not None and stream.isatty()
        except (ValueError, OSError):
            tty = False
        if not tty:
            return (
                f"the terminal UI needs an interactive terminal (standard {name} is not one); "
                "for scripts use 'posemu pay ...' (see 'posemu --help')"
            )
    return None


def run_tui(args: argparse.Namespace) -> int:
    """Run the TUI until the cashier quits; also what ``posemu`` with no subcommand runs."""
    from terminal.cli.options import spec_from, terminal_settings
    from terminal.settings import describe

    problem = needs_terminal()
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    try:
        spec_opt = getattr(args, "spec", None)
        extra = {"spec": (spec_opt, "--spec")} if spec_opt else {}
        config, sources, data_dir = terminal_settings(args, **extra)
        spec_from(config.spec, flag="--spec" if spec_opt else f"{sources['spec']}: spec")
        embedded = sources["host"] == "default"
        from terminal.tui.app import PosApp

        runtime = TuiRuntime(
            host=None if embedded else config.host,
            spec=config.spec,
            data_dir=data_dir,
            config=config,
            settings=describe(config, sources),
            firmware_url=getattr(args, "firmware_url", None),
            reader=getattr(args, "reader", None),
            printer=getattr(args, "printer", None),
            scanner=getattr(args, "scanner", None),
            agent_args=args,
        )
        services = runtime.open()
    except (Iso8583Error, TerminalError, ConfigError, HostError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        PosApp(services, theme=getattr(args, "theme", None) or "dark").run()
    finally:
        runtime.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m terminal.cli.tui_cmd``), same options as ``posemu tui``."""
    parser = argparse.ArgumentParser(prog="posemu tui", description="smart POS terminal UI")
    add_arguments(parser)
    return run_tui(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
