"""EMVCo merchant-presented mode (MPM): parse, validate and build QR payloads.

A payload is a run of records ``ID (2 digits) + LENGTH (2 digits) + VALUE``; template IDs
(26-51 merchant accounts, 62 additional data, 64 language template, 80-99 unreserved, and
62.50-99 payment-system templates) hold a further run of records. Lengths count characters,
not UTF-8 bytes, so a Chinese name in ID 64 is as long as it has characters, while the
ID 63 CRC covers the UTF-8 bytes of everything up to and including ``"6304"``.

Parsing is strict (the emulated wallet must refuse what a real one refuses) and reports
the ID path and character offset of the first fault. ``build_mpm`` re-parses what it
builds, so one set of rules governs both directions and a built payload always parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from terminal.core.qr.crc import mpm_crc
from terminal.core.qr.errors import MpmCrcError, MpmError

__all__ = [
    "AdditionalData",
    "MerchantAccount",
    "MerchantLanguage",
    "MpmPayload",
    "MpmRecord",
    "PointOfInitiation",
    "Tip",
    "TipIndicator",
    "build_mpm",
    "encode_mpm",
    "inspect_mpm",
    "parse_mpm",
]

_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789ABCDEFabcdef")
_MAX_VALUE = 99
_CRC_ID = "63"


class PointOfInitiation(Enum):
    """ID 01: a static code is reused for many payments, a dynamic one carries one amount."""

    STATIC = "11"
    DYNAMIC = "12"


class TipIndicator(Enum):
    """ID 55: whether the wallet prompts for a tip or adds a fixed (56) or percentage (57) fee."""

    PROMPT = "01"
    FIXED = "02"
    PERCENTAGE = "03"


def _is_digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` would also accept e.g. Arabic-Indic digits."""
    return bool(text) and all(ch in _DIGITS for ch in text)


def _join(parent: str | None, rid: str) -> str:
    return rid if parent is None else f"{parent}.{rid}"


def _is_template(path: str) -> bool:
    """Whether the record at ``path`` (e.g. ``"62"``, ``"62.50"``) nests further records."""
    parts = path.split(".")
    number = int(parts[-1])
    if len(parts) == 1:
        return 26 <= number <= 51 or number in (62, 64) or 80 <= number <= 99
    return len(parts) == 2 and parts[0] == "62" and 50 <= number <= 99


def _check_record(rid: str, value: str, parent: str | None) -> None:
    """Rules every record obeys whatever its ID, so builders fail before encoding."""
    if len(rid) != 2 or not _is_digits(rid):
        raise MpmError(f"ID {rid!r} is not two digits", tag=parent)
    if not 1 <= len(value) <= _MAX_VALUE:
        raise MpmError(f"value must be 1-99 characters, got {len(value)}", tag=_join(parent, rid))
    for index, char in enumerate(value):
        if not char.isprintable():
            raise MpmError(
                f"character U+{ord(char):04X} at value index {index} is not printable",
                tag=_join(parent, rid),
            )


@dataclass(frozen=True, slots=True)
class MpmRecord:
    """One ID-length-value record; a template's parsed sub-records are in ``children``.

    ``value`` is always the exact text between the length and the next record, so
    ``encode`` reproduces the input even for templates. ``offset`` is the character index of
    the ID within the parsed payload (``None`` for built records) and is not compared.
    """

    id: str
    value: str
    children: tuple[MpmRecord, ...] = ()
    offset: int | None = field(default=None, compare=False, repr=False)

    @classmethod
    def primitive(cls, id: str, value: str, *, parent: str | None = None) -> MpmRecord:
        """A checked primitive record; ``parent`` only names the template in errors."""
        _check_record(id, value, parent)
        return cls(id, value)

    @classmethod
    def template(
        cls, id: str, children: Iterable[MpmRecord], *, parent: str | None = None
    ) -> MpmRecord:
        """A checked template record whose value is the encoding of ``children``."""
        kids = tuple(children)
        value = "".join(kid.encode() for kid in kids)
        _check_record(id, value, parent)
        return cls(id, value, kids)

    def encode(self) -> str:
        """The record as it appears in a payload."""
        return f"{self.id}{len(self.value):02d}{self.value}"

    def child(self, sub_id: str) -> MpmRecord | None:
        """The sub-record ``sub_id`` of a template, if present."""
        return next((kid for kid in self.children if kid.id == sub_id), None)


