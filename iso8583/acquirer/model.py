"""The acquirer protocol in logical terms, independent of any dialect's field layout.

Both sides use these: the terminal builds a :class:`Request` and reads a :class:`Response`; the
host simulator does the reverse. ``iso8583.acquirer.profiles`` maps them to and from the fields
of each built-in dialect, so a new dialect only needs a new profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Original", "Request", "Response", "SessionKeys", "Totals", "TxnKind"]


class TxnKind(StrEnum):
    """What a message asks for. Names match the terminal's menu and the CLI verbs."""

    SIGNON = "signon"
    ECHO = "echo"
    SALE = "sale"
    VOID = "void"
    REFUND = "refund"
    PREAUTH = "preauth"
    COMPLETION = "completion"
    BALANCE = "balance"
    REVERSAL = "reversal"
    SETTLEMENT = "settlement"
    BATCH_UPLOAD = "batch-upload"
    QR_ORDER = "qr-order"  # merchant-presented QR: the order the customer will pay
    QR_QUERY = "qr-query"  # merchant-presented QR: has the customer paid yet?
    QR_PAY = "qr-pay"  # consumer-presented: the customer's payment code
    QR_SIMULATE = "qr-simulate"  # test hook: the customer pays / declines an MPM order

    @property
    def financial(self) -> bool:
        """Moves money: MAC'd, counted in settlement, reversed when unanswered."""
        return self in _FINANCIAL

    @property
    def reversible(self) -> bool:
        return self in _REVERSIBLE



_FINANCIAL = frozenset(
    {
        TxnKind.SALE,
        TxnKind.VOID,
        TxnKind.REFUND,
        TxnKind.PREAUTH,
        TxnKind.COMPLETION,
        TxnKind.QR_PAY,
        TxnKind.QR_ORDER,
    }
)
_REVERSIBLE = frozenset(
    {
        TxnKind.SALE,
        TxnKind.VOID,
        TxnKind.PREAUTH,
        TxnKind.COMPLETION,
        TxnKind.QR_PAY,
        TxnKind.REFUND,
        TxnKind.QR_ORDER,
    }
)


@dataclass(frozen=True, slots=True)
class Original:
    """The transaction a void, refund, completion or reversal refers to."""

    kind: TxnKind
    stan: str
    local_time: datetime
    rrn: str = ""
    auth_code: str = ""
    amount: int = 0
    batch: str = ""


@dataclass(frozen=True, slots=True)
class Totals:
    """Settlement totals of a batch: debits (sales, completions) and credits (refunds)."""

    debit_count: int = 0
    debit_amount: int = 0
    credit_count: int = 0
    credit_amount: int = 0


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """Working keys delivered at sign-on, each encrypted under the terminal master key."""

    pin_key: bytes  # encrypted
    pin_kcv: bytes
    mac_key: bytes  # encrypted
    mac_kcv: bytes


@dataclass(frozen=True, slots=True)
class Request:
    kind: TxnKind
    stan: str
    local_time: datetime
    terminal_id: str
    merchant_id: str
    amount: int | None = None  # minor units
    currency: str = "156"
    pan: str | None = None
    expiry: str | None = None  # YYMM
    track2: str | None = None  # field 35 form, never stored after authorisation
    entry_mode: str = "000"
    pin_block: bytes | None = None
    icc: dict[str, Any] | None = None
    batch: str = "000001"
    original: Original | None = None
    qr: str | None = None  # order reference (MPM) or payment code (CPM)
    totals: Totals | None = None
    after_upload: bool = False  # the second settlement request, after a batch upload
    repeat: bool = False  # 0401-style repeat of a reversal or advice
    merchant_name: str = ""

    def __repr__(self) -> str:  # never leak PAN, track or PIN block into logs
        return f"Request(kind={self.kind.value}, stan={self.stan}, amount={self.amount})"


@dataclass(frozen=True, slots=True)
class Response:
    kind: TxnKind
    stan: str
    response_code: str
    auth_code: str = ""
    rrn: str = ""
    balance: int | None = None
    keys: SessionKeys | None = None
    host_time: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def approved(self) -> bool:
        return self.response_code == "00"
