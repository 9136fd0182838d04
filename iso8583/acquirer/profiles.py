"""Where each logical item of the acquirer protocol sits in each dialect.

The core fields are common (2 PAN, 3 processing code, 4 amount, 11 STAN, 12/13 local time,
14 expiry, 22 entry mode, 35 track 2, 37 RRN, 38 auth code, 39 response, 41 TID, 42 MID,
49 currency, 52 PIN block, 54 balance, 55 EMV, 59 QR data, 64/128 MAC); the dialects differ in
the rest:

================  =====================  =======================  =========================
item              iso87ascii/binary      iso93ascii               cup
================  =====================  =======================  =========================
MTI               0xxx                   1xxx (0400 -> 1420 ...)  0xxx
network code      70                     24 (function code)       60.3
batch number      60                     60                       60.2
original data     90 (MTI STAN time)     56 (MTI STAN time)       61 (batch STAN MMDD)
settle totals     74 76 86 88            74 76 86 88              48
working keys      62 (hex text)          96 (binary)              62 (binary)
response code     39 (2 chars)           39 (3-digit action)      39 (2 chars)
================  =====================  =======================  =========================

Message classes: sign-on and echo 0800; sale, void, QR order and QR payment 0200; preauth,
balance and QR status query 0100; refund and completion 0220; reversal 0400 (0401 repeated);
settlement 0500; batch upload 0320; the MPM test hook 0600. Processing codes: 00 purchase,
02 void, 20 refund, 03 preauth, 31 balance, 33 QR status, 99 test hook.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from iso8583.acquirer.model import Original, Request, Response, SessionKeys, Totals, TxnKind
from iso8583.errors import DecodeError
from iso8583.message import Message
from iso8583.spec import Positional, Spec

__all__ = ["CupProfile", "Iso87Profile", "Iso93Profile", "Profile", "profile_for"]

KEY_BLOCK_SIZE = 38  # PIN key 16 + KCV 3 + MAC key 16 + KCV 3
_HALF_YEAR = timedelta(days=182)

_REQUEST_MTI = {
    TxnKind.SIGNON: "0800",
    TxnKind.ECHO: "0800",
    TxnKind.SALE: "0200",
    TxnKind.VOID: "0200",
    TxnKind.QR_ORDER: "0200",
    TxnKind.QR_PAY: "0200",
    TxnKind.PREAUTH: "0100",
    TxnKind.BALANCE: "0100",
    TxnKind.QR_QUERY: "0100",
    TxnKind.REFUND: "0220",
    TxnKind.COMPLETION: "0220",
    TxnKind.REVERSAL: "0400",
    TxnKind.SETTLEMENT: "0500",
    TxnKind.BATCH_UPLOAD: "0320",
    TxnKind.QR_SIMULATE: "0600",
}
_PROCESSING = {
    TxnKind.SALE: "000000",
    TxnKind.QR_ORDER: "000000",
    TxnKind.QR_PAY: "000000",
    TxnKind.COMPLETION: "000000",
    TxnKind.VOID: "020000",
    TxnKind.REFUND: "200000",
    TxnKind.PREAUTH: "030000",
    TxnKind.BALANCE: "310000",
    TxnKind.QR_QUERY: "330000",
    TxnKind.QR_SIMULATE: "990000",
}
_NETWORK_CODE = {TxnKind.SIGNON: "001", TxnKind.ECHO: "301", TxnKind.SETTLEMENT: "201"}
_QR_PREFIX = {
    TxnKind.QR_ORDER: "MPM:",
    TxnKind.QR_PAY: "CPM:",
    TxnKind.QR_QUERY: "QRQ:",
    TxnKind.QR_SIMULATE: "SIM:",
}


def _combine(mmdd: str, hhmmss: str, now: datetime) -> datetime:
    """Rebuild a local date-time from MMDD + hhmmss, choosing the year nearest to ``now``."""
    try:
        same_year = datetime(
            now.year,
            int(mmdd[:2]),
            int(mmdd[2:4]),
            int(hhmmss[:2]),
            int(hhmmss[2:4]),
            int(hhmmss[4:6]),
        )
    except ValueError:
        pass
    else:
        # The same date in the year before or after is 365 or 366 days from this one, so it
        # is strictly farther from now than this one is when this one is within half a year.
        if abs(same_year - now) < _HALF_YEAR:
            return same_year
    best = None
    for year in (now.year - 1, now.year, now.year + 1):
        try:
            candidate = datetime(
                year,
                int(mmdd[:2]),
                int(mmdd[2:4]),
                int(hhmmss[:2]),
                int(hhmmss[2:4]),
                int(hhmmss[4:6]),
            )
        except ValueError:
            continue
        if best is None or abs(candidate - now) < abs(best - now):
            best = candidate
    if best is None:
        raise DecodeError(f"invalid local date/time {mmdd} {hhmmss}", field="13")
    return best


def _digits(value: Any, field: int, width: int) -> int:
    if not isinstance(value, str) or not value.isdigit() or len(value) > width:
        raise DecodeError(f"expected up to {width} digits", field=str(field))
    return int(value)


class Profile:
    """The iso87 layout; subclasses move the dialect-specific items."""

    response_code_field = 39

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    # --- MTIs -------------------------------------------------------------------------------
    def request_mti(self, req: Request) -> str:
        mti = _REQUEST_MTI[req.kind]
        if req.repeat and req.kind in (TxnKind.REVERSAL, TxnKind.REFUND, TxnKind.COMPLETION):
            mti = mti[:3] + "1"
        return mti

    def response_mti(self, request_mti: str) -> str:
        return request_mti[:2] + str(int(request_mti[2]) + 1) + "0"

    def _base_mti(self, mti: str) -> str:
        return mti

    # --- dialect-specific slots (iso87) ------------------------------------------------------
    def _put_network_code(self, f: dict[int, Any], code: str) -> None:
        f[70] = code

    def _network_code(self, msg: Message) -> str:
        return str(msg.get(70, ""))

    def _put_batch(self, f: dict[int, Any], batch: str) -> None:
        f[60] = batch

    def _batch(self, msg: Message) -> str:
        return str(msg.get(60, ""))

    def _put_original(self, f: dict[int, Any], req: Request, orig: Original) -> None:
        mti = _REQUEST_MTI[orig.kind]
        f[90] = mti + orig.stan + orig.local_time.strftime("%m%d%H%M%S") + "0" * 22

    def _original(self, msg: Message, now: datetime) -> Original | None:
        raw = msg.get(90)
        if not raw:
            return None
        when = _combine(raw[10:14], raw[14:20], now)
        return Original(
            kind=_kind_from(raw[:4], _original_pc(msg), msg),
            stan=raw[4:10],
            local_time=when,
            rrn=str(msg.get(37, "")),
            auth_code=str(msg.get(38, "")).strip(),
        )

    def _put_totals(self, f: dict[int, Any], t: Totals) -> None:
        f[74] = f"{t.credit_count:010d}"
        f[76] = f"{t.debit_count:010d}"
        f[86] = f"{t.credit_amount:016d}"
        f[88] = f"{t.debit_amount:016d}"

    def _totals(self, msg: Message) -> Totals:
        return Totals(
            debit_count=_digits(msg.get(76, "0"), 76, 10),
            debit_amount=_digits(msg.get(88, "0"), 88, 16),
            credit_count=_digits(msg.get(74, "0"), 74, 10),
            credit_amount=_digits(msg.get(86, "0"), 86, 16),
        )

    def _put_keys(self, f: dict[int, Any], block: bytes) -> None:
        f[62] = block.hex().upper()

    def _keys(self, msg: Message) -> bytes | None:
        raw = msg.get(62)
        if raw is None:
            return None
        try:
            return bytes.fromhex(raw)
        except ValueError:
            raise DecodeError("working key block is not hex", field="62") from None

    def _put_time(self, f: dict[int, Any], when: datetime) -> None:
        f[7] = when.strftime("%m%d%H%M%S")
        f[12] = when.strftime("%H%M%S")
        f[13] = when.strftime("%m%d")

    def _time(self, msg: Message, now: datetime) -> datetime:
        if 12 in msg and 13 in msg:
            return _combine(msg.fields[13], msg.fields[12], now)
        return now

    def _put_entry(self, f: dict[int, Any], entry_mode: str, kind: TxnKind) -> None:
        f[22] = entry_mode
        f[25] = "06" if kind in (TxnKind.PREAUTH, TxnKind.COMPLETION) else "00"

    def _entry(self, msg: Message) -> str:
        return str(msg.get(22, "000"))[:3]

    def _put_merchant_name(self, f: dict[int, Any], name: str) -> None:
        if 43 in self.spec.fields and name:
            f[43] = name[:40].ljust(40)

    def encode_response_code(self, code: str, kind: TxnKind) -> str:
        return code

    def decode_response_code(self, raw: str, kind: TxnKind) -> str:
        return raw

    # --- requests -----------------------------------------------------------------------------
    def request_to_message(self, req: Request) -> Message:
        f: dict[int, Any] = {}
        kind = req.kind
        if kind in (TxnKind.REVERSAL, TxnKind.BATCH_UPLOAD) and req.original is not None:
            f[3] = _PROCESSING.get(req.original.kind, "000000")
        elif kind in _PROCESSING:
            f[3] = _PROCESSING[kind]
        if req.amount is not None:
            f[4] = f"{req.amount:012d}"
            f[49] = req.currency
        f[11] = req.stan
        self._put_time(f, req.local_time)
        f[41] = req.terminal_id
        f[42] = req.merchant_id
        if kind in _NETWORK_CODE:
            code = "202" if kind is TxnKind.SETTLEMENT and req.after_upload else _NETWORK_CODE[kind]
            self._put_network_code(f, code)
        if req.pan:
            f[2] = req.pan
        if req.expiry:
            f[14] = req.expiry
        if req.track2:
            f[35] = req.track2
        if kind.financial or kind in (TxnKind.BALANCE, TxnKind.REVERSAL, TxnKind.BATCH_UPLOAD):
            self._put_entry(f, req.entry_mode, kind)
        if req.pin_block:
            f[52] = req.pin_block
        if req.icc:
            f[55] = req.icc
        if kind not in (TxnKind.SIGNON, TxnKind.ECHO):
            self._put_batch(f, req.batch)
        if req.original is not None:
            self._put_original(f, req, req.original)
            if req.original.rrn:
                f[37] = req.original.rrn
            if req.original.auth_code and kind in (
                TxnKind.VOID,
                TxnKind.COMPLETION,
                TxnKind.REVERSAL,
                TxnKind.BATCH_UPLOAD,
                TxnKind.REFUND,
            ):
                f[38] = req.original.auth_code.ljust(6)
        if req.totals is not None:
            self._put_totals(f, req.totals)
        if req.qr is not None and kind in _QR_PREFIX:
            f[59] = _QR_PREFIX[kind] + req.qr
        self._put_merchant_name(f, req.merchant_name)
        return Message(self.request_mti(req), f)

    def request_from_message(self, msg: Message, now: datetime) -> Request:
        mti = self._base_mti(msg.mti)
        f = msg.fields
        network_code = self._network_code(msg)
        kind = _kind_from(mti, str(f.get(3, "")), msg, network_code=network_code)
        qr = None
        raw59 = f.get(59)
        if isinstance(raw59, str) and ":" in raw59:
            qr = raw59.split(":", 1)[1]
        amount = _digits(f[4], 4, 12) if 4 in f else None
        totals = self._totals(msg) if kind is TxnKind.SETTLEMENT else None
        return Request(
            kind=kind,
            stan=str(f.get(11, "")),
            local_time=self._time(msg, now),
            terminal_id=str(f.get(41, "")),
            merchant_id=str(f.get(42, "")),
            amount=amount,
            currency=str(f.get(49, "156")),
            pan=f.get(2),
            expiry=f.get(14),
            track2=f.get(35),
            entry_mode=self._entry(msg),
            pin_block=f.get(52),
            icc=icc if isinstance(icc := f.get(55), dict) else None,
            batch=self._batch(msg),
            original=self._original(msg, now) or _reference_only(msg, now),
            qr=qr,
            totals=totals,
            after_upload=kind is TxnKind.SETTLEMENT and network_code == "202",
            repeat=mti.endswith("1"),
        )

    # --- responses ----------------------------------------------------------------------------
    def response_to_message(self, request: Message, resp: Response) -> Message:
        """Echo the request's identifying fields and add the host's answer."""
        echo = (3, 4, 11, 12, 13, 41, 42, 49, 60, 70, 24)
        f: dict[int, Any] = {n: request.fields[n] for n in echo if n in request.fields}
        if 7 in request.fields:
            f[7] = request.fields[7]
        f[self.response_code_field] = self.encode_response_code(resp.response_code, resp.kind)
        if resp.rrn:
            f[37] = resp.rrn
        if resp.auth_code:
            f[38] = resp.auth_code.ljust(6)
        if resp.balance is not None and 54 in self.spec.fields:
            f[54] = f"0002{request.fields.get(49, '156')}C{resp.balance:012d}"
        if resp.keys is not None:
            k = resp.keys
            self._put_keys(f, k.pin_key + k.pin_kcv + k.mac_key + k.mac_kcv)
        return Message(self.response_mti(request.mti), f)

    def response_from_message(self, msg: Message, kind: TxnKind) -> Response:
        f = msg.fields
        raw_code = f.get(self.response_code_field)
        if not isinstance(raw_code, str):
            raise DecodeError("response has no response code", field=str(self.response_code_field))
        balance = None
        raw54 = f.get(54)
        if isinstance(raw54, str) and len(raw54) >= 20 and raw54[-12:].isdigit():
            balance = int(raw54[-12:]) * (-1 if raw54[-13] == "D" else 1)
        keys = None
        block = self._keys(msg)
        if block is not None:
            if len(block) != KEY_BLOCK_SIZE:
                raise DecodeError(
                    f"working key block is {len(block)} bytes, expected {KEY_BLOCK_SIZE}",
                    field="62",
                )
            keys = SessionKeys(block[:16], block[16:19], block[19:35], block[35:38])
        return Response(
            kind=kind,
            stan=str(f.get(11, "")),
            response_code=self.decode_response_code(raw_code, kind),
            auth_code=str(f.get(38, "")).strip(),
            rrn=str(f.get(37, "")),
            balance=balance,
            keys=keys,
        )


def _reference_only(msg: Message, now: datetime) -> Original | None:
    """An original named by its RRN (37) or auth code (38) alone, without original data."""
    rrn = str(msg.get(37, "")).strip()
    auth = str(msg.get(38, "")).strip()
    if not (rrn or auth):
        return None
    return Original(kind=TxnKind.SALE, stan="", local_time=now, rrn=rrn, auth_code=auth)


_QR_KINDS = {"MPM:": TxnKind.QR_ORDER, "CPM:": TxnKind.QR_PAY}
_AUTH_KINDS = {"03": TxnKind.PREAUTH, "31": TxnKind.BALANCE, "33": TxnKind.QR_QUERY}


def _original_pc(msg: Message) -> str:
    """Processing code of the original: a void's own code (02) says nothing about it."""
    pc = str(msg.get(3, ""))
    return "000000" if pc.startswith("02") else pc