@dataclass(frozen=True, slots=True)
class MerchantAccount:
    """A merchant account template (ID 26-51): GUID (sub-ID 00) plus scheme sub-IDs."""

    id: str
    guid: str
    details: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_record(cls, record: MpmRecord) -> MerchantAccount:
        guid = record.child("00")
        details = tuple((kid.id, kid.value) for kid in record.children if kid.id != "00")
        return cls(record.id, guid.value if guid else "", details)

    def to_record(self) -> MpmRecord:
        if not (len(self.id) == 2 and _is_digits(self.id) and 26 <= int(self.id) <= 51):
            raise MpmError("merchant account templates use IDs 26-51", tag=self.id)
        kids = [MpmRecord.primitive("00", self.guid, parent=self.id)]
        kids += [MpmRecord.primitive(sid, val, parent=self.id) for sid, val in self.details]
        return MpmRecord.template(self.id, kids)


_ADDITIONAL_FIELDS = (
    ("01", "bill_number"),
    ("02", "mobile_number"),
    ("03", "store_label"),
    ("04", "loyalty_number"),
    ("05", "reference_label"),
    ("06", "customer_label"),
    ("07", "terminal_label"),
    ("08", "purpose"),
    ("09", "consumer_data_request"),
)


@dataclass(frozen=True, slots=True)
class AdditionalData:
    """ID 62. A value of ``"***"`` asks the wallet to prompt the customer for it.

    ``consumer_data_request`` (09) lists what the wallet should send back: ``A`` address,
    ``M`` mobile number, ``E`` e-mail. ``extra`` keeps RFU and payment-system records.
    """

    bill_number: str | None = None
    mobile_number: str | None = None
    store_label: str | None = None
    loyalty_number: str | None = None
    reference_label: str | None = None
    customer_label: str | None = None
    terminal_label: str | None = None
    purpose: str | None = None
    consumer_data_request: str | None = None
    extra: tuple[MpmRecord, ...] = ()

    @classmethod
    def from_record(cls, record: MpmRecord) -> AdditionalData:
        known = dict(_ADDITIONAL_FIELDS)
        values = {known[kid.id]: kid.value for kid in record.children if kid.id in known}
        extra = tuple(kid for kid in record.children if kid.id not in known)
        return cls(**values, extra=extra)

    def to_record(self) -> MpmRecord:
        kids = [
            MpmRecord.primitive(sid, value, parent="62")
            for sid, name in _ADDITIONAL_FIELDS
            if (value := getattr(self, name)) is not None
        ]
        return MpmRecord.template("62", [*kids, *self.extra])


@dataclass(frozen=True, slots=True)
class MerchantLanguage:
    """ID 64: merchant name and city in the language ``language`` (ISO 639, e.g. ``ZH``)."""

    language: str
    merchant_name: str
    merchant_city: str | None = None

    @classmethod
    def from_record(cls, record: MpmRecord) -> MerchantLanguage:
        def text(sub_id: str) -> str | None:
            kid = record.child(sub_id)
            return kid.value if kid else None

        return cls(text("00") or "", text("01") or "", text("02"))

    def to_record(self) -> MpmRecord:
        kids = [
            MpmRecord.primitive("00", self.language, parent="64"),
            MpmRecord.primitive("01", self.merchant_name, parent="64"),
        ]
        if self.merchant_city is not None:
            kids.append(MpmRecord.primitive("02", self.merchant_city, parent="64"))
        return MpmRecord.template("64", kids)


@dataclass(frozen=True, slots=True)
class Tip:
    """IDs 55-57: ``value`` is the fixed fee (FIXED) or the percentage (PERCENTAGE)."""

    indicator: TipIndicator
    value: Decimal | None = None

    def to_records(self) -> list[MpmRecord]:
        records = [MpmRecord.primitive("55", self.indicator.value)]
        if self.value is not None:
            sub = "56" if self.indicator is TipIndicator.FIXED else "57"
            records.append(MpmRecord.primitive(sub, _decimal_text(self.value, sub)))
        return records


def _decimal_text(amount: Decimal | str, tag: str) -> str:
    """Plain decimal text (never exponent notation); the parse rules judge the format."""
    if isinstance(amount, str):
        return amount
    if not amount.is_finite() or amount.is_signed():
        raise MpmError(f"amount must be finite and non-negative, got {amount}", tag=tag)
    return format(amount, "f")


# --- value rules -------------------------------------------------------------------------

_Rule = Callable[[str], str | None]
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_PERCENT = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2})?")


def _one_of(allowed: tuple[str, ...], what: str) -> _Rule:
    options = ", ".join(repr(a) for a in allowed)
    return lambda v: None if v in allowed else f"{what} must be one of {options}, got {v!r}"


