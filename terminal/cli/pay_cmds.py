"""``posemu pay ...``: the terminal's transactions from the shell, one per command.

``posemu pay sale --amount 12.34 --card visa-approve`` runs one transaction against the host
given by ``--host`` (``HOST:PORT``, ``tcp://HOST:PORT`` or ``tls://HOST:PORT``), else
``$POSEMU_HOST`` or the settings file's ``host`` (:mod:`terminal.settings`), or, with none of
them, against an in-process host simulator that keeps its state under ``<data-dir>/host``.
The journal, store-and-forward queue and keys live in ``--data-dir`` (default:
``$POSEMU_DATA_DIR``, else the per-user data directory), so a later ``posemu pay void --stan
N`` finds the sale, and a reversal left by a killed command is delivered before the next one
does anything else. ``--trace`` dumps each message (masked, timed) on stderr,
``--trace-file PATH`` appends them as JSON lines.

Output: the merchant receipt (printed through the receipt service on ``--printer``, by
default stdout) and a summary line, or with ``--json`` exactly one JSON object (``approved,
response_code, response_text, auth_code, rrn, stan, masked_pan, amount`` as "12.34",
``amount_minor, currency, journal_id, receipt, reversal_pending`` and a few more), whose
``receipt`` is then the printout on stdout. A copy that did not print (``--printer none``, a
file that cannot be written) is recorded as failed and found by ``posemu journal list --unprinted``.
Problems are one ``error:`` line on stderr (and with ``--json`` an ``{"ok": false, ...}``
object on stdout).

Exit status:
    0  approved (or the network message succeeded)
    1  declined by the host
    2  bad input or usage (amount, card, track, reference, PIN, options)
    3  host or network error (refused, timeout, garbage, unusable answer), or the
       terminal's own storage failed; a reversal may be pending (see ``reversal_pending``)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from iso8583 import Iso8583Error
from terminal.cli.agent_options import add_agent_options, attach_agent, wants_agent
from terminal.cli.devices_opts import (
    AttachedDevices,
    add_input_device_options,
    open_devices,
    wait_for_card,
    wait_for_code,
)
from terminal.cli.options import amount_fields, emit_error, spec_from, terminal_settings
from terminal.cli.tracing import open_trace_file, tracing
from terminal.config import TerminalConfig
from terminal.core.errors import InvalidEndpointError, LinkError, PrinterError, TerminalError
from terminal.core.money import format_amount, parse_amount
from terminal.core.ports import PrintJob, ReceiptPrinter
from terminal.core.qr import render_qr
from terminal.core.receipts import Currency
from terminal.devices import PRINTER_URLS, open_printer
from terminal.engine import (
    CardInput,
    EngineError,
    HostUnavailableError,
    InputError,
    TxnRef,
    TxnResult,
)
from terminal.runtime import EngineHandle, TerminalRuntime
from terminal.simulation import QrCustomer
from terminal.store import StoreError

__all__ = ["EXIT_APPROVED", "EXIT_BAD_INPUT", "EXIT_DECLINED", "EXIT_HOST", "add_parser"]

EXIT_APPROVED = 0
EXIT_DECLINED = 1
EXIT_BAD_INPUT = 2
EXIT_HOST = 3

_Op = Callable[[EngineHandle, QrCustomer, AttachedDevices], Awaitable[TxnResult]]


class _Usage(InputError):
    """An option combination the command cannot run with."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--host",
        help="HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT (default: $POSEMU_HOST, the "
        "settings file, else a host simulator in-process)",
    )
    common.add_argument("--tls-ca", help="CA file to verify the host (tls:// only)")
    common.add_argument("--tls-cert", help="client certificate for mutual TLS (tls:// only)")
    common.add_argument("--tls-key", help="client key for mutual TLS (tls:// only)")
    common.add_argument("--spec", help="dialect name or dialect file (default: iso87ascii)")
    common.add_argument(
        "--data-dir", help="terminal data directory (default: $POSEMU_DATA_DIR, else per user)"
    )
    common.add_argument("--json", action="store_true", help="print one JSON object")
    common.add_argument(
        "--timeout", type=float, help="seconds to wait for each answer (and for a swipe/scan)"
    )
    common.add_argument(
        "--trace",
        action="store_true",
        help="show each request and response, field by field (masked), on stderr",
    )
    common.add_argument(
        "--trace-file", metavar="PATH", help="append the trace as JSON lines to PATH"
    )
    common.add_argument(
        "--printer", help=f"where the merchant copy prints: {PRINTER_URLS} (default: stdout)"
    )
    add_input_device_options(common)
    add_agent_options(common, embedded_default=False)
    common.add_argument(
        "--tms-flush",
        type=float,
        default=5.0,
        metavar="S",
        help="with --tms: seconds to wait for the outbox to reach the broker before exiting; "
        "what is left goes out on the next run (default 5)",
    )
    amount = argparse.ArgumentParser(add_help=False)
    amount.add_argument("--amount", required=True, help="amount in major units, e.g. 12.34")
    card = argparse.ArgumentParser(add_help=False)
    source = card.add_mutually_exclusive_group()
    source.add_argument("--card", help="test card name (see 'posemu cards')")
    source.add_argument("--track2", help="track 2, with or without sentinels")
    source.add_argument("--track", help="raw reader output (tracks 1 and/or 2)")
    source.add_argument("--pan", help="keyed-in card number (with --expiry)")
    card.add_argument("--expiry", help="YYMM, with --pan")
    card.add_argument("--pin", help="online PIN (test cards: 1234)")
    card.add_argument("--fallback", action="store_true", help="swipe after a chip failure")
    ref = argparse.ArgumentParser(add_help=False)
    which = ref.add_mutually_exclusive_group()
    which.add_argument("--stan", help="trace number of the original (open batch)")
    which.add_argument("--rrn", help="retrieval reference number of the original")
    which.add_argument("--id", type=int, dest="journal_id", help="journal id of the original")

    p = sub.add_parser("pay", help="run a transaction against the acquirer host")
    ops = p.add_subparsers(dest="pay_cmd", required=True)
    for name, parents, text in (
        ("sale", [common, amount, card], "purchase"),
        ("preauth", [common, amount, card], "pre-authorisation"),
        ("balance", [common, card], "balance inquiry"),
        ("void", [common, ref], "void a transaction of the open batch"),
        ("refund", [common, amount, ref, card], "refund by reference (or to a card)"),
        ("completion", [common, amount, ref], "complete a pre-authorisation"),
        ("qr-cpm", [common, amount], "charge a customer's payment code"),
        ("qr-mpm", [common, amount], "show a QR order and wait for the payment"),
        ("settle", [common], "settle the open batch"),
        ("signon", [common], "fetch new working keys"),
        ("echo", [common], "test the link"),
    ):
        op = ops.add_parser(name, parents=parents, help=text, description=text)
        op.set_defaults(func=cmd_pay)
        if name == "qr-cpm":
            op.add_argument("--code", help="payment code as scanned (or scan it: --scanner)")
        if name == "qr-mpm":
            op.add_argument("--render", action="store_true", help="draw the QR with half blocks")
            op.add_argument(
                "--simulate",
                choices=("pay", "decline", "none"),
                default="pay",
                help="test host: the customer pays now (default), declines, or nothing is "
                "simulated (the simulator pays on its own after its delay)",
            )