def _kind_from(mti: str, pc: str, msg: Message, *, network_code: str = "") -> TxnKind:
    """Classify a request by its MTI, processing code and markers."""
    cls = mti[:3]
    if cls == "020":
        if pc.startswith("02"):
            return TxnKind.VOID
        qr = msg.get(59)
        qr_tag = qr.split(":", 1)[0] + ":" if isinstance(qr, str) and ":" in qr else ""
        return _QR_KINDS.get(qr_tag, TxnKind.SALE)
    if cls == "080":
        return TxnKind.ECHO if network_code == "301" else TxnKind.SIGNON
    if cls == "050":
        return TxnKind.SETTLEMENT
    if cls == "032":
        return TxnKind.BATCH_UPLOAD
    if cls == "040":
        return TxnKind.REVERSAL
    if cls == "060":
        return TxnKind.QR_SIMULATE
    if cls == "022":
        return TxnKind.REFUND if pc.startswith("20") else TxnKind.COMPLETION
    if cls == "010":
        return _AUTH_KINDS.get(pc[:2], TxnKind.PREAUTH)
    raise DecodeError(f"message type {mti} is not part of the acquirer protocol", field="t")


Iso87Profile = Profile


class Iso93Profile(Profile):
    """ISO 8583:1993: version 1 MTIs, function code in 24, 3-digit action codes in 39."""

    _MTI_93: ClassVar[dict[str, str]] = {
        "0800": "1804",
        "0400": "1420",
        "0401": "1421",
        "0500": "1520",
        "0600": "1604",
        "0320": "1320",
        "0100": "1100",
        "0200": "1200",
        "0220": "1220",
        "0221": "1221",
    }
    _MTI_87: ClassVar[dict[str, str]] = {v: k for k, v in _MTI_93.items()}
    _FUNCTION: ClassVar[dict[str, str]] = {"001": "801", "301": "831", "201": "500", "202": "501"}
    _NETWORK: ClassVar[dict[str, str]] = {v: k for k, v in _FUNCTION.items()}
    _ACTION: ClassVar[dict[str, str]] = {
        "00": "000",
        "01": "107",
        "03": "109",
        "05": "100",
        "09": "923",
        "12": "902",
        "13": "110",
        "14": "111",
        "25": "914",
        "30": "904",
        "43": "208",
        "51": "116",
        "54": "101",
        "55": "117",
        "58": "120",
        "61": "121",
        "64": "113",
        "77": "915",
        "91": "907",
        "94": "913",
        "95": "501",
        "96": "909",
        "A0": "916",
        "A7": "917",
    }
    _ACTION_BACK: ClassVar[dict[str, str]] = {v: k for k, v in _ACTION.items()}

    def request_mti(self, req: Request) -> str:
        return self._MTI_93[super().request_mti(req)]

    def response_mti(self, request_mti: str) -> str:
        # 1420/1421 -> 1430, 1520 -> 1530, 1804 -> 1814: next class, network messages keep 4.
        mti = request_mti
        return mti[:2] + str(int(mti[2]) + 1) + ("4" if mti[1] in "86" else "0")

    def _base_mti(self, mti: str) -> str:
        return self._MTI_87.get(mti, "0" + mti[1:])

    def _put_network_code(self, f: dict[int, Any], code: str) -> None:
        f[24] = self._FUNCTION[code]

    def _network_code(self, msg: Message) -> str:
        return self._NETWORK.get(str(msg.get(24, "")), "")

    def _put_original(self, f: dict[int, Any], req: Request, orig: Original) -> None:
        f[56] = (
            self._MTI_93[_REQUEST_MTI[orig.kind]]
            + orig.stan
            + orig.local_time.strftime("%y%m%d%H%M%S")
        )

    def _original(self, msg: Message, now: datetime) -> Original | None:
        raw = msg.get(56)
        if not raw or len(raw) < 22:
            return None
        when = _combine(raw[12:16], raw[16:22], now)
        return Original(
            kind=_kind_from(self._base_mti(raw[:4]), _original_pc(msg), msg),
            stan=raw[4:10],
            local_time=when,
            rrn=str(msg.get(37, "")),
            auth_code=str(msg.get(38, "")).strip(),
        )

    def _put_keys(self, f: dict[int, Any], block: bytes) -> None:
        f[96] = block

    def _keys(self, msg: Message) -> bytes | None:
        return msg.get(96)

    def _put_time(self, f: dict[int, Any], when: datetime) -> None:
        f[7] = when.strftime("%m%d%H%M%S")
        f[12] = when.strftime("%y%m%d%H%M%S")

    def _time(self, msg: Message, now: datetime) -> datetime:
        raw = msg.get(12)
        if isinstance(raw, str) and len(raw) == 12:
            return _combine(raw[2:6], raw[6:12], now)
        return now

    def _put_entry(self, f: dict[int, Any], entry_mode: str, kind: TxnKind) -> None:
        f[22] = entry_mode.ljust(12, "0")

    def encode_response_code(self, code: str, kind: TxnKind) -> str:
        if code == "00" and kind in (TxnKind.SIGNON, TxnKind.ECHO):
            return "800"
        if code == "00" and kind is TxnKind.SETTLEMENT:
            return "500"
        return self._ACTION.get(code, "909")

    def decode_response_code(self, raw: str, kind: TxnKind) -> str:
        if raw in ("800", "500"):
            return "00"
        return self._ACTION_BACK.get(raw, "96")

    def _put_merchant_name(self, f: dict[int, Any], name: str) -> None:
        if name:
            f[43] = name[:99]