def _pattern(regex: str, what: str) -> _Rule:
    compiled = re.compile(regex)
    return lambda v: None if compiled.fullmatch(v) else f"{what}, got {v!r}"


def _max_len(limit: int, what: str) -> _Rule:
    return lambda v: (
        None if len(v) <= limit else f"{what} must be at most {limit} characters, got {len(v)}"
    )


def _amount(what: str) -> _Rule:
    def rule(value: str) -> str | None:
        if len(value) <= 13 and _AMOUNT.fullmatch(value):
            return None
        return f"{what} must be 1-13 characters of digits with an optional '.', got {value!r}"

    return rule


def _percentage(value: str) -> str | None:
    if _PERCENT.fullmatch(value) and Decimal(value) > 0:
        return None
    return f"convenience fee percentage must be between 00.01 and 99.99, got {value!r}"


def _consumer_request(value: str) -> str | None:
    if set(value) <= set("AME") and len(set(value)) == len(value):
        return None
    return f"consumer data request must list each of 'A', 'M', 'E' at most once, got {value!r}"


_VALUE_RULES: dict[str, _Rule] = {
    "00": _one_of(("01",), "payload format indicator"),
    "01": _one_of(("11", "12"), "point of initiation method"),
    "52": _pattern(r"[0-9]{4}", "merchant category code must be 4 digits"),
    "53": _pattern(r"[0-9]{3}", "transaction currency must be a 3-digit ISO 4217 code"),
    "54": _amount("transaction amount"),
    "55": _one_of(("01", "02", "03"), "tip or convenience indicator"),
    "56": _amount("fixed convenience fee"),
    "57": _percentage,
    "58": _pattern(r"[A-Z]{2}", "country code must be 2 uppercase letters (ISO 3166-1)"),
    "59": _max_len(25, "merchant name"),
    "60": _max_len(15, "merchant city"),
    "61": _max_len(10, "postal code"),
    **{f"62.{sid}": _max_len(25, name.replace("_", " ")) for sid, name in _ADDITIONAL_FIELDS},
    "62.09": _consumer_request,
    "64.00": _pattern(r"[A-Za-z]{2}", "language preference must be 2 letters (ISO 639)"),
    "64.01": _max_len(25, "alternate merchant name"),
    "64.02": _max_len(15, "alternate merchant city"),
}

_MANDATORY = (
    ("52", "merchant category code"),
    ("53", "transaction currency"),
    ("58", "country code"),
    ("59", "merchant name"),
    ("60", "merchant city"),
)


def _required_children(path: str) -> tuple[tuple[str, str], ...]:
    if path == "64":
        return (("00", "language preference"), ("01", "alternate merchant name"))
    if path == "62":
        return ()
    return (("00", "globally unique identifier"),)


# --- parsing -----------------------------------------------------------------------------


def _split(text: str, start: int, end: int, parent: str | None) -> list[MpmRecord]:
    """Cut ``text[start:end]`` into records without interpreting them."""
    where = "payload" if parent is None else f"template {parent}"
    records: list[MpmRecord] = []
    pos = start
    while pos < end:
        if end - pos < 4:
            raise MpmError(
                f"truncated record {text[pos:end]!r}: ID and length need 4 characters",
                offset=pos,
                tag=parent,
            )
        rid, length = text[pos : pos + 2], text[pos + 2 : pos + 4]
        if not _is_digits(rid):
            raise MpmError(f"ID {rid!r} is not two digits", offset=pos, tag=parent)
        path = _join(parent, rid)
        if not _is_digits(length):
            raise MpmError(f"length {length!r} is not two digits", offset=pos, tag=path)
        if length == "00":
            raise MpmError("length 00: values must be 1-99 characters", offset=pos, tag=path)
        value_end = pos + 4 + int(length)
        if value_end > end:
            raise MpmError(f"length {length} runs past end of {where}", offset=pos, tag=path)
        records.append(MpmRecord(rid, text[pos + 4 : value_end], offset=pos))
        pos = value_end
    return records


def _expand(text: str, record: MpmRecord, offset: int, parent: str | None) -> MpmRecord:
    """Parse a template's value into children, recursively."""
    path = _join(parent, record.id)
    if not _is_template(path):
        return record
    start = offset + 4
    flat = _split(text, start, start + len(record.value), path)
    kids = tuple(_expand(text, kid, kid.offset or 0, path) for kid in flat)
    return MpmRecord(record.id, record.value, kids, offset)


def _raise(error: MpmError) -> None:
    raise error


