"""The remote commands a full terminal runs, through the runtime's public surface only:
``journal`` (find), ``receipts`` (reprint as DUPLICATE), ``engine`` (echo, sign-on),
``config`` + ``restart`` (params, reboot), ``idle()`` and ``devices.printer``.

Blocking calls (the receipt service writes the journal and drives the printer) run in a
worker thread so the runtime's loop keeps serving the host link meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.dispatch import CommandFailed, Handler
from agent.errors import CommandRefused
from agent.logbuffer import LogBuffer
from terminal.core.errors import TerminalError
from terminal.core.journal import JournalEntry, JournalQuery
from terminal.core.money import format_amount, parse_amount

if TYPE_CHECKING:
    from terminal.runtime import TerminalRuntime

__all__ = ["TerminalCommands"]


def _local(text: str) -> datetime:
    """A command time: with a zone it is converted to the terminal's local time (what the
    journal keeps); without one it already is local time."""
    at = datetime.fromisoformat(text)
    return at.astimezone().replace(tzinfo=None) if at.tzinfo else at


def _entry_summary(entry: JournalEntry) -> dict[str, Any]:
    return {
        "journal_id": entry.id,
        "stan": entry.stan,
        "rrn": entry.rrn,
        "time": entry.local_time.isoformat(timespec="seconds"),
        "amount": format_amount(entry.amount) if entry.amount is not None else None,
        "state": entry.state.value,
        "masked_pan": entry.masked_pan,
    }


class TerminalCommands:
    """Handlers bound to one runtime. ``own_restart`` is set while a command restarts the
    runtime, so the agent (a runtime hook) is not stopped by its own command."""

    def __init__(
        self,
        runtime: TerminalRuntime,
        *,
        logs: LogBuffer,
        data_dir: Path | None,
        status: Callable[[], dict[str, Any]] = dict,
        firmware_url: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.firmware_url = firmware_url
        self.logs = logs
        self.data_dir = data_dir
        self.status = status
        self.own_restart = False

    def handlers(self) -> dict[str, Handler]:
        return {
            "reprint": self.reprint,
            "diagnostics": self.diagnostics,
            "logs": self.logs_tail,
            "params": self.params,
            "update": self.update,
            "reboot": self.reboot,
        }

    @contextlib.contextmanager
    def _restarting(self) -> Iterator[None]:
        self.own_restart = True
        try:
            yield
        finally:
            self.own_restart = False

    # --- reprint --------------------------------------------------------------------------
    def select_entries(self, args: dict[str, str]) -> list[JournalEntry]:
        """The journal entries a reprint command means; refuses ambiguous selections."""
        groups = [
            name
            for name, present in (
                ("stan", "stan" in args),
                ("rrn", "rrn" in args),
                ("select", "select" in args),
                ("start/end/amount", bool({"start", "end", "amount"} & set(args))),
            )
            if present
        ]
        if len(groups) != 1:
            raise CommandRefused(
                "reprint needs exactly one of: stan=, rrn=, select=last|unprinted, "
                f"or start=/end=/amount= (got {', '.join(groups) or 'none'})"
            )
        journal = self.runtime.journal
        if "stan" in args:
            return journal.find(JournalQuery(stan=args["stan"].zfill(6), limit=10))
        if "rrn" in args:
            return journal.find(JournalQuery(rrn=args["rrn"], limit=10))
        if args.get("select") == "unprinted":
            return self.runtime.receipts.unprinted(limit=100)
        if args.get("select") == "last":
            recent = journal.find(JournalQuery(limit=20))
            return (
                [next(e for e in recent if e.receipt is not None)]
                if any(e.receipt is not None for e in recent)
                else []
            )
        try:
            query = JournalQuery(
                since=_local(args["start"]) if "start" in args else None,
                until=_local(args["end"]) if "end" in args else None,
                amount=parse_amount(args["amount"]) if "amount" in args else None,
                limit=20,
            )
        except (ValueError, TerminalError) as exc:
            raise CommandRefused(f"reprint: {exc}") from None
        return journal.find(query)

    async def reprint(self, args: dict[str, str]) -> dict[str, Any]:
        copy = args.get("copy", "customer")
        copies = ["merchant", "customer"] if copy == "both" else [copy]
        entries = [e for e in self.select_entries(args) if e.receipt is not None]
        if not entries:
            shown = " ".join(f"{k}={v}" for k, v in args.items())
            raise CommandFailed(f"no journal entry with a receipt matches {shown}")
        done: list[dict[str, Any]] = []
        async with self.runtime.idle():  # not while a transaction prints its own slip
            for entry in entries:
                for name in copies:
                    outcome = await asyncio.to_thread(
                        self.runtime.receipts.reprint, entry.id or 0, name
                    )
                    done.append(
                        {
                            **_entry_summary(entry),
                            "copy": name,
                            "duplicate": True,
                            "printed": outcome.printed,
                            "reason": outcome.reason,
                            "printer": outcome.printer,
                        }
                    )
        data = {"reprints": done, "printed": sum(1 for d in done if d["printed"])}
        if data["printed"] == 0:
            raise CommandFailed(f"nothing printed: {done[0]['reason']}", data)
        return data

    # --- diagnostics ----------------------------------------------------------------------
    async def diagnostics(self, args: dict[str, str]) -> dict[str, Any]:
        rt = self.runtime
        report: dict[str, Any] = {"terminal_id": rt.config.terminal_id}
        status = self.status()
        printer: dict[str, Any] = {
            "name": rt.devices.printer.name,
            "last_event": status.get("devices", {}).get("printer"),
        }
        if args.get("test_print", "yes") == "yes":
            printer["test_print"] = await asyncio.to_thread(self._test_print)
        report["printer"] = printer
        report["reader"] = {
            "attached": "reader" in rt.devices.others,
            "last_event": status.get("devices", {}).get("reader"),
        }
        report["host"] = await self._echo()
        report["storage"] = self._storage()
        report["unprinted_receipts"] = len(rt.receipts.unprinted(limit=1000))
        report["pending_reversals"] = rt.engine.pending_reversals()
        report["open_faults"] = status.get("open_faults", [])
        return report

    def _test_print(self) -> dict[str, Any]:
        from terminal.core.ports import PrintJob
        from terminal.core.receipts import Copy, Currency, Receipt
        from terminal.core.receipts.model import Outcome, ReceiptKind, ReceiptResult

        cfg = self.runtime.config
        try:
            receipt = Receipt(
                merchant_name=cfg.merchant_name,
                merchant_id=cfg.merchant_id,
                terminal_id=cfg.terminal_id,
                kind=ReceiptKind.BALANCE,
                timestamp=datetime.now().replace(microsecond=0),
                amount_minor=0,
                currency=Currency.lookup(cfg.currency),
                result=ReceiptResult(Outcome.APPROVED, "00", "PRINTER TEST"),
                copy=Copy.MERCHANT,
                footer=("*** PRINTER TEST ***", "NOT A TRANSACTION"),
            )
            job = PrintJob(0, receipt, Copy.MERCHANT, width=cfg.receipt_width)
            self.runtime.devices.printer.print_job(job)
        except Exception as exc:  # any printer failure is the diagnosis, not a crash
            return {"ok": False, "reason": getattr(exc, "reason", "") or str(exc)}
        return {"ok": True}

    async def _echo(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(self.runtime.engine.echo(), 30)
        except Exception as exc:
            return {"ok": False, "error": str(exc) or type(exc).__name__}
        return {
            "ok": result.response_code == "00",
            "response_code": result.response_code,
            "error": result.error or "",
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }

    def _storage(self) -> dict[str, Any]:
        if self.data_dir is None:
            return {}
        try:
            usage = shutil.disk_usage(self.data_dir)
        except OSError as exc:
            return {"error": str(exc)}
        return {"free_mb": round(usage.free / 1e6, 1), "total_mb": round(usage.total / 1e6, 1)}

    # --- logs -----------------------------------------------------------------------------
    async def logs_tail(self, args: dict[str, str]) -> dict[str, Any]:
        return {"lines": self.logs.tail(int(args.get("lines", "100")))}

    # --- params ---------------------------------------------------------------------------
    _PARAM_FIELDS = (
        "merchant_name",
        "merchant_id",
        "terminal_id",
        "host",
        "receipt_header",
        "receipt_footer",
    )

    async def params(self, args: dict[str, str]) -> dict[str, Any]:
        if not args:
            raise CommandRefused(f"params needs at least one of {', '.join(self._PARAM_FIELDS)}")
        old = self.runtime.config
        known = {f.name for f in fields(old)}
        changes: dict[str, Any] = {}
        for name, value in args.items():
            if name not in known:
                raise CommandRefused(f"params {name}: not supported by this terminal build")
            if name in ("receipt_header", "receipt_footer"):
                changes[name] = tuple(line for line in value.split("|") if line)
            else:
                changes[name] = value
        try:
            new = old.with_(**changes)  # validates everything: all or nothing
        except (ValueError, TerminalError) as exc:
            raise CommandRefused(f"params: {exc}") from None
        undo = self._persist(args)
        with self._restarting():
            await self.runtime.restart(new)
        failure = await self._signon()
        if failure:
            if undo is not None:
                undo()
            with self._restarting():
                await self.runtime.restart(old)
            raise CommandFailed(
                f"sign-on with the new parameters failed ({failure}); previous parameters restored",
                {"rejected": args},
            )
        return {"applied": args, "persisted": undo is not None, "signed_on": True}

    def _persist(self, values: dict[str, str]) -> Callable[[], None] | None:
        """Write ``values`` to the settings file when this build has one (``terminal.settings``,
        atomic replace); returns how to put the file back as it was, or None if not written."""
        if self.data_dir is None:
            return None
        try:
            settings = importlib.import_module("terminal.settings")
        except ImportError:
            return None
        plain: dict[str, Any] = {
            k: [line for line in v.split("|") if line] if k.startswith("receipt_") else v
            for k, v in values.items()
        }
        data_dir = self.data_dir
        before = settings.read_settings(data_dir)
        try:
            settings.save_settings(data_dir, plain)
        except (ValueError, TerminalError) as exc:
            raise CommandRefused(f"params: {exc}") from None

        def undo() -> None:
            settings.save_settings(data_dir, {k: before.get(k) for k in plain})

        return undo

    async def _signon(self) -> str:
        try:
            result = await asyncio.wait_for(self.runtime.engine.signon(), 60)
        except Exception as exc:
            return str(exc) or type(exc).__name__
        if result.response_code != "00":
            return result.error or f"response code {result.response_code}"
        return ""

    # --- update, reboot -------------------------------------------------------------------
    async def update(self, args: dict[str, str]) -> dict[str, Any]:
        """Hand over to the firmware updater (TUF-verified, A/B, health-checked, rollback)."""
        url = args.get("repository") or self.firmware_url
        if not url:
            raise CommandRefused(
                "update needs repository=URL (this terminal has no --firmware-url)"
            )
        try:
            firmware = importlib.import_module("terminal.firmware")
        except ImportError:
            raise CommandRefused(
                "update: the firmware updater is not part of this build; nothing was changed"
            ) from None
        updater = firmware.runtime_updater(self.runtime, url)
        wanted = args.get("version")
        if wanted:
            release = await asyncio.to_thread(updater.check)
            offered = str(release.version) if release is not None else None
            if offered != wanted:
                raise CommandRefused(
                    f"update: the repository offers {offered or 'no newer release'}, "
                    f"not {wanted}; nothing was changed"
                )
        with self._restarting():  # the updater restarts the core on the new slot
            outcome = await updater.run()
        data = {
            "state": str(getattr(outcome.state, "value", outcome.state)),
            "running": str(outcome.running),
            "target": str(outcome.target) if outcome.target is not None else None,
            "message": outcome.message,
            "reason": str(getattr(outcome.reason, "value", outcome.reason) or ""),
        }
        if not outcome.ok:
            raise CommandFailed(f"update: {outcome.message}", data)
        return data

    async def reboot(self, args: dict[str, str]) -> dict[str, Any]:
        started = time.perf_counter()
        with self._restarting():
            await self.runtime.restart()
        return {
            "rebooted": True,
            "seconds": round(time.perf_counter() - started, 2),
            "running": self.runtime.running,
        }
