"""The receipt model: everything a printed slip may show, and nothing it must not.

A :class:`Receipt` is built from plain values (strings, ints, datetimes and the small enums
below) so that it does not depend on the transaction classes; whoever finishes a transaction
maps it onto a receipt. The model refuses what must never be printed: there is no field for the
card expiry, and a PAN that is not masked (more than 10 digits visible) is rejected.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import Enum
from typing import Any, Final

from terminal.core.errors import TerminalError

__all__ = [
    "MAX_AMOUNT_MINOR",
    "MAX_VISIBLE_PAN_DIGITS",
    "SCHEMA_VERSION",
    "Copy",
    "Currency",
    "EntryMode",
    "OriginalReference",
    "Outcome",
    "QrDetails",
    "Receipt",
    "ReceiptError",
    "ReceiptKind",
    "ReceiptResult",
    "check_masked_pan",
]

#: Version of the :meth:`Receipt.to_dict` layout; bump it when keys change.
SCHEMA_VERSION: Final = 1
#: ISO 8583 field 4 is n12, so no amount on a slip can exceed twelve digits.
MAX_AMOUNT_MINOR: Final = 999_999_999_999
#: PCI DSS allows first 6 + last 4 at most; more than that is a full PAN.
MAX_VISIBLE_PAN_DIGITS: Final = 10
_PAN_MASK_CHARS: Final = frozenset("*Xx#")


class ReceiptError(TerminalError, ValueError):
    """A receipt cannot be built, restored or rendered as asked.

    ``field`` names the offending receipt field (``"masked_pan"``, ``"result.response_code"``,
    ``"width"``...) when there is one. Messages never quote card data.
    """

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)


class ReceiptKind(Enum):
    """Transaction type printed on the slip; values are the stable journal keys."""

    SALE = "SALE"
    VOID = "VOID"
    REFUND = "REFUND"
    PREAUTH = "PREAUTH"
    COMPLETION = "COMPLETION"
    BALANCE = "BALANCE"
    QR_SALE = "QR_SALE"
    QR_VOID = "QR_VOID"
    QR_REFUND = "QR_REFUND"

    @property
    def label(self) -> str:
        """Heading printed for this transaction type."""
        return _KIND_LABELS[self]

    @property
    def is_qr(self) -> bool:
        """QR transactions carry no card data and never ask for a signature."""
        return self in {ReceiptKind.QR_SALE, ReceiptKind.QR_VOID, ReceiptKind.QR_REFUND}

    @property
    def is_credit(self) -> bool:
        """Money goes back to the cardholder, so the amount is printed negative."""
        return self in {
            ReceiptKind.VOID,
            ReceiptKind.REFUND,
            ReceiptKind.QR_VOID,
            ReceiptKind.QR_REFUND,
        }

    @property
    def refers_to_original(self) -> bool:
        """Only these types may print the original transaction's references."""
        return self.is_credit or self is ReceiptKind.COMPLETION

    @property
    def takes_signature(self) -> bool:
        """Card debits the cardholder authorises by signing when no PIN was entered."""
        return self in {ReceiptKind.SALE, ReceiptKind.PREAUTH, ReceiptKind.COMPLETION}

    @property
    def takes_tip(self) -> bool:
        """A tip can only be added to a purchase that settles."""
        return self in {ReceiptKind.SALE, ReceiptKind.COMPLETION, ReceiptKind.QR_SALE}


_KIND_LABELS: Final[Mapping[ReceiptKind, str]] = {
    ReceiptKind.SALE: "SALE",
    ReceiptKind.VOID: "VOID",
    ReceiptKind.REFUND: "REFUND",
    ReceiptKind.PREAUTH: "PRE-AUTH",
    ReceiptKind.COMPLETION: "AUTH COMPLETION",
    ReceiptKind.BALANCE: "BALANCE INQUIRY",
    ReceiptKind.QR_SALE: "QR SALE",
    ReceiptKind.QR_VOID: "QR VOID",
    ReceiptKind.QR_REFUND: "QR REFUND",
}


class Copy(Enum):
    """Which party keeps the slip; only the merchant copy carries the signature line."""

    MERCHANT = "MERCHANT"
    CUSTOMER = "CUSTOMER"

    @property
    def label(self) -> str:
        """Banner printed on the slip."""
        return f"{self.value} COPY"


