"""The host simulator's decision rules: which test input earns which answer.

A tester drives the simulator with the amount and the test card, as with a real acquirer's
test host: the cents of the amount pick a response code (``x.51`` -> 51), some PANs are on a
blocked or decline list, expired and Luhn-invalid cards are refused, PIN cards need the test
PIN. Everything here is pure (no I/O besides :func:`load_rules` reading its file) so the
engine and the tests can ask "what would the host say" without a socket.

Default PAN lists are the ``visa-blocked`` and ``visa-decline`` cards of the terminal's test
catalogue (``terminal.core.testcards``); they are repeated here, not imported, so that the
ISO 8583 toolkit never depends on the terminal package (a test keeps the two in step).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from iso8583.acquirer.model import Request, TxnKind
from iso8583.masking import luhn_ok

__all__ = [
    "CENTS_KINDS",
    "DEFAULT_BLOCKED_PANS",
    "DEFAULT_CENTS",
    "DEFAULT_DECLINE_PANS",
    "OVERRIDABLE_KINDS",
    "PIN_SERVICE_DIGITS",
    "TEST_PIN",
    "CardData",
    "Decision",
    "HostError",
    "Rules",
    "RulesError",
    "Timing",
    "amount_decision",
    "card_data",
    "card_decision",
    "default_rules",
    "load_rules",
    "override_decision",
    "pin_required",
    "rules_from_mapping",
]

TEST_PIN = "1234"
DEFAULT_BLOCKED_PANS = frozenset({"4000000000009979"})  # visa-blocked -> 43
DEFAULT_DECLINE_PANS = frozenset({"4000000000000002"})  # visa-decline -> 05

#: ISO/IEC 7813 service code, 3rd digit: 0 (no restrictions, PIN required), 3 (ATM only,
#: PIN required), 5 (goods and services only, PIN required) make the host insist on a PIN.
PIN_SERVICE_DIGITS = frozenset("035")

#: Kinds whose amount goes through the cents table.
CENTS_KINDS = frozenset(
    {TxnKind.SALE, TxnKind.PREAUTH, TxnKind.REFUND, TxnKind.QR_PAY, TxnKind.QR_ORDER}
)

#: Kinds a rules file may pin to one answer with ``[kinds]``.
OVERRIDABLE_KINDS = frozenset(
    {
        TxnKind.SALE,
        TxnKind.PREAUTH,
        TxnKind.REFUND,
        TxnKind.VOID,
        TxnKind.COMPLETION,
        TxnKind.BALANCE,
        TxnKind.QR_PAY,
        TxnKind.QR_ORDER,
    }
)


class HostError(Exception):
    """Base of the host simulator's own errors (configuration, lifecycle)."""


class RulesError(HostError):
    """A rules file (or mapping) is invalid; names the source and the offending key."""

    def __init__(self, source: str, reason: str, *, key: str | None = None) -> None:
        self.source = source
        self.key = key
        self.reason = reason
        where = f"{source}: key {key!r}" if key else source
        super().__init__(f"{where}: {reason}")


class Timing(StrEnum):
    """When the answer leaves the host."""

    NOW = "now"
    LATE = "late"  # after Rules.late_delay seconds: the terminal should time out and reverse
    SILENT = "silent"  # never: the connection stays open, no reply


@dataclass(frozen=True, slots=True)
class Decision:
    code: str
    timing: Timing = Timing.NOW


_APPROVE = Decision("00")

DEFAULT_CENTS: Mapping[str, str] = MappingProxyType(
    {
        "05": "05",
        "14": "14",
        "51": "51",
        "54": "54",
        "55": "55",
        "91": "91",
        "68": Timing.LATE.value,
        "99": Timing.SILENT.value,
    }
)


@dataclass(frozen=True)
class Rules:
    """Everything a tester can change; see docs/host.md for the meaning of each item."""

    pin: str = TEST_PIN
    blocked_pans: frozenset[str] = DEFAULT_BLOCKED_PANS
    decline_pans: frozenset[str] = DEFAULT_DECLINE_PANS
    cents: Mapping[str, str] = field(default_factory=lambda: DEFAULT_CENTS)
    late_delay: float = 30.0
    approve_all: bool = False
    kinds: Mapping[TxnKind, str] = field(default_factory=lambda: MappingProxyType({}))
    mpm_pay_delay: float = 2.0
    balance: int = 100_000