def cmd_pay(args: argparse.Namespace) -> int:
    as_json = bool(args.json)
    try:
        config, embedded, data_dir, spec = _config(args)
        op = _operation(args, Currency.lookup(config.currency).exponent)
        return asyncio.run(_run(args, config, spec, op, embedded=embedded, data_dir=data_dir))
    except (InputError, InvalidEndpointError) as exc:
        return _fail(str(exc), EXIT_BAD_INPUT, as_json, "input")
    except StoreError as exc:  # damaged, locked, full: the user fixes it
        return _fail(str(exc), EXIT_BAD_INPUT, as_json, "store")
    except (EngineError, LinkError, PrinterError) as exc:
        return _fail(_user_terms(str(exc), args), EXIT_HOST, as_json, "host")
    except (TerminalError, Iso8583Error) as exc:  # card data, amount, QR code, config, spec
        return _fail(str(exc), EXIT_BAD_INPUT, as_json, "input")


def _user_terms(text: str, args: argparse.Namespace) -> str:
    """The in-process simulator's random address means nothing to the user: name it."""
    url = getattr(args, "embedded_url", None)
    return text.replace(url, "embedded host simulator") if url else text


def _fail(text: str, code: int, as_json: bool = False, kind: str = "error") -> int:
    return emit_error(text, as_json=as_json, code=code, kind=kind)