def _validate(
    records: Sequence[MpmRecord],
    parent: MpmRecord | None,
    path: str | None,
    report: Callable[[MpmError], None] = _raise,
) -> None:
    """Duplicates, per-ID value rules and mandatory sub-IDs, depth first; each violation goes
    to ``report`` (which raises when parsing strictly)."""
    seen: dict[str, int | None] = {}
    for record in records:
        record_path = _join(path, record.id)
        if record.id in seen:
            report(
                MpmError(
                    f"duplicate ID (first at char {seen[record.id]})",
                    offset=record.offset,
                    tag=record_path,
                )
            )
        else:
            seen[record.id] = record.offset
        if _is_template(record_path):
            _validate(record.children, record, record_path, report)
        rule = _VALUE_RULES.get(record_path)
        if rule is not None and (reason := rule(record.value)) is not None:
            report(MpmError(reason, offset=record.offset, tag=record_path))
    if parent is not None and path is not None:
        for sub_id, name in _required_children(path):
            if sub_id not in seen:
                report(
                    MpmError(
                        f"template lacks sub-ID {sub_id} ({name})", offset=parent.offset, tag=path
                    )
                )


def _check_payload_rules(
    records: Sequence[MpmRecord], report: Callable[[MpmError], None] = _raise
) -> None:
    """Cross-record rules: mandatory IDs, a merchant account, tip indicator consistency."""
    by_id: dict[str, MpmRecord] = {}
    for record in records:
        by_id.setdefault(record.id, record)
    for rid, name in _MANDATORY:
        if rid not in by_id:
            report(MpmError(f"mandatory record is missing ({name})", tag=rid))
    if not any(2 <= int(rid) <= 51 for rid in by_id):
        report(MpmError("no merchant account information: at least one of IDs 02-51 is required"))
    indicator = by_id["55"].value if "55" in by_id else None
    for fee_id, needed in (("56", "02"), ("57", "03")):
        if fee_id in by_id and indicator != needed:
            report(
                MpmError(
                    f"only allowed when ID 55 is {needed!r}",
                    offset=by_id[fee_id].offset,
                    tag=fee_id,
                )
            )
        if indicator == needed and fee_id not in by_id:
            report(
                MpmError(
                    f"value {needed!r} requires ID {fee_id}", offset=by_id["55"].offset, tag="55"
                )
            )


def parse_mpm(payload: str) -> MpmPayload:
    """Parse and fully validate an MPM payload; raise ``MpmError`` at the first fault.

    Checks run outside-in: printable characters, record structure, ID 00 first, ID 63 last
    with length 04, the CRC (hex in any case), then templates, values and cross-record rules.
    """
    return _parse(payload, _raise)


def inspect_mpm(payload: str) -> tuple[MpmPayload, tuple[MpmError, ...]]:
    """Parse a payload from the field the way a test tool must: the structure and the CRC
    strictly (``MpmError``), spec violations (a missing ID 52, a 16-character city) returned
    as warnings beside the parsed payload, whose typed accessors may then raise."""
    warnings: list[MpmError] = []
    return _parse(payload, warnings.append), tuple(warnings)


def _parse(payload: str, report: Callable[[MpmError], None]) -> MpmPayload:
    for index, char in enumerate(payload):
        if not char.isprintable():
            raise MpmError(f"character U+{ord(char):04X} is not printable", offset=index)
    top = _split(payload, 0, len(payload), None)
    if not top:
        raise MpmError("payload is empty", offset=0)
    if top[0].id != "00":
        raise MpmError(
            "the payload format indicator (ID 00) must come first", offset=0, tag=top[0].id
        )
    last = top[-1]
    crc_offset = last.offset or 0
    if last.id != _CRC_ID:
        raise MpmError("ID 63 must be the last record", offset=crc_offset, tag=last.id)
    if len(last.value) != 4:
        raise MpmError(
            f"length {len(last.value):02d}: the CRC record must have length 04",
            offset=crc_offset,
            tag=_CRC_ID,
        )
    if not set(last.value) <= _HEX:
        raise MpmError(f"CRC {last.value!r} is not 4 hex digits", offset=crc_offset, tag=_CRC_ID)
    computed = mpm_crc(payload[: crc_offset + 4])
    if last.value.upper() != computed:
        raise MpmCrcError(found=last.value, computed=computed, offset=crc_offset)
    records = tuple(_expand(payload, record, record.offset or 0, None) for record in top)
    _validate(records, None, None, report)
    _check_payload_rules(records, report)
    return MpmPayload(records)