def default_rules() -> Rules:
    return Rules()


# --- decisions ---------------------------------------------------------------------------------


def _action(value: str) -> Decision:
    if value == Timing.LATE.value:
        return Decision("00", Timing.LATE)
    if value == Timing.SILENT.value:
        return Decision("00", Timing.SILENT)
    return Decision(value)


_CENTS_KEYS = tuple(f"{cents:02d}" for cents in range(100))


def amount_decision(amount: int | None, rules: Rules) -> Decision:
    """The cents rule: the last two digits of the amount pick the answer; others approve."""
    if amount is None or rules.approve_all:
        return _APPROVE
    value = rules.cents.get(_CENTS_KEYS[amount % 100])
    return _action(value) if value is not None else _APPROVE


def override_decision(kind: TxnKind, rules: Rules) -> Decision | None:
    """A ``[kinds]`` override answers the kind outright (after MAC and duplicate checks)."""
    value = rules.kinds.get(kind)
    return _action(value) if value is not None else None


@dataclass(frozen=True, slots=True, repr=False)
class CardData:
    """What the host can learn about the card from one request; never stored or logged."""

    pan: str | None
    expiry: str | None  # YYMM
    service_code: str | None

    def __repr__(self) -> str:
        return f"CardData(expiry={self.expiry!r}, service_code={self.service_code!r})"


def _track2_parts(track2: str) -> tuple[str, str | None, str | None]:
    """PAN, YYMM and service code of field 35 (``=`` or ``D`` separator, sentinels allowed)."""
    body = track2.strip().lstrip(";").split("?", 1)[0]
    for sep in ("=", "D", "d"):
        if sep in body:
            pan, rest = body.split(sep, 1)
            expiry = rest[:4] if len(rest) >= 4 else None
            service = rest[4:7] if len(rest) >= 7 else None
            return pan, expiry, service
    return body, None, None


def card_data(req: Request) -> CardData | None:
    """PAN, expiry and service code from field 2/14, track 2 or the chip data (5A, 5F24)."""
    pan = req.pan if isinstance(req.pan, str) and req.pan else None
    expiry = req.expiry if isinstance(req.expiry, str) and req.expiry else None
    service = None
    if isinstance(req.track2, str) and req.track2:
        t_pan, t_expiry, service = _track2_parts(req.track2)
        pan = pan or t_pan or None
        expiry = expiry or t_expiry
    icc = req.icc if isinstance(req.icc, dict) else {}
    chip_pan = icc.get("5A")
    if pan is None and isinstance(chip_pan, str) and chip_pan:
        pan = chip_pan.upper().rstrip("F") or None
    chip_expiry = icc.get("5F24")
    if expiry is None and isinstance(chip_expiry, str) and len(chip_expiry) >= 4:
        expiry = chip_expiry[:4]
    chip_service = icc.get("5F30")
    if service is None and isinstance(chip_service, str) and len(chip_service) == 4:
        service = chip_service[1:]
    if pan is None and expiry is None:
        return None
    return CardData(pan, expiry, service)


def _expired(expiry: str | None, now: datetime) -> bool:
    """A card is good to the end of its expiry month; a malformed expiry counts as expired."""
    if expiry is None:
        return False
    if len(expiry) != 4 or not expiry.isdigit() or not 1 <= int(expiry[2:]) <= 12:
        return True
    return int(expiry) < (now.year % 100) * 100 + now.month  # YYMM of now, as a number


def card_decision(card: CardData, now: datetime, rules: Rules) -> str | None:
    """Card validity in the documented order: Luhn 14, blocked 43, expired 54, decline 05."""
    pan = card.pan or ""
    if not (pan.isdigit() and 12 <= len(pan) <= 19 and luhn_ok(pan)):
        return "14"
    if pan in rules.blocked_pans:
        return "43"
    if _expired(card.expiry, now):
        return "54"
    if pan in rules.decline_pans:
        return "05"
    return None


def pin_required(card: CardData) -> bool:
    """ISO/IEC 7813 service code, 3rd digit 0, 3 or 5: online PIN required."""
    sc = card.service_code
    return sc is not None and len(sc) == 3 and sc[2] in PIN_SERVICE_DIGITS