class EntryMode(Enum):
    """How the card or wallet was read (cf. ISO 8583 field 22); value is the label."""

    SWIPE = "SWIPE"
    FALLBACK = "FALLBACK"
    CHIP = "CHIP"
    CONTACTLESS = "CONTACTLESS"
    QR = "QR"
    MANUAL = "MANUAL"

    @property
    def label(self) -> str:
        """Text printed after ``ENTRY``."""
        return self.value


class Outcome(Enum):
    """Host decision printed in bold under the amount."""

    APPROVED = "APPROVED"
    DECLINED = "DECLINED"


def _fail(what: str, reason: str) -> ReceiptError:
    return ReceiptError(reason, field=what)


def _check_int(what: str, value: object, *, low: int = 0, high: int = MAX_AMOUNT_MINOR) -> int:
    # bool is an int subclass; True must not be accepted as one minor unit.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(what, f"expected an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise _fail(what, f"{value} is outside {low}..{high}")
    return value


def _check_text(what: str, value: object, *, allow_empty: bool = False) -> str:
    """Reject control and format characters: they would break column measurement."""
    if not isinstance(value, str):
        raise _fail(what, f"expected a str, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise _fail(what, "must not be empty")
    for char in value:
        category = unicodedata.category(char)
        if category[0] == "C" or category in {"Zl", "Zp"}:
            raise _fail(what, f"non-printable character U+{ord(char):04X}")
    return value


def _check_ascii(what: str, value: object, *, max_len: int, alnum: bool) -> str:
    text = _check_text(what, value)
    if len(text) > max_len:
        raise _fail(what, f"longer than {max_len} characters")
    if not text.isascii() or (alnum and not text.isalnum()):
        raise _fail(what, "must be ASCII " + ("letters and digits" if alnum else "text"))
    return text


def _check_digits(what: str, value: object, *, max_len: int) -> str:
    text = _check_ascii(what, value, max_len=max_len, alnum=True)
    if not text.isdigit():
        raise _fail(what, "must be digits")
    return text


def _check_optional(what: str, value: object, check: Callable[[str, object], str]) -> str | None:
    return None if value is None else check(what, value)


def _check_lines(what: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _fail(what, "expected a sequence of lines")
    return tuple(_check_text(f"{what}[{i}]", line) for i, line in enumerate(value))


def _check_datetime(what: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise _fail(what, f"expected a datetime, got {type(value).__name__}")
    return value


def _is_ascii_of(text: str, length: int, test: Callable[[str], bool]) -> bool:
    return len(text) == length and text.isascii() and all(test(c) for c in text)


def check_masked_pan(value: object) -> str:
    """Accept only a masked PAN: digits and mask characters, at most 10 digits visible."""
    text = _check_ascii("masked_pan", value, max_len=23, alnum=False)
    compact = text.replace(" ", "")
    if any(not (c.isdigit() or c in _PAN_MASK_CHARS) for c in compact):
        raise _fail("masked_pan", "only digits, spaces and mask characters (* X #) allowed")
    visible = sum(c.isdigit() for c in compact)
    if visible > MAX_VISIBLE_PAN_DIGITS or visible == len(compact):
        raise _fail("masked_pan", "looks like a full PAN; pass a masked PAN")
    if not 8 <= len(compact) <= 19:
        raise _fail("masked_pan", "a PAN has 8 to 19 positions")
    return text


@dataclass(frozen=True)
class Currency:
    """ISO 4217 currency: numeric code for field 49, alpha code and exponent for the slip."""

    numeric: str
    alpha: str
    exponent: int = 2

    def __post_init__(self) -> None:
        numeric, alpha = self.numeric, self.alpha
        if not (isinstance(numeric, str) and _is_ascii_of(numeric, 3, str.isdigit)):
            raise _fail("currency.numeric", f"{numeric!r} is not three digits")
        if not (isinstance(alpha, str) and _is_ascii_of(alpha, 3, str.isupper)):
            raise _fail("currency.alpha", f"{alpha!r} is not three capital letters")
        _check_int("currency.exponent", self.exponent, high=3)

    @classmethod
    def lookup(cls, code: str | int) -> Currency:
        """Find a known currency by alpha (``"CNY"``) or numeric (``"156"``, ``156``) code."""
        key = f"{code:03d}" if isinstance(code, int) else str(code).strip().upper()
        try:
            return _CURRENCIES[key]
        except KeyError:
            raise _fail("currency", f"unknown currency code {code!r}") from None

    def format(self, minor: int, *, negative: bool = False) -> str:
        """Render minor units the way a slip shows them, e.g. ``CNY 12.34``."""
        _check_int("amount", minor)
        if self.exponent == 0:
            digits = str(minor)
        else:
            major, fraction = divmod(minor, 10**self.exponent)
            digits = f"{major}.{fraction:0{self.exponent}d}"
        return f"{self.alpha} {'-' if negative and minor else ''}{digits}"


_KNOWN = (
    Currency("156", "CNY"),
    Currency("344", "HKD"),
    Currency("446", "MOP"),
    Currency("392", "JPY", 0),
    Currency("410", "KRW", 0),
    Currency("702", "SGD"),
    Currency("826", "GBP"),
    Currency("840", "USD"),
    Currency("978", "EUR"),
    Currency("764", "THB"),
    Currency("116", "KHR"),
    Currency("458", "MYR"),
    Currency("360", "IDR"),
    Currency("608", "PHP"),
    Currency("704", "VND", 0),
    Currency("356", "INR"),
    Currency("036", "AUD"),
    Currency("124", "CAD"),
    Currency("756", "CHF"),
)
_CURRENCIES: Final[Mapping[str, Currency]] = {
    **{c.alpha: c for c in _KNOWN},
    **{c.numeric: c for c in _KNOWN},
}


@dataclass(frozen=True)
class ReceiptResult:
    """Host answer: outcome plus ISO 8583 field 39 response code and its text."""

    outcome: Outcome
    response_code: str = "00"
    message: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.outcome, Outcome):
            raise _fail("result.outcome", "expected an Outcome")
        code = _check_ascii("result.response_code", self.response_code, max_len=2, alnum=True)
        if len(code) != 2:
            raise _fail("result.response_code", "must be two characters")
        _check_text("result.message", self.message, allow_empty=True)

    @property
    def approved(self) -> bool:
        """True when the slip must say APPROVED."""
        return self.outcome is Outcome.APPROVED

    @classmethod
    def approve(cls, response_code: str = "00", message: str = "") -> ReceiptResult:
        """Approved by the host (``00`` unless the host says otherwise)."""
        return cls(Outcome.APPROVED, response_code, message)

    @classmethod
    def decline(cls, response_code: str, message: str = "") -> ReceiptResult:
        """Declined with the host's response code, e.g. ``51`` insufficient funds."""
        return cls(Outcome.DECLINED, response_code, message)


@dataclass(frozen=True)
class OriginalReference:
    """The transaction a void, refund or completion undoes or completes."""

    stan: str | None = None
    rrn: str | None = None
    auth_code: str | None = None

    def __post_init__(self) -> None:
        _check_optional("original.stan", self.stan, _stan_like)
        _check_optional("original.rrn", self.rrn, _rrn_like)
        _check_optional("original.auth_code", self.auth_code, _auth_like)
        if self.stan is None and self.rrn is None and self.auth_code is None:
            raise _fail("original", "needs at least one of stan, rrn, auth_code")


@dataclass(frozen=True)
class QrDetails:
    """Wallet or scheme that paid, and the wallet's order reference if any."""

    wallet: str
    order_ref: str | None = None

    def __post_init__(self) -> None:
        _check_text("qr.wallet", self.wallet)
        _check_optional("qr.order_ref", self.order_ref, _check_text)


def _stan_like(what: str, value: object) -> str:
    return _check_digits(what, value, max_len=6)


def _rrn_like(what: str, value: object) -> str:
    return _check_ascii(what, value, max_len=12, alnum=True)


def _auth_like(what: str, value: object) -> str:
    return _check_ascii(what, value, max_len=6, alnum=True)


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """One printable slip. Values are validated on construction; a bad one raises ReceiptError.

    A reprint (``duplicate=True``) keeps the original references, date and time and adds
    ``reprinted_at``; build it with :meth:`as_duplicate`.
    """

    merchant_name: str
    merchant_id: str
    terminal_id: str
    kind: ReceiptKind
    timestamp: datetime
    amount_minor: int
    currency: Currency
    result: ReceiptResult
    copy: Copy
    merchant_address: tuple[str, ...] = ()
    masked_pan: str | None = None
    card_brand: str | None = None
    entry_mode: EntryMode | None = None
    tip_minor: int | None = None
    auth_code: str | None = None
    rrn: str | None = None
    stan: str | None = None
    batch_no: str | None = None
    invoice_no: str | None = None
    pin_verified: bool = False
    original: OriginalReference | None = None
    qr: QrDetails | None = None
    footer: tuple[str, ...] = ()
    duplicate: bool = False
    reprinted_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "merchant_address", _check_lines("merchant_address", self.merchant_address)
        )
        object.__setattr__(self, "footer", _check_lines("footer", self.footer))
        self._check_values()
        self._check_consistency()

    def _check_values(self) -> None:
        _check_text("merchant_name", self.merchant_name)
        _check_ascii("merchant_id", self.merchant_id, max_len=15, alnum=False)
        _check_ascii("terminal_id", self.terminal_id, max_len=8, alnum=False)
        for name, enum_type in (("kind", ReceiptKind), ("copy", Copy)):
            if not isinstance(getattr(self, name), enum_type):
                raise _fail(name, f"expected a {enum_type.__name__}")
        if self.entry_mode is not None and not isinstance(self.entry_mode, EntryMode):
            raise _fail("entry_mode", "expected an EntryMode")
        if not isinstance(self.currency, Currency):
            raise _fail("currency", "expected a Currency")
        if not isinstance(self.result, ReceiptResult):
            raise _fail("result", "expected a ReceiptResult")
        for name, kind in (("original", OriginalReference), ("qr", QrDetails)):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), kind):
                raise _fail(name, f"expected a {kind.__name__}")
        _check_datetime("timestamp", self.timestamp)
        _check_int("amount_minor", self.amount_minor)
        if self.tip_minor is not None:
            _check_int("tip_minor", self.tip_minor)
            _check_int("total", self.total_minor)
        _check_optional("masked_pan", self.masked_pan, lambda _w, v: check_masked_pan(v))
        _check_optional("card_brand", self.card_brand, _check_text)
        _check_optional("auth_code", self.auth_code, _auth_like)
        _check_optional("rrn", self.rrn, _rrn_like)
        for name in ("stan", "batch_no", "invoice_no"):
            _check_optional(name, getattr(self, name), _stan_like)
        for name in ("pin_verified", "duplicate"):
            if not isinstance(getattr(self, name), bool):
                raise _fail(name, "expected a bool")

    def _check_consistency(self) -> None:
        qr_entry = self.entry_mode is EntryMode.QR
        if self.kind.is_qr and self.entry_mode not in (None, EntryMode.QR):
            raise _fail("entry_mode", f"{self.kind.label} needs QR entry")
        if self.qr is not None and not (self.kind.is_qr or qr_entry):
            raise _fail("qr", "QR details on a card transaction")
        if self.pin_verified and (self.kind.is_qr or qr_entry):
            raise _fail("pin_verified", "no PIN is entered for a QR payment")
        if self.original is not None and not self.kind.refers_to_original:
            raise _fail("original", f"{self.kind.label} has no original transaction")
        if self.tip_minor is not None and not self.kind.takes_tip:
            raise _fail("tip_minor", f"{self.kind.label} takes no tip")
        if self.duplicate != (self.reprinted_at is not None):
            raise _fail("reprinted_at", "a duplicate needs reprinted_at, an original must not")
        if self.reprinted_at is not None:
            reprinted = _check_datetime("reprinted_at", self.reprinted_at)
            if (reprinted.tzinfo is None) != (self.timestamp.tzinfo is None):
                raise _fail("reprinted_at", "mixes naive and timezone-aware times")
            if reprinted < self.timestamp:
                raise _fail("reprinted_at", "precedes the original transaction")

    @property
    def total_minor(self) -> int:
        """Amount plus tip: what the cardholder is charged."""
        return self.amount_minor + (self.tip_minor or 0)

    @property
    def needs_signature(self) -> bool:
        """Merchant copy of an approved card debit authorised without PIN."""
        return (
            self.copy is Copy.MERCHANT
            and self.result.approved
            and self.kind.takes_signature
            and not self.pin_verified
            and self.entry_mode is not EntryMode.QR
        )

    def as_duplicate(self, reprinted_at: datetime) -> Receipt:
        """The reprint of this slip: same references and original time, marked as a copy."""
        return replace(self, duplicate=True, reprinted_at=reprinted_at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the journal, with stable keys (see :data:`SCHEMA_VERSION`)."""
        original = self.original
        return {
            "schema": SCHEMA_VERSION,
            "kind": self.kind.value,
            "copy": self.copy.value,
            "duplicate": self.duplicate,
            "reprinted_at": _iso(self.reprinted_at),
            "merchant_name": self.merchant_name,
            "merchant_address": list(self.merchant_address),
            "merchant_id": self.merchant_id,
            "terminal_id": self.terminal_id,
            "timestamp": self.timestamp.isoformat(),
            "masked_pan": self.masked_pan,
            "card_brand": self.card_brand,
            "entry_mode": None if self.entry_mode is None else self.entry_mode.value,
            "amount_minor": self.amount_minor,
            "tip_minor": self.tip_minor,
            "currency": {
                "numeric": self.currency.numeric,
                "alpha": self.currency.alpha,
                "exponent": self.currency.exponent,
            },
            "auth_code": self.auth_code,
            "rrn": self.rrn,
            "stan": self.stan,
            "batch_no": self.batch_no,
            "invoice_no": self.invoice_no,
            "result": {
                "outcome": self.result.outcome.value,
                "response_code": self.result.response_code,
                "message": self.result.message,
            },
            "pin_verified": self.pin_verified,
            "original": None
            if original is None
            else {
                "stan": original.stan,
                "rrn": original.rrn,
                "auth_code": original.auth_code,
            },
            "qr": None
            if self.qr is None
            else {
                "wallet": self.qr.wallet,
                "order_ref": self.qr.order_ref,
            },
            "footer": list(self.footer),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Receipt:
        """Rebuild a receipt from :meth:`to_dict` output; unknown or missing keys are errors."""
        try:
            return _from_dict(data)
        except ReceiptError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReceiptError(f"invalid stored receipt ({type(exc).__name__})") from exc


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _exact_keys(what: str, data: object, keys: Iterable[str]) -> Mapping[str, Any]:
    # Strict on purpose: a stray key (say an expiry date) must not ride along silently.
    if not isinstance(data, Mapping):
        raise _fail(what, "expected an object")
    expected = set(keys)
    if set(data) != expected:
        extra, missing = sorted(set(data) - expected), sorted(expected - set(data))
        raise _fail(what, f"unexpected keys {extra}, missing keys {missing}")
    return data


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail("timestamp", "expected an ISO 8601 string")
    return datetime.fromisoformat(value)


#: to_dict() keys: the schema version plus one per field (a new field needs a new version).
_TOP_KEYS: Final = ("schema", *(f.name for f in fields(Receipt)))


def _from_dict(data: Mapping[str, Any]) -> Receipt:
    d = _exact_keys("receipt", data, _TOP_KEYS)
    if d["schema"] != SCHEMA_VERSION:
        raise _fail("schema", f"unsupported version {d['schema']!r}")
    cur = _exact_keys("currency", d["currency"], ("numeric", "alpha", "exponent"))
    res = _exact_keys("result", d["result"], ("outcome", "response_code", "message"))
    original = None
    if d["original"] is not None:
        orig = _exact_keys("original", d["original"], ("stan", "rrn", "auth_code"))
        original = OriginalReference(
            stan=orig["stan"], rrn=orig["rrn"], auth_code=orig["auth_code"]
        )
    qr = None
    if d["qr"] is not None:
        qr_data = _exact_keys("qr", d["qr"], ("wallet", "order_ref"))
        qr = QrDetails(wallet=qr_data["wallet"], order_ref=qr_data["order_ref"])
    timestamp = _parse_time(d["timestamp"])
    if timestamp is None:
        raise _fail("timestamp", "is required")
    return Receipt(
        merchant_name=d["merchant_name"],
        merchant_address=d["merchant_address"],
        merchant_id=d["merchant_id"],
        terminal_id=d["terminal_id"],
        kind=ReceiptKind(d["kind"]),
        timestamp=timestamp,
        masked_pan=d["masked_pan"],
        card_brand=d["card_brand"],
        entry_mode=None if d["entry_mode"] is None else EntryMode(d["entry_mode"]),
        amount_minor=d["amount_minor"],
        tip_minor=d["tip_minor"],
        currency=Currency(cur["numeric"], cur["alpha"], cur["exponent"]),
        auth_code=d["auth_code"],
        rrn=d["rrn"],
        stan=d["stan"],
        batch_no=d["batch_no"],
        invoice_no=d["invoice_no"],
        result=ReceiptResult(Outcome(res["outcome"]), res["response_code"], res["message"]),
        pin_verified=d["pin_verified"],
        original=original,
        qr=qr,
        footer=d["footer"],
        copy=Copy(d["copy"]),
        duplicate=d["duplicate"],
        reprinted_at=_parse_time(d["reprinted_at"]),
    )