def _config(args: argparse.Namespace) -> tuple[TerminalConfig, bool, Path, Any]:
    """Config from options, environment and settings file; True when the host is embedded."""
    extra: dict[str, tuple[Any, str]] = {}
    if args.spec:
        extra["spec"] = (args.spec, "--spec")
    if args.timeout is not None:
        if not 0.05 <= args.timeout <= 120:
            raise _Usage(f"--timeout {args.timeout:g}: give 0.05 to 120 seconds")
        extra["response_timeout"] = (args.timeout, "--timeout")
        extra["connect_timeout"] = (min(args.timeout, 60), "--timeout")
    config, sources, data_dir = terminal_settings(args, **extra)
    spec = spec_from(config.spec, flag="--spec" if args.spec else f"{sources['spec']}: spec")
    return config.with_(spec=spec.name), sources["host"] == "default", data_dir, spec


def _card(args: argparse.Namespace, *, required: bool = True) -> CardInput | None:
    fallback = bool(getattr(args, "fallback", False))
    if getattr(args, "card", None):
        return CardInput.test_card(args.card, chip_failed=fallback)
    if getattr(args, "track2", None):
        return CardInput.track2(args.track2, chip_failed=fallback)
    if getattr(args, "track", None):
        return CardInput.swipe(args.track, chip_failed=fallback)
    if getattr(args, "pan", None):
        if not args.expiry:
            raise _Usage("--pan needs --expiry YYMM")
        return CardInput.manual(args.pan, args.expiry)
    if required and not getattr(args, "reader", None):
        raise _Usage(
            "give a card: --card NAME, --track2 T, --track DATA, --pan P --expiry YYMM, "
            "or swipe it on --reader URL"
        )
    return None


def _ref(args: argparse.Namespace) -> TxnRef | None:
    if args.journal_id is not None:
        return TxnRef(journal_id=args.journal_id)
    if args.stan:
        if not (args.stan.isdigit() and len(args.stan) <= 6):
            raise _Usage("--stan must be up to 6 digits")
        return TxnRef(stan=args.stan.zfill(6))
    if args.rrn:
        return TxnRef(rrn=args.rrn)
    return None


def _check_devices(args: argparse.Namespace) -> None:
    """A --reader or --scanner that the command would never read is an error, not ignored."""
    name = args.pay_cmd
    card_given = any(getattr(args, o, None) for o in ("card", "track2", "track", "pan"))
    if args.reader:
        if name not in ("sale", "preauth", "balance", "refund"):
            raise _Usage(f"--reader: {name} takes no card (sale, preauth, balance, refund do)")
        if card_given:
            raise _Usage("--reader waits for a swipe: give it or a card option, not both")
        if name == "refund" and _ref(args) is not None:
            raise _Usage("--reader: a refund by --stan/--rrn/--id takes no card")
    if args.scanner:
        if name != "qr-cpm":
            raise _Usage(f"--scanner: only qr-cpm scans a payment code, not {name}")
        if args.code:
            raise _Usage("--scanner waits for a scan: give it or --code, not both")


def _operation(args: argparse.Namespace, exponent: int) -> _Op:
    """Everything the command needs from its options, checked before any I/O."""
    name = args.pay_cmd
    _check_devices(args)

    def _amount(args: argparse.Namespace) -> int:
        return parse_amount(args.amount, exponent)

    pin = getattr(args, "pin", None)
    if name in ("sale", "preauth"):
        amount, card = _amount(args), _card(args)
        method = "sale" if name == "sale" else "preauth"
        return lambda t, c, d: _with_card(
            args, d, card, lambda k: getattr(t, method)(amount, k, pin)
        )
    if name == "balance":
        card = _card(args)
        return lambda t, c, d: _with_card(args, d, card, lambda k: t.balance(k, pin))
    if name in ("void", "completion", "refund"):
        ref = _ref(args)
        amount = _amount(args) if name != "void" else 0
        if name == "refund" and ref is None:
            card = _card(args, required=False)
            if card is None and not args.reader:
                raise _Usage("refund needs --stan/--rrn/--id, a card or --reader URL")
            return lambda t, c, d: _with_card(args, d, card, lambda k: t.refund(k, amount))
        if ref is None:
            raise _Usage(f"{name} needs --stan N, --rrn R or --id JOURNAL_ID")
        if name == "void":
            return lambda t, c, d: t.void(ref)
        if name == "refund":
            return lambda t, c, d: t.refund(ref, amount)
        return lambda t, c, d: t.completion(ref, amount)
    if name == "qr-cpm":
        amount = _amount(args)
        if not args.code and not args.scanner:
            raise _Usage("qr-cpm needs --code CODE, or --scanner URL to scan it")
        if args.code:
            _check_code(args.code)
        return lambda t, c, d: _with_code(args, d, lambda code: t.qr_cpm(amount, code))
    if name == "qr-mpm":
        amount = _amount(args)
        return lambda t, c, d: _qr_mpm(t, c, amount, args)
    return lambda t, c, d: getattr(t, name)()  # settle, signon, echo