class CupProfile(Profile):
    """UnionPay style: field 60 carries type code, batch and network code; 61 the original."""

    _TYPE_CODE: ClassVar[dict[TxnKind, str]] = {
        TxnKind.SIGNON: "00",
        TxnKind.ECHO: "00",
        TxnKind.SALE: "22",
        TxnKind.VOID: "23",
        TxnKind.REFUND: "25",
        TxnKind.PREAUTH: "10",
        TxnKind.COMPLETION: "20",
        TxnKind.BALANCE: "01",
        TxnKind.REVERSAL: "22",
        TxnKind.SETTLEMENT: "00",
        TxnKind.BATCH_UPLOAD: "00",
        TxnKind.QR_ORDER: "22",
        TxnKind.QR_PAY: "22",
        TxnKind.QR_QUERY: "01",
        TxnKind.QR_SIMULATE: "00",
    }

    def _field60(self, f: dict[int, Any]) -> dict[str, str]:
        return f.setdefault(60, {"1": "00", "2": "000000", "3": "000"})

    def request_to_message(self, req: Request) -> Message:
        msg = super().request_to_message(req)
        self._field60(msg.fields)["1"] = self._TYPE_CODE[req.kind]
        return msg

    def _put_network_code(self, f: dict[int, Any], code: str) -> None:
        self._field60(f)["3"] = code

    def _network_code(self, msg: Message) -> str:
        f60 = msg.get(60)
        return f60.get("3", "") if isinstance(f60, dict) else ""

    def _put_batch(self, f: dict[int, Any], batch: str) -> None:
        self._field60(f)["2"] = batch

    def _batch(self, msg: Message) -> str:
        f60 = msg.get(60)
        return f60.get("2", "") if isinstance(f60, dict) else ""

    def _put_original(self, f: dict[int, Any], req: Request, orig: Original) -> None:
        f[61] = {
            "1": orig.batch or req.batch,
            "2": orig.stan,
            "3": orig.local_time.strftime("%m%d"),
        }

    def _original(self, msg: Message, now: datetime) -> Original | None:
        raw = msg.get(61)
        if not isinstance(raw, dict) or "2" not in raw:
            return None
        when = _combine(raw.get("3", now.strftime("%m%d")), "000000", now)
        return Original(
            kind=TxnKind.SALE,
            stan=raw["2"],
            local_time=when,
            rrn=str(msg.get(37, "")),
            auth_code=str(msg.get(38, "")).strip(),
            batch=raw.get("1", ""),
        )

    def _put_totals(self, f: dict[int, Any], t: Totals) -> None:
        f[48] = (
            f"{t.debit_count:03d}{t.debit_amount:012d}{t.credit_count:03d}{t.credit_amount:012d}0"
        )

    def _totals(self, msg: Message) -> Totals:
        raw = str(msg.get(48, ""))
        if len(raw) < 30 or not raw.isdigit():
            raise DecodeError("settlement totals need 30 digits", field="48")
        return Totals(
            debit_count=int(raw[0:3]),
            debit_amount=int(raw[3:15]),
            credit_count=int(raw[15:18]),
            credit_amount=int(raw[18:30]),
        )

    def _put_keys(self, f: dict[int, Any], block: bytes) -> None:
        f[62] = block

    def _keys(self, msg: Message) -> bytes | None:
        return msg.get(62)

    def _put_time(self, f: dict[int, Any], when: datetime) -> None:
        f[12] = when.strftime("%H%M%S")
        f[13] = when.strftime("%m%d")

    def response_to_message(self, request: Message, resp: Response) -> Message:
        msg = super().response_to_message(request, resp)
        if 7 in msg.fields:
            del msg.fields[7]
        return msg


def profile_for(spec: Spec) -> Profile:
    """Pick the profile by the dialect's shape, so user dialects derived from ours work too."""
    fields = spec.fields
    if isinstance(getattr(fields.get(60), "composite", None), Positional):
        return CupProfile(spec)
    if 39 in fields and fields[39].max_len == 3:
        return Iso93Profile(spec)
    return Profile(spec)
