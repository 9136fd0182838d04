"""``posemu devsim reader|printer|scanner``: the device side, for benches without hardware.

The first line on stdout is what to give posemu (``--reader PATH`` or ``socket://...``);
messages go to stderr, printed receipts to stdout. Commands come from ``--do`` (repeatable),
then ``--script FILE``, then stdin (interactive: Enter alone swipes or scans the default);
``quit`` ends, as do Ctrl-C and SIGTERM. End of stdin does not: a simulator started in the
background keeps serving. See :mod:`terminal.devices.sim.devices` for the commands.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from urllib.parse import unquote_to_bytes

__all__ = ["add_parser"]

EXIT_BAD_INPUT = 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devsim", help="simulate a card reader, receipt printer or QR scanner")
    kinds = p.add_subparsers(dest="devsim_kind", required=True, metavar="DEVICE")
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="open a pseudo-terminal (default)")
    where.add_argument("--attach", metavar="URL", help="open this pyserial URL (a socat pty end)")
    where.add_argument("--listen", metavar="[HOST:]PORT", help="serve the terminal over TCP")
    common.add_argument("--script", type=Path, help="file of commands, one per line")
    common.add_argument("--do", action="append", default=[], metavar="COMMAND", help="run first")
    common.add_argument("--every", type=float, metavar="SECONDS", help="repeat the default action")

    r = kinds.add_parser("reader", parents=[common], help="magnetic-stripe reader")
    r.add_argument("--card", default="visa-approve", help="default test card (posemu cards)")
    r.add_argument("--stx", action="store_true", help="frame swipes with STX/ETX")
    r.add_argument("--crlf", action="store_true", help="end swipes with CR/LF (default CR)")
    r.add_argument("--preamble", default="", help="bytes before each swipe (%%XX escapes)")
    r.add_argument("--postamble", default="", help="bytes after each swipe (%%XX escapes)")

    pr = kinds.add_parser("printer", parents=[common], help="ESC/POS receipt printer")
    pr.add_argument("--paper-out", action="store_true", help="start without paper")
    pr.add_argument("--paper-low", action="store_true", help="start with paper near its end")
    pr.add_argument("--cover-open", action="store_true", help="start with the cover open")
    pr.add_argument("--offline", action="store_true", help="start off-line")
    pr.add_argument("--columns", type=int, choices=(32, 42, 48), default=42)
    pr.add_argument("--save", type=Path, metavar="FILE", help="append raw bytes received")

    s = kinds.add_parser("scanner", parents=[common], help="QR / barcode scanner")
    s.add_argument("--code", default="", help="default payment code to scan")
    s.add_argument("--crlf", action="store_true", help="end scans with CR/LF (default CR)")
    p.set_defaults(func=cmd_devsim)


def _say(text: str) -> None:
    print(f"devsim: {text}", file=sys.stderr, flush=True)


def _show(text: str) -> None:
    print(text, flush=True)


def _end(args: argparse.Namespace) -> object:
    from terminal.devices.sim.transport import PtyEnd, TcpEnd, UrlEnd

    if args.attach:
        return UrlEnd(args.attach)
    if args.listen:
        host, _, port = args.listen.rpartition(":")
        if not port.isdigit() or int(port) > 65535:
            raise ValueError(f"--listen {args.listen}: expected [HOST:]PORT (0 picks a free one)")
        return TcpEnd(host or "127.0.0.1", int(port))
    return PtyEnd()


def _device(args: argparse.Namespace, end: object) -> object:
    from terminal.core.devices import PrinterStatus
    from terminal.devices.sim.devices import PrinterSim, ReaderSim, ScannerSim

    if args.devsim_kind == "reader":
        return ReaderSim(
            end,  # type: ignore[arg-type]
            card=args.card,
            stx=args.stx,
            crlf=args.crlf,
            preamble=unquote_to_bytes(args.preamble),
            postamble=unquote_to_bytes(args.postamble),
            say=_say,
        )
    if args.devsim_kind == "scanner":
        return ScannerSim(end, code=args.code, crlf=args.crlf, say=_say)  # type: ignore[arg-type]
    status = PrinterStatus(
        online=not args.offline,
        paper_out=args.paper_out,
        paper_near_end=args.paper_out or args.paper_low,
        cover_open=args.cover_open,
    )
    return PrinterSim(
        end,  # type: ignore[arg-type]
        status=status,
        columns=args.columns,
        save=args.save,
        say=_say,
        show=_show,
    )


def cmd_devsim(args: argparse.Namespace) -> int:
    from terminal.core.errors import TerminalError
    from terminal.devices.sim.devices import SimCommandError

    if args.every is not None and not 0.05 <= args.every <= 86400:
        print("error: --every must be 0.05..86400 seconds", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        script = args.script.read_text().splitlines() if args.script else []
    except OSError as exc:
        print(f"error: --script {args.script}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        end = _end(args)
        device = _device(args, end)
    except (OSError, ValueError, TerminalError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # pyserial's SerialException for --attach
        print(f"error: --attach {args.attach}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(end.label, flush=True)  # type: ignore[attr-defined]
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    pump = threading.Thread(target=_pump, args=(end, device, stop), daemon=True)
    pump.start()
    runner = _Runner(device, stop, SimCommandError)
    if args.every:
        threading.Thread(target=runner.repeat, args=(args.every,), daemon=True).start()
    try:
        for line in [*args.do, *script]:
            if not runner.run(line):
                return runner.status
        commands = threading.Thread(target=runner.stdin, daemon=True)
        commands.start()
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        pump.join(timeout=1)
        end.close()  # type: ignore[attr-defined]
    return runner.status


def _pump(end: object, device: object, stop: threading.Event) -> None:
    while not stop.is_set():
        data = end.read(0.05)  # type: ignore[attr-defined]
        if data:
            device.on_bytes(data)  # type: ignore[attr-defined]


class _Runner:
    def __init__(self, device: object, stop: threading.Event, error: type[Exception]) -> None:
        self.device, self.stop, self.error = device, stop, error
        self.status = 0
        self._lock = threading.Lock()

    def run(self, line: str, *, blank_is_default: bool = False) -> bool:
        """Run one command; False after ``quit``. A blank line is the default action (swipe,
        scan) only when typed at a keyboard, never in a script."""
        text = line.split("#", 1)[0].strip() if not line.lstrip().startswith("raw") else line
        if not text.strip() and not blank_is_default:
            return True
        verb, _, arg = text.strip().partition(" ")
        verb, arg = verb.lower(), arg.strip()
        if verb == "quit":
            self.stop.set()
            return False
        if verb == "sleep":
            try:
                self.stop.wait(float(arg))
            except ValueError:
                _say(f"sleep {arg!r}: expected seconds")
            return not self.stop.is_set()
        with self._lock:
            try:
                self.device.command(verb, arg)  # type: ignore[attr-defined]
            except self.error as exc:
                _say(f"error: {exc}")
        return True

    def repeat(self, every: float) -> None:
        while not self.stop.wait(every):
            self.run("", blank_is_default=True)

    def stdin(self) -> None:
        interactive = sys.stdin.isatty()
        for line in sys.stdin:
            if not self.run(line.rstrip("\r\n"), blank_is_default=interactive):
                return
        if interactive:  # Ctrl-D at the keyboard ends; a closed pipe does not
            self.stop.set()
