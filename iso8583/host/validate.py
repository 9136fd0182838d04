"""What a strict acquirer checks before it decides anything: mandatory fields and formats.

The reference host is a test instrument: a request that a real acquirer would bounce must be
bounced here too, or terminal bugs go unnoticed. :func:`check_request` raises
:class:`~iso8583.errors.DecodeError` naming the field, which the engine answers with ``30``
(format error) and logs. The tables below are the contract docs/host-protocol.md documents
(a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from iso8583.acquirer.model import TxnKind
from iso8583.acquirer.profiles import CupProfile, Iso93Profile, Profile
from iso8583.errors import DecodeError
from iso8583.host.rules import _track2_parts
from iso8583.message import Message

__all__ = ["PROCESSING_CODES", "REQUIRED", "check_request", "dialect_fields"]

#: Logical items every request of a kind must carry (beyond STAN, time and TID, which all need).
#: ``card`` is field 2, 35 or 55; ``original`` the dialect's original-data field or an RRN.
REQUIRED: Mapping[TxnKind, tuple[str, ...]] = {
    TxnKind.SIGNON: ("network",),
    TxnKind.ECHO: ("network",),
    TxnKind.SALE: ("pc", "amount", "currency", "entry", "merchant", "batch", "card"),
    TxnKind.PREAUTH: ("pc", "amount", "currency", "entry", "merchant", "batch", "card"),
    TxnKind.BALANCE: ("pc", "entry", "merchant", "batch", "card"),
    TxnKind.VOID: ("pc", "merchant", "batch", "original"),
    TxnKind.REFUND: ("pc", "amount", "currency", "merchant", "batch"),
    TxnKind.COMPLETION: ("pc", "amount", "currency", "merchant", "batch", "original"),
    TxnKind.QR_ORDER: ("pc", "amount", "currency", "merchant", "batch", "qr"),
    TxnKind.QR_PAY: ("pc", "amount", "currency", "merchant", "batch", "qr"),
    TxnKind.QR_QUERY: ("pc", "merchant", "batch", "qr"),
    TxnKind.QR_SIMULATE: ("pc", "qr"),
    TxnKind.REVERSAL: ("pc", "merchant", "batch"),
    TxnKind.SETTLEMENT: ("network", "merchant", "batch", "totals"),
    TxnKind.BATCH_UPLOAD: ("pc", "amount", "merchant", "batch"),
}

#: Processing codes (first two digits of field 3) each message class accepts.
PROCESSING_CODES: Mapping[str, frozenset[str]] = {
    "020": frozenset({"00", "02"}),
    "010": frozenset({"03", "31", "33"}),
    "022": frozenset({"00", "20"}),
    "060": frozenset({"99"}),
    "040": frozenset({"00", "02", "03", "20"}),
    "032": frozenset({"00", "02", "03", "20"}),
}


def dialect_fields(profile: Profile) -> dict[str, str]:
    """Where each logical item sits in the profile's dialect (for messages and the docs)."""
    if isinstance(profile, Iso93Profile):
        return {
            "network": "24",
            "batch": "60",
            "original": "56",
            "time": "12",
            "totals": "74, 76, 86, 88",
            "entry": "22",
        }
    if isinstance(profile, CupProfile):
        return {
            "network": "60.3",
            "batch": "60.2",
            "original": "61",
            "time": "12, 13",
            "totals": "48",
            "entry": "22",
        }
    return {
        "network": "70",
        "batch": "60",
        "original": "90",
        "time": "12, 13",
        "totals": "74, 76, 86, 88",
        "entry": "22",
    }


def _bad(field: str, reason: str) -> DecodeError:
    return DecodeError(reason, field=field)


def _digits(msg: Message, n: int, width: int, what: str) -> str:
    value = msg.fields.get(n)
    if value is None:
        raise _bad(str(n), f"{what} is missing")
    if not isinstance(value, str) or len(value) != width or not value.isdigit():
        raise _bad(str(n), f"{what} must be {width} digits")
    return value


def _text(msg: Message, n: int, width: int, what: str) -> str:
    value = msg.fields.get(n)
    if value is None:
        raise _bad(str(n), f"{what} is missing")
    if not isinstance(value, str) or len(value) != width or not value.strip():
        raise _bad(str(n), f"{what} must be {width} characters, not blank")
    return value