def encode_mpm(records: Iterable[MpmRecord]) -> str:
    """Serialise ``records`` in the given order and append the ID 63 CRC record."""
    parts = []
    for record in records:
        if record.id == _CRC_ID:
            raise MpmError("the CRC record is appended by encode_mpm, do not pass it", tag="63")
        parts.append(record.encode())
    body = "".join(parts) + "6304"
    return body + mpm_crc(body)


# --- model -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MpmPayload:
    """A validated MPM payload: the ordered records plus typed accessors over them."""

    records: tuple[MpmRecord, ...]

    def get(self, id: str) -> MpmRecord | None:
        """The top-level record ``id``, if present."""
        return next((record for record in self.records if record.id == id), None)

    def value(self, id: str) -> str | None:
        """The raw value of top-level record ``id``, if present."""
        record = self.get(id)
        return record.value if record else None

    def _required(self, id: str) -> str:
        value = self.value(id)
        if value is None:
            raise MpmError("mandatory record is missing", tag=id)
        return value

    @property
    def point_of_initiation(self) -> PointOfInitiation | None:
        value = self.value("01")
        return PointOfInitiation(value) if value else None

    @property
    def merchant_accounts(self) -> tuple[MerchantAccount, ...]:
        """Templates 26-51 in payload order (primitive IDs 02-25 stay in ``records``)."""
        return tuple(
            MerchantAccount.from_record(record)
            for record in self.records
            if 26 <= int(record.id) <= 51
        )

    @property
    def mcc(self) -> str:
        return self._required("52")

    @property
    def currency(self) -> str:
        """ISO 4217 numeric currency code, e.g. ``"156"`` for CNY."""
        return self._required("53")

    @property
    def amount(self) -> Decimal | None:
        value = self.value("54")
        return Decimal(value) if value else None

    @property
    def tip(self) -> Tip | None:
        indicator = self.value("55")
        if indicator is None:
            return None
        fee = self.value("56") or self.value("57")
        return Tip(TipIndicator(indicator), Decimal(fee) if fee else None)

    @property
    def country(self) -> str:
        return self._required("58")

    @property
    def merchant_name(self) -> str:
        return self._required("59")

    @property
    def city(self) -> str:
        return self._required("60")

    @property
    def postal_code(self) -> str | None:
        return self.value("61")

    @property
    def additional_data(self) -> AdditionalData | None:
        record = self.get("62")
        return AdditionalData.from_record(record) if record else None

    @property
    def language(self) -> MerchantLanguage | None:
        record = self.get("64")
        return MerchantLanguage.from_record(record) if record else None

    @property
    def unreserved_templates(self) -> tuple[MpmRecord, ...]:
        return tuple(record for record in self.records if 80 <= int(record.id) <= 99)

    @property
    def crc(self) -> str:
        return self._required(_CRC_ID).upper()

    def to_payload(self) -> str:
        """Re-encode the records in their order (CRC recomputed, hence uppercase)."""
        return encode_mpm(record for record in self.records if record.id != _CRC_ID)


# --- building ----------------------------------------------------------------------------


def build_mpm(
    *,
    merchant_accounts: Sequence[MerchantAccount],
    mcc: str,
    currency: str,
    amount: Decimal | str,
    country: str,
    merchant_name: str,
    city: str,
    terminal_label: str,
    reference_label: str,
    postal_code: str | None = None,
    tip: Tip | None = None,
    language: MerchantLanguage | None = None,
    bill_number: str | None = None,
    store_label: str | None = None,
    purpose: str | None = None,
) -> str:
    """Build a dynamic (01 = 12) payload for one sale, records in ascending ID order."""
    records = [MpmRecord.primitive("00", "01"), MpmRecord.primitive("01", "12")]
    records += sorted((account.to_record() for account in merchant_accounts), key=_record_id)
    records += [
        MpmRecord.primitive("52", mcc),
        MpmRecord.primitive("53", currency),
        MpmRecord.primitive("54", _decimal_text(amount, "54")),
    ]
    if tip is not None:
        records += tip.to_records()
    records += [
        MpmRecord.primitive("58", country),
        MpmRecord.primitive("59", merchant_name),
        MpmRecord.primitive("60", city),
    ]
    if postal_code is not None:
        records.append(MpmRecord.primitive("61", postal_code))
    additional = AdditionalData(
        bill_number=bill_number,
        store_label=store_label,
        reference_label=reference_label,
        terminal_label=terminal_label,
        purpose=purpose,
    )
    records.append(additional.to_record())
    if language is not None:
        records.append(language.to_record())
    payload = encode_mpm(records)
    parse_mpm(payload)
    return payload


def _record_id(record: MpmRecord) -> str:
    return record.id