async def _with_card(
    args: argparse.Namespace,
    devices: AttachedDevices,
    card: CardInput | None,
    run: Callable[[CardInput], Awaitable[TxnResult]],
) -> TxnResult:
    """``run`` with the given card, or with the next swipe on the attached reader."""
    if card is None:
        card = await wait_for_card(args, devices)
    return await run(card)


async def _with_code(
    args: argparse.Namespace,
    devices: AttachedDevices,
    run: Callable[[str], Awaitable[TxnResult]],
) -> TxnResult:
    code = args.code or await wait_for_code(args, devices)
    return await run(code)


def _check_code(code: str) -> None:
    """Name the option, not the parser: "--code: ..." (the code itself is never echoed)."""
    from terminal.core.qr import QrError, parse_payment_code

    try:
        parse_payment_code(code)
    except QrError as exc:
        raise _Usage(
            f"--code: not a usable payment code ({exc}); a wallet code is 16-24 digits, an "
            "EMV code is Base64"
        ) from None


async def _qr_mpm(
    terminal: EngineHandle, customer: QrCustomer, amount: int, args: argparse.Namespace
) -> TxnResult:
    session = await terminal.qr_mpm(amount)
    if session.done:
        assert session.result is not None
        return session.result
    out = sys.stderr if args.json else sys.stdout
    print(session.payload, file=out, flush=True)
    if args.render:
        print("\n".join(render_qr(session.payload)), file=out, flush=True)
    if args.simulate == "pay":
        await customer.pay(session.order_ref)
    elif args.simulate == "decline":
        await customer.decline(session.order_ref, "05")
    return await session.wait()


@contextlib.asynccontextmanager
async def _host(
    config: TerminalConfig, spec: Any, data_dir: Path, *, embedded: bool
) -> AsyncIterator[TerminalConfig]:
    """The configured host, or an in-process simulator for the length of the command."""
    if not embedded:
        yield config
        return
    from iso8583.host import EmbeddedHost, HostError  # only here: it is a heavy import

    options: dict[str, Any] = {}
    if "state_dir" in inspect.signature(EmbeddedHost).parameters:
        options["state_dir"] = state_dir = data_dir / "host"
        try:  # a data directory we cannot write is the user's to fix (exit 2), not the host's
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = f"data directory cannot be written ({exc.strerror or exc})"
            raise StoreError(reason, path=state_dir) from exc
    try:
        host = EmbeddedHost(spec, **options)
        address, port = host.start()
    except HostError as exc:
        raise HostUnavailableError(f"in-process host simulator: {exc}") from exc
    try:
        yield config.with_(host=f"tcp://{address}:{port}")
    finally:
        host.stop()


class _JsonSlip:
    """With ``--json`` on stdout, the JSON object's ``receipt`` is the printout."""

    name = "json"

    def print_job(self, job: PrintJob) -> None:
        """Nothing to do here: the command writes the slip inside its JSON object."""


def _printer(args: argparse.Namespace, publish: Callable[[Any], None]) -> ReceiptPrinter:
    args.printer = args.printer or "stdout"
    if args.printer == "stdout" and args.json:
        return _JsonSlip()
    return open_printer(args.printer, publish=publish)