# --- loading -----------------------------------------------------------------------------------

_KNOWN_KEYS = (
    "pin",
    "blocked_pans",
    "decline_pans",
    "cents",
    "late_delay",
    "approve_all",
    "kinds",
    "mpm_pay_delay",
    "balance",
)


def _code_or_action(source: str, key: str, value: Any) -> str:
    if value in (Timing.LATE.value, Timing.SILENT.value):
        return str(value)
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalnum():
        return value.upper()
    raise RulesError(
        source, f"must be a 2-character response code, 'late' or 'silent', got {value!r}", key=key
    )


def _number(source: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RulesError(
            source, f"must be a non-negative number of seconds, got {value!r}", key=key
        )
    return float(value)


def _pans(source: str, key: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(
        isinstance(p, str) and p.isdigit() and 12 <= len(p) <= 19 for p in value
    ):
        raise RulesError(source, "must be a list of 12-19 digit PAN strings", key=key)
    return frozenset(value)


def _cents(source: str, value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise RulesError(
            source, 'must be a table such as {"51" = "51", "68" = "late"}', key="cents"
        )
    table = dict(DEFAULT_CENTS)
    for cents, action in value.items():
        key = f"cents.{cents}"
        if not (isinstance(cents, str) and len(cents) == 2 and cents.isdigit()):
            raise RulesError(source, "cents must be two digits, 00 to 99", key=key)
        table[cents] = _code_or_action(source, key, action)
    return MappingProxyType(table)


def _kinds(source: str, value: Any) -> Mapping[TxnKind, str]:
    if not isinstance(value, dict):
        raise RulesError(source, 'must be a table such as {refund = "00"}', key="kinds")
    table: dict[TxnKind, str] = {}
    names = ", ".join(sorted(k.value for k in OVERRIDABLE_KINDS))
    for name, action in value.items():
        key = f"kinds.{name}"
        try:
            kind = TxnKind(name)
        except ValueError:
            kind = None
        if kind not in OVERRIDABLE_KINDS:
            raise RulesError(source, f"unknown kind; one of {names}", key=key)
        table[kind] = _code_or_action(source, key, action)
    return MappingProxyType(table)


def rules_from_mapping(data: Mapping[str, Any], *, source: str = "rules") -> Rules:
    """Defaults overridden by ``data``; the cents table is merged, PAN lists are replaced."""
    if not isinstance(data, Mapping):
        raise RulesError(source, "must be a table of settings")
    for key in data:
        if key not in _KNOWN_KEYS:
            raise RulesError(source, f"unknown key; known: {', '.join(_KNOWN_KEYS)}", key=key)
    changes: dict[str, Any] = {}
    if "pin" in data:
        pin = data["pin"]
        if not (isinstance(pin, str) and pin.isdigit() and 4 <= len(pin) <= 12):
            raise RulesError(source, "must be a string of 4 to 12 digits", key="pin")
        changes["pin"] = pin
    for key in ("blocked_pans", "decline_pans"):
        if key in data:
            changes[key] = _pans(source, key, data[key])
    if "cents" in data:
        changes["cents"] = _cents(source, data["cents"])
    for key in ("late_delay", "mpm_pay_delay"):
        if key in data:
            changes[key] = _number(source, key, data[key])
    if "approve_all" in data:
        if not isinstance(data["approve_all"], bool):
            raise RulesError(source, "must be true or false", key="approve_all")
        changes["approve_all"] = data["approve_all"]
    if "kinds" in data:
        changes["kinds"] = _kinds(source, data["kinds"])
    if "balance" in data:
        balance = data["balance"]
        if isinstance(balance, bool) or not isinstance(balance, int) or balance < 0:
            raise RulesError(source, "must be a non-negative amount in minor units", key="balance")
        changes["balance"] = balance
    return Rules(**changes)


def load_rules(path: str | Path) -> Rules:
    """Read a ``.toml`` or ``.json`` rules file; every problem is one :class:`RulesError`."""
    p = Path(path)
    source = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(source, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RulesError(source, "cannot read: not UTF-8 text") from None
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RulesError(source, f"not valid JSON: {exc}") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RulesError(source, f"not valid TOML: {exc}") from None
    return rules_from_mapping(data, source=source)
