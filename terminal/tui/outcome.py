"""Pure translation from engine results and events to what the screens show.

Why apart: the wording of APPROVED/DECLINED, reversal notes and progress lines is app
logic, tested without a terminal; screens only lay these values out. Nothing here ever
sees a full PAN or a PIN: results and events carry masked PANs only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from iso8583.acquirer.model import TxnKind
from terminal.core.events import (
    Connecting,
    Event,
    LinkFailed,
    LinkState,
    QrPending,
    ReceiptReady,
    Received,
    ReversalDelivered,
    ReversalQueued,
    Sent,
    SignedOn,
    Waiting,
    link_state_of,
)
from terminal.core.journal import TxnState
from terminal.core.receipts import Currency, ReceiptError
from terminal.engine.cardinput import CardInput
from terminal.engine.results import TxnRef, TxnResult

__all__ = [
    "LinkState",
    "Operation",
    "Outcome",
    "Tone",
    "TxnDraft",
    "cancelled_outcome",
    "currency_of",
    "describe_event",
    "error_outcome",
    "format_money",
    "link_state_of",
    "outcome_from_result",
]


class Operation(StrEnum):
    """Everything the cashier can start; values are the command-palette/menu names."""

    SALE = "sale"
    VOID = "void"
    REFUND = "refund"
    PREAUTH = "preauth"
    COMPLETION = "completion"
    BALANCE = "balance"
    SETTLEMENT = "settlement"
    SIGNON = "signon"
    ECHO = "echo"
    QR_MPM = "qr-mpm"
    QR_CPM = "qr-cpm"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Operation.SALE: "Sale",
    Operation.VOID: "Void",
    Operation.REFUND: "Refund",
    Operation.PREAUTH: "Pre-authorisation",
    Operation.COMPLETION: "Completion",
    Operation.BALANCE: "Balance enquiry",
    Operation.SETTLEMENT: "Settlement",
    Operation.SIGNON: "Sign-on",
    Operation.ECHO: "Echo test",
    Operation.QR_MPM: "QR sale (customer scans)",
    Operation.QR_CPM: "QR sale (scan wallet code)",
}


class Tone(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class TxnDraft:
    """What the cashier has entered so far for one operation.

    Holds a :class:`CardInput` (full PAN in memory, masked in its repr) and the PIN only
    until the controller hands them to the engine; the PIN never appears in a repr.
    """

    op: Operation
    amount: int | None = None
    ref: TxnRef | None = None
    card: CardInput | None = None
    pin: str | None = field(default=None, repr=False)
    code: str | None = field(default=None, repr=False)  # a wallet payment code (QR CPM)

    @property
    def masked_pan(self) -> str:
        return self.card.masked_pan if self.card is not None else ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result screen's content: a title, its tone, detail rows, the receipt."""

    op: Operation
    title: str
    tone: Tone
    message: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    receipt_text: str = ""
    customer_receipt_text: str = ""
    journal_id: int | None = None
    reversal: str = ""
    result: TxnResult | None = None


def currency_of(numeric: str) -> Currency:
    """The ISO 4217 currency of the terminal (an "XXX" stand-in when unknown)."""
    try:
        return Currency.lookup(numeric)
    except ReceiptError:
        return Currency(numeric if len(numeric) == 3 and numeric.isdigit() else "000", "XXX")


def format_money(minor: int | None, currency: str = "156") -> str:
    """``1234`` -> ``CNY 12.34`` (the numeric code when the currency is unknown)."""
    if minor is None:
        return ""
    try:
        return Currency.lookup(currency).format(abs(minor), negative=minor < 0)
    except ReceiptError:
        return f"{currency} {minor}"


_CODE_TEXT = {
    "00": "Approved",
    "05": "Do not honour",
    "14": "Invalid card number",
    "43": "Stolen card, pick up",
    "51": "Insufficient funds",
    "54": "Expired card",
    "55": "Incorrect PIN",
    "91": "Issuer unavailable",
    "96": "System error",
}

_SUCCESS_TITLES = {
    Operation.SIGNON: "SIGNED ON",
    Operation.ECHO: "HOST OK",
    Operation.SETTLEMENT: "SETTLED",
    Operation.BALANCE: "BALANCE",
}


def _reversal_note(result: TxnResult) -> str:
    if result.state is TxnState.REVERSED:
        return "Reversal delivered: the host acknowledged it"
    if result.reversal_pending:
        return "Reversal queued: it is sent again before the next transaction"
    return ""


