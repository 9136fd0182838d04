"""Remote commands: the catalogue, and strict parsing of what arrives on ``{prefix}/{tid}/cmd``.

A command is a JSON object ``{"v": 1, "id", "name", "args", "issued_at", "expires_at"[, "sig"]}``.
Everything wrong with one (bad JSON, unknown name, unknown or malformed argument, expired,
unsigned or badly signed when a TMS key is configured) becomes a :class:`CommandRefused`
with a reason the TMS can show; nothing here raises anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.clock import format_time, new_id, parse_time, utc_now
from agent.errors import CommandRefused
from agent.reports import decode
from agent.signing import verify_command

__all__ = [
    "CATALOG",
    "Command",
    "CommandSpec",
    "Envelope",
    "Param",
    "check_command",
    "new_command",
    "open_envelope",
]

_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?"
_TEXT = r"[^\x00-\x1f\x7f]{1,40}"


@dataclass(frozen=True, slots=True)
class Param:
    pattern: str
    help: str
    required: bool = False

    def check(self, name: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"argument {name}: expected a string, got {type(value).__name__}")
        text = str(value)
        if not re.fullmatch(self.pattern, text):
            raise ValueError(f"argument {name}={text!r}: {self.help}")
        return text


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    summary: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def check_args(self, args: Mapping[str, Any]) -> dict[str, str]:
        unknown = sorted(set(args) - set(self.params))
        if unknown:
            allowed = ", ".join(sorted(self.params)) or "none"
            raise ValueError(f"unknown argument {unknown[0]!r} (allowed: {allowed})")
        missing = [n for n, p in self.params.items() if p.required and n not in args]
        if missing:
            raise ValueError(f"missing argument {missing[0]!r}")
        return {name: self.params[name].check(name, value) for name, value in args.items()}


def _spec(name: str, summary: str, **params: Param) -> CommandSpec:
    return CommandSpec(name, summary, params)


CATALOG: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "reprint",
            "reprint as DUPLICATE: by stan, rrn, select=last|unprinted, or start/end[/amount]",
            stan=Param(r"\d{1,6}", "a STAN of 1-6 digits"),
            rrn=Param(r"[A-Za-z0-9]{1,12}", "an RRN of 1-12 letters or digits"),
            select=Param(r"last|unprinted", "last or unprinted"),
            start=Param(_TIME, "an ISO 8601 time, e.g. 2026-12-06T21:00"),
            end=Param(_TIME, "an ISO 8601 time, e.g. 2026-12-06T22:00"),
            amount=Param(r"\d{1,10}(\.\d{1,3})?", "an amount in major units, e.g. 12.34"),
            copy=Param(r"merchant|customer|both", "merchant, customer or both"),
        ),
        _spec(
            "diagnostics",
            "printer status and test print, reader check, host echo, storage; returns a report",
            test_print=Param(r"yes|no", "yes or no"),
        ),
        _spec(
            "logs",
            "recent log lines, PANs masked",
            lines=Param(r"[1-9]\d{0,3}", "a number of lines, 1-9999"),
        ),
        _spec(
            "params",
            "set merchant name, IDs, host address, receipt header/footer atomically, then sign on",
            merchant_name=Param(_TEXT, "1-40 printable characters"),
            merchant_id=Param(r"[A-Za-z0-9 ]{1,15}", "1-15 letters, digits or spaces"),
            terminal_id=Param(r"[A-Za-z0-9]{1,8}", "1-8 letters or digits"),
            host=Param(r"(tcp|tls)://[^\s/]+:\d{1,5}", "tcp://HOST:PORT or tls://HOST:PORT"),
            receipt_header=Param(_TEXT, "1-40 printable characters"),
            receipt_footer=Param(_TEXT, "1-40 printable characters"),
        ),
        _spec(
            "update",
            "hand over to the firmware updater",
            version=Param(r"[0-9A-Za-z.+\-]{1,32}", "a version such as 1.2.0"),
            repository=Param(r"\S{1,300}", "the update repository URL"),
        ),
        _spec("reboot", "restart the terminal core in-process"),
    )
}


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    name: str
    args: dict[str, str]
    issued_at: datetime
    expires_at: datetime
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Envelope:
    """A command whose ID is readable and whose signature (if required) is good."""

    id: str
    name: str | None
    body: dict[str, Any]


def open_envelope(payload: bytes, *, key: Ed25519PublicKey | None = None) -> Envelope:
    """First stage: JSON, ID and signature. Raises :class:`CommandRefused` with the reason.

    Only a command that passes this stage is looked up by ID (a repeat gets its stored
    result) or recorded, so a forger can neither trigger nor block a command ID.
    """
    body = decode(payload)
    if body is None:
        raise CommandRefused("not a JSON object")
    raw_id = body.get("id")
    cid = raw_id if isinstance(raw_id, str) and _ID.match(raw_id) else None
    name = body.get("name") if isinstance(body.get("name"), str) else None
    if cid is None:
        raise CommandRefused("id: 1-64 letters, digits or '_ . : -' required", name=name)
    if key is not None:
        reason = verify_command(body, key)
        if reason:
            raise CommandRefused(reason, command_id=cid, name=name)
    return Envelope(cid, name, body)


def check_command(envelope: Envelope, *, now: datetime) -> Command:
    """Second stage: version, name, times, expiry, arguments."""
    cid, name, body = envelope.id, envelope.name, envelope.body
    if body.get("v", 1) != 1:
        raise CommandRefused(f"unsupported protocol version {body.get('v')!r}", command_id=cid)
    if name is None or name not in CATALOG:
        known = ", ".join(CATALOG)
        raise CommandRefused(f"unknown command {name!r} (known: {known})", command_id=cid)
    try:
        issued = parse_time(str(body.get("issued_at")))
        expires = parse_time(str(body.get("expires_at")))
    except ValueError:
        raise CommandRefused(
            "issued_at and expires_at must be ISO 8601 times", command_id=cid, name=name
        ) from None
    if expires <= now:
        raise CommandRefused(f"expired at {body['expires_at']}", command_id=cid, name=name)
    args = body.get("args", {})
    if not isinstance(args, dict):
        raise CommandRefused("args must be an object", command_id=cid, name=name)
    try:
        checked = CATALOG[name].check_args(args)
    except ValueError as exc:
        raise CommandRefused(str(exc), command_id=cid, name=name) from None
    return Command(cid, name, checked, issued, expires, body)


def new_command(
    name: str, args: Mapping[str, Any], *, ttl: float, command_id: str | None = None
) -> dict[str, Any]:
    """A command object as a TMS sends it (unsigned); used by ``posemu tms send``."""
    issued = utc_now()
    return {
        "v": 1,
        "id": command_id or new_id(),
        "name": name,
        "args": dict(args),
        "issued_at": format_time(issued),
        "expires_at": format_time(issued + timedelta(seconds=ttl)),
    }