def _check_time(msg: Message, profile: Profile) -> None:
    if isinstance(profile, Iso93Profile):
        value = _digits(msg, 12, 12, "local date and time (YYMMDDhhmmss)")[2:]
        field = "12"
    else:
        hhmmss = _digits(msg, 12, 6, "local time (hhmmss)")
        value = _digits(msg, 13, 4, "local date (MMDD)") + hhmmss
        field = "12/13"
    month, day, hour, minute, second = (int(value[i : i + 2]) for i in range(0, 10, 2))
    try:
        datetime(2000, month, day, hour, minute, second)  # 2000 is a leap year: 0229 is fine
    except ValueError:
        raise _bad(field, f"local date/time {value} is not a valid date and time") from None


def _batch(msg: Message, profile: Profile, where: str) -> None:
    value = profile._batch(msg)
    if not value:
        raise _bad(where, "batch number is missing")
    if len(value) != 6 or not value.isdigit():
        raise _bad(where, "batch number must be 6 digits")


def check_request(msg: Message, kind: TxnKind, profile: Profile) -> None:
    """Raise DecodeError (field named) unless ``msg`` carries what a ``kind`` request needs."""
    where = dialect_fields(profile)
    _digits(msg, 11, 6, "STAN")
    _text(msg, 41, 8, "terminal ID")
    _check_time(msg, profile)
    mti = profile._base_mti(msg.mti)
    f = msg.fields
    for item in REQUIRED[kind]:
        if item == "pc":
            pc = _digits(msg, 3, 6, "processing code")
            allowed = PROCESSING_CODES.get(mti[:3], frozenset())
            if pc[:2] not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise _bad("3", f"processing code {pc} is not accepted in {msg.mti} ({known})")
        elif item == "amount":
            _digits(msg, 4, 12, "amount")
        elif item == "currency":
            _digits(msg, 49, 3, "currency code")
        elif item == "merchant":
            _text(msg, 42, 15, "merchant ID")
        elif item == "entry":
            value = f.get(22)
            if not isinstance(value, str) or len(value) < 3 or not value[:3].isdigit():
                raise _bad("22", "POS entry mode is missing or not 3 digits")
        elif item == "batch":
            _batch(msg, profile, where["batch"])
        elif item == "network":
            if not profile._network_code(msg):
                raise _bad(where["network"], "network management code is missing or unknown")
        elif item == "card":
            if not any(n in f for n in (2, 35, 55)):
                raise _bad("2/35/55", "card data (PAN, track 2 or chip data) is missing")
        elif item == "original":
            field = where["original"]
            if field.split(".")[0] not in {str(n) for n in f} and 37 not in f and 38 not in f:
                raise _bad(f"{field}/37", "no reference to the original transaction")
        elif item == "qr":
            value = f.get(59)
            if not isinstance(value, str) or ":" not in value or not value.split(":", 1)[1]:
                raise _bad("59", "QR data (PREFIX:value) is missing")
        elif item == "totals":
            for n in where["totals"].replace(",", " ").split():
                if int(n) not in f:
                    raise _bad(n, "settlement totals are missing")
    _check_pans_agree(f)


def _check_pans_agree(f: Mapping[int, object]) -> None:
    """Field 2, track 2 and chip tag 5A name one card: else a stale or forged field rides along
    (a blocked card's track behind a good field 2 would otherwise pass the card checks)."""
    pans: list[tuple[str, str]] = []
    if isinstance(f.get(2), str) and f[2]:
        pans.append(("2", str(f[2])))
    track = f.get(35)
    if isinstance(track, str) and track:
        pans.append(("35", _track2_parts(track)[0]))
    icc = f.get(55)
    chip = icc.get("5A") if isinstance(icc, Mapping) else None
    if isinstance(chip, bytes):
        chip = chip.hex()
    if isinstance(chip, str) and chip:
        pans.append(("55", chip.upper().rstrip("F")))
    for field, pan in pans[1:]:
        if pan != pans[0][1]:
            what = "tag 5A" if field == "55" else "track 2"
            raise _bad(field, f"the PAN in {what} is not the card of field {pans[0][0]}")