def _rows(result: TxnResult) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if result.amount is not None and result.kind is not TxnKind.BALANCE:
        rows.append(("Amount", format_money(result.amount, result.currency)))
    if result.balance is not None:
        rows.append(("Balance", format_money(result.balance, result.currency)))
    if result.masked_pan:
        rows.append(("Card", result.masked_pan))
    if result.auth_code:
        rows.append(("Auth code", result.auth_code))
    if result.response_code:
        rows.append(("Response", result.response_code))
    if result.stan:
        rows.append(("STAN", result.stan))
    if result.rrn:
        rows.append(("RRN", result.rrn))
    if result.order_ref:
        rows.append(("Order", result.order_ref))
    if result.batch:
        rows.append(("Batch", result.batch))
    if result.totals is not None:
        t, cur = result.totals, result.currency
        rows.append(("Debits", f"{t.debit_count} / {format_money(t.debit_amount, cur)}"))
        rows.append(("Credits", f"{t.credit_count} / {format_money(t.credit_amount, cur)}"))
    if result.uploaded:
        rows.append(("Uploaded", str(result.uploaded)))
    return rows


def outcome_from_result(op: Operation, result: TxnResult) -> Outcome:
    """APPROVED with its auth code, DECLINED with code and text, or what went wrong."""
    reversal = _reversal_note(result)
    text = result.response_text or _CODE_TEXT.get(result.response_code, "")
    if result.error:
        title = "REVERSED" if result.state is TxnState.REVERSED else "NO ANSWER"
        if result.state is TxnState.TIMED_OUT:
            title = "TIMED OUT"
        tone, message = Tone.WARNING, result.error
    elif result.approved:
        title = _SUCCESS_TITLES.get(op, "APPROVED")
        tone = Tone.SUCCESS
        message = f"Auth code {result.auth_code}" if result.auth_code else text
        if result.balance is not None:
            message = f"Available {format_money(result.balance, result.currency)}"
    else:
        title, tone = "DECLINED", Tone.FAILURE
        message = f"{result.response_code} {text}".strip()
    return Outcome(
        op=op,
        title=title,
        tone=tone,
        message=message,
        rows=tuple(_rows(result)),
        receipt_text=result.receipt_text,
        customer_receipt_text=result.customer_receipt_text,
        journal_id=result.journal_id,
        reversal=reversal,
        result=result,
    )


def error_outcome(op: Operation, error: BaseException) -> Outcome:
    """An operation that raised instead of returning (refused input, host unreachable)."""
    text = str(error) or type(error).__name__
    return Outcome(op=op, title="NOT DONE", tone=Tone.FAILURE, message=text)


#: Why an operation was cancelled, as the result screen says it.
BY_CASHIER = "Cancelled by the cashier"
WALKED_AWAY = "The customer walked away: the QR order is cancelled"


def cancelled_outcome(op: Operation, reversal: str = "", message: str = BY_CASHIER) -> Outcome:
    """Cancelled while the host was being asked; ``reversal`` says what followed."""
    return Outcome(op=op, title="CANCELLED", tone=Tone.WARNING, message=message, reversal=reversal)


def describe_event(event: Event) -> str:
    """One progress line for the processing screen (masked data only, never keys)."""
    match event:
        case Connecting(endpoint=endpoint):
            return f"Connecting to {endpoint}"
        case LinkFailed(reason=reason):
            return f"Link failed: {reason}"
        case Sent(kind=kind, stan=stan, mti=mti):
            return f"Sent {mti} {kind.value} (STAN {stan})"
        case Waiting(timeout=timeout):
            return f"Waiting for the host (up to {timeout:g} s)"
        case Received(response_code=code, stan=stan):
            return f"Received answer {code} (STAN {stan})"
        case ReversalQueued(stan=stan, reason=reason):
            return f"Reversal queued for STAN {stan}: {reason}"
        case ReversalDelivered(stan=stan, response_code=code):
            return f"Reversal delivered for STAN {stan} (answer {code})"
        case SignedOn(pin_kcv=pin_kcv, mac_kcv=mac_kcv):
            return f"Signed on: PIN key KCV {pin_kcv}, MAC key KCV {mac_kcv}"
        case QrPending(elapsed=elapsed):
            return f"Waiting for the customer to pay ({elapsed:.0f} s)"
        case ReceiptReady(copy=copy):
            return f"Receipt ready ({copy} copy)"
    return type(event).__name__