async def _run(
    args: argparse.Namespace,
    config: TerminalConfig,
    spec: Any,
    op: _Op,
    *,
    embedded: bool,
    data_dir: Path,
) -> int:
    devices = open_devices(args)  # a bad device URL fails before anything is sent
    printer = devices.printer = _printer(args, devices.emit)
    trace_file = open_trace_file(args.trace_file)  # so does a bad --trace-file
    async with _host(config, spec, data_dir, embedded=embedded) as live:
        if embedded:
            args.embedded_url = live.host
        runtime = TerminalRuntime(live, data_dir=data_dir, spec=spec, printer=printer)
        devices.attach_to(runtime)
        if wants_agent(args, embedded_default=False):
            attach_agent(args, runtime, data_dir, args.tms, flush_timeout=args.tms_flush)
        try:
            with devices:
                async with tracing(
                    runtime.bus, text=sys.stderr if args.trace else None, jsonl=trace_file
                ):
                    await runtime.start()
                    result = await op(runtime.engine, QrCustomer(live, spec), devices)
                if result.error:
                    result = replace(result, error=_user_terms(result.error, args))
                _print(result, args.json, runtime)
        finally:
            await runtime.stop()
            runtime.close()
    if result.error:
        print(f"error: {result.error}", file=sys.stderr, flush=True)
    return _exit_status(result)


def _exit_status(result: TxnResult) -> int:
    if result.error:
        return EXIT_HOST
    return EXIT_APPROVED if result.approved else EXIT_DECLINED


def _print_copy(result: TxnResult, runtime: TerminalRuntime) -> None:
    """The merchant copy through the receipt service (recorded printed or failed)."""
    if not (result.receipt_text and result.journal_id is not None):
        return
    outcome = runtime.receipts.print_copy(result.journal_id, "merchant")
    if not outcome.printed:
        print(f"warning: receipt not printed: {outcome.reason}", file=sys.stderr, flush=True)


def _money(value: int | None, currency: str) -> str | None:
    if value is None:
        return None
    return format_amount(value, Currency.lookup(currency).exponent)


def _print(result: TxnResult, as_json: bool, runtime: TerminalRuntime) -> None:
    if as_json:
        body: dict[str, Any] = {
            "approved": result.approved,
            "response_code": result.response_code,
            "response_text": result.response_text,
            "auth_code": result.auth_code,
            "rrn": result.rrn,
            "stan": result.stan,
            "masked_pan": result.masked_pan,
            **amount_fields(result.amount, result.currency),
            "journal_id": result.journal_id,
            "receipt": result.receipt_text,
            "reversal_pending": result.reversal_pending,
            "kind": result.kind.value,
            "state": result.state.value if result.state is not None else None,
            "error": result.error,
            "balance": _money(result.balance, result.currency),
            "batch": result.batch,
            # the documented error contract holds for a result that carries an error too
            "ok": not result.error,
            "exit_status": _exit_status(result),
        }
        if result.error:
            body["error_kind"] = "host"
        if result.order_ref:
            body["order_ref"] = result.order_ref
        if result.totals is not None:
            t = result.totals
            body["totals"] = {
                "debit_count": t.debit_count,
                "debit_amount": _money(t.debit_amount, result.currency),
                "credit_count": t.credit_count,
                "credit_amount": _money(t.credit_amount, result.currency),
            }
            body["uploaded"] = result.uploaded
        print(json.dumps(body, ensure_ascii=False), flush=True)
        _print_copy(result, runtime)  # written above: now it counts as printed
        return
    _print_copy(result, runtime)
    parts = [result.kind.value.upper(), result.response_text or "NO ANSWER"]
    if result.response_code:
        parts.append(f"({result.response_code})")
    for label, value in (("stan", result.stan), ("auth", result.auth_code), ("rrn", result.rrn)):
        if value:
            parts.append(f"{label} {value}")
    if result.balance is not None:
        parts.append(f"balance {_money(result.balance, result.currency)}")
    if result.journal_id is not None:
        parts.append(f"id {result.journal_id}")
    if result.totals is not None:
        t, cur = result.totals, result.currency
        parts.append(
            f"batch {result.batch}: {t.debit_count} debits {_money(t.debit_amount, cur)}, "
            f"{t.credit_count} credits {_money(t.credit_amount, cur)}, {result.uploaded} uploaded"
        )
    if result.error:
        parts.append("reversal pending" if result.reversal_pending else f"[{result.state}]")
    print(" ".join(parts), flush=True)
