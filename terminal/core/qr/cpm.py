"""Customer payment codes the cashier scans: EMVCo CPM data and plain numeric wallet codes.

EMVCo consumer-presented mode (CPM) puts BER-TLV data in the QR as Base64 text: a Payload
Format Indicator (tag 85, ``"CPV01"``) first, then one or more Application Templates (61)
and optional Common Data Templates (62) whose fields apply to every application. Chinese
wallets instead show a bare number whose prefix names the wallet. ``parse_payment_code``
tells the two apart so the sale screen needs a single entry point.

BER-TLV is decoded and encoded by ``iso8583.tlv``'s list form, which keeps repeated
templates in order; its errors are re-raised as CpmErrors. PANs and track data never
appear in a repr, str or error message: they are masked to the first 6 and last 4 digits.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from iso8583.errors import DecodeError, EncodeError
from iso8583.masking import mask_pan
from iso8583.tlv import BerTlvNode, ber_tag_bytes, decode_ber_tlv_nodes, encode_ber_tlv_nodes
from terminal.core.errors import CardDataError
from terminal.core.qr.errors import CpmError, PaymentCodeError
from terminal.core.tracks import Track2, parse_track2_equivalent

__all__ = [
    "CpmPayload",
    "CpmTemplate",
    "NumericPaymentCode",
    "Pan",
    "Tlv",
    "Track2",
    "WalletScheme",
    "build_cpm",
    "detect_wallet_scheme",
    "encode_tlv",
    "parse_cpm",
    "parse_numeric_code",
    "parse_payment_code",
    "read_tlv",
]

_PFI_TAG = "85"
_PFI_VALUE = b"CPV01"
_APPLICATION = "61"
_COMMON = "62"
_MAX_DEPTH = 8
_MAX_TAG_BYTES = 3
_SENSITIVE_TAGS = frozenset({"56", "57", "5A", "9F1F", "9F20", "9F6B"})
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_DIGITS = frozenset("0123456789")


def _is_digits(text: str) -> bool:
    return bool(text) and all(ch in _DIGITS for ch in text)


def _mask(digits: str) -> str:
    """The project's one masking rule (first 6 / last 4 at most, at least 6 hidden)."""
    return mask_pan(digits)


def _join(parent: str, tag: str) -> str:
    return f"{parent}.{tag}"


# --- BER-TLV -----------------------------------------------------------------------------
# The codec is iso8583.tlv's list form (repeated 61 templates are legal here); this section
# only adds the CPM profile (no padding, tags of at most 3 bytes, 8 template levels) and the
# ``Tlv`` model with its masked repr.


def _tag_bytes(tag: str) -> bytes:
    """Validate a tag: uppercase hex, BER structure (continuation bits), at most 3 bytes."""
    try:
        raw = ber_tag_bytes(tag)
    except EncodeError:
        raw = b""
    if not raw or len(raw) > _MAX_TAG_BYTES or tag != raw.hex().upper():
        raise CpmError(f"{tag!r} is not a valid 1-3 byte BER-TLV tag in uppercase hex")
    return raw


@dataclass(frozen=True, slots=True, repr=False)
class Tlv:
    """One BER-TLV data object; a constructed object's parsed content is in ``children``.

    ``value`` is the content bytes; a constructed object's is the canonical encoding of
    ``children``, which ``encode`` writes. ``offset`` is the byte index of the tag in the
    decoded data and is not compared. The repr hides values of PAN and track-data tags.
    """

    tag: str
    value: bytes
    children: tuple[Tlv, ...] = ()
    offset: int | None = field(default=None, compare=False)

    @classmethod
    def of(cls, tag: str, value: bytes) -> Tlv:
        """A primitive data object."""
        _tag_bytes(tag)
        return cls(tag, bytes(value))

    @classmethod
    def template(cls, tag: str, children: Iterable[Tlv]) -> Tlv:
        """A constructed data object whose value is the encoding of ``children``."""
        if not _tag_bytes(tag)[0] & 0x20:
            raise CpmError("tag is primitive, it cannot hold a template", tag=tag)
        kids = tuple(children)
        return cls(tag, encode_tlv(kids), kids)

    @property
    def is_constructed(self) -> bool:
        """BER bit 6 of the first tag byte: the value is itself TLV data."""
        return bool(int(self.tag[:2], 16) & 0x20)

    def encode(self) -> bytes:
        return encode_tlv((self,))

    def find(self, tag: str) -> Tlv | None:
        """The first child with ``tag``, if any."""
        return next((kid for kid in self.children if kid.tag == tag), None)

    def node(self) -> tuple[str, str | list[tuple[str, object]]]:
        """This object in iso8583.tlv's list form (``(tag, hex or child nodes)``)."""
        if self.is_constructed:
            return self.tag, [kid.node() for kid in self.children]
        return self.tag, self.value.hex().upper()

    def __repr__(self) -> str:
        if self.children:
            return f"Tlv({self.tag!r}, children={self.children!r})"
        if self.tag in _SENSITIVE_TAGS:
            return f"Tlv({self.tag!r}, <{len(self.value)} bytes masked>)"
        return f"Tlv({self.tag!r}, {self.value.hex().upper()!r})"


def _path(path: tuple[str, ...]) -> str | None:
    """iso8583's ``("tag 61", "tag 5A")`` as the CPM tag path ``"61.5A"``."""
    return ".".join(part.removeprefix("tag ") for part in path) or None


def encode_tlv(objects: Iterable[Tlv]) -> bytes:
    """Concatenate the encodings of ``objects``."""
    try:
        return encode_ber_tlv_nodes([obj.node() for obj in objects])
    except EncodeError as exc:
        raise CpmError(exc.reason, tag=_path(exc.path)) from None


def _from_node(node: BerTlvNode) -> Tlv:
    tag, value, offset = node
    if isinstance(value, str):
        return Tlv(tag, bytes.fromhex(value), (), offset)
    kids = tuple(_from_node(kid) for kid in value)
    return Tlv(tag, encode_tlv(kids), kids, offset)


def read_tlv(data: bytes) -> tuple[Tlv, ...]:
    """Parse BER-TLV ``data`` (multi-byte tags, long lengths, constructed tags recursively).

    Faults are CpmErrors with the byte offset iso8583.tlv reports (the faulty tag, length
    or padding byte) and the tag path.
    """
    try:
        nodes = decode_ber_tlv_nodes(
            data, padding=False, max_depth=_MAX_DEPTH, max_tag_bytes=_MAX_TAG_BYTES
        )
    except DecodeError as exc:
        raise CpmError(exc.reason, offset=exc.offset, tag=_path(exc.path)) from None
    return tuple(_from_node(node) for node in nodes)


# --- card data ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class Pan:
    """A primary account number whose repr and str show only the first 6 and last 4."""

    digits: str

    def __post_init__(self) -> None:
        if not (12 <= len(self.digits) <= 19 and _is_digits(self.digits)):
            raise CpmError(f"a PAN is 12-19 digits, got {len(self.digits)} characters")

    @property
    def masked(self) -> str:
        return _mask(self.digits)

    @property
    def last4(self) -> str:
        return self.digits[-4:]

    def encode(self) -> bytes:
        """EMV ``cn`` format: BCD, padded on the right with ``F``."""
        return bytes.fromhex(self.digits + "F" * (len(self.digits) % 2))

    def __repr__(self) -> str:
        return f"Pan({self.masked!r})"

    def __str__(self) -> str:
        return self.masked


def _fail(obj: Tlv, path: str, reason: str) -> CpmError:
    return CpmError(reason, offset=obj.offset, tag=path)


def _decode_pan(obj: Tlv, path: str) -> Pan:
    digits = obj.value.hex().upper().rstrip("F")
    if not (12 <= len(digits) <= 19 and _is_digits(digits)):
        raise _fail(obj, path, "PAN is not 12-19 BCD digits padded with F")
    return Pan(digits)


_TRACK2_SHAPE = "is not PAN D YYMM service-code data"


def _decode_track2(obj: Tlv, path: str) -> Track2:
    try:
        return parse_track2_equivalent(obj.value)
    except CardDataError as exc:
        what = "has an invalid expiry month" if "month" in exc.reason else _TRACK2_SHAPE
        raise _fail(obj, path, f"track 2 equivalent data {what}") from None


def _ascii(low: int, high: int, what: str) -> Callable[[Tlv, str], str]:
    def decode(obj: Tlv, path: str) -> str:
        text = obj.value.decode("ascii", errors="replace")
        if not (low <= len(obj.value) <= high and text.isascii() and text.isprintable()):
            raise _fail(obj, path, f"{what} must be {low}-{high} printable ASCII characters")
        return text

    return decode


def _hex(low: int, high: int, what: str) -> Callable[[Tlv, str], str]:
    def decode(obj: Tlv, path: str) -> str:
        if not low <= len(obj.value) <= high:
            raise _fail(obj, path, f"{what} must be {low}-{high} bytes, got {len(obj.value)}")
        return obj.value.hex().upper()

    return decode


def _decode_last4(obj: Tlv, path: str) -> str:
    digits = obj.value.hex()
    if len(obj.value) != 2 or not _is_digits(digits):
        raise _fail(obj, path, "last 4 digits of PAN must be 2 BCD bytes")
    return digits


def _decode_language(obj: Tlv, path: str) -> str:
    text = obj.value.decode("ascii", errors="replace")
    if not (2 <= len(text) <= 8 and len(text) % 2 == 0 and text.isascii() and text.isalpha()):
        raise _fail(obj, path, "language preference must be 1-4 two-letter ISO 639 codes")
    return text


_DECODERS: dict[str, Callable[[Tlv, str], object]] = {
    "4F": _hex(5, 16, "application identifier"),
    "50": _ascii(1, 16, "application label"),
    "57": _decode_track2,
    "5A": _decode_pan,
    "5F20": _ascii(2, 26, "cardholder name"),
    "5F2D": _decode_language,
    "5F50": _ascii(1, 255, "issuer URL"),
    "9F08": _hex(2, 2, "application version number"),
    "9F25": _decode_last4,
}


@dataclass(frozen=True, slots=True)
class CpmTemplate:
    """An Application Template (61) or Common Data Template (62) with typed accessors."""

    tlv: Tlv

    def get(self, tag: str) -> Tlv | None:
        return self.tlv.find(tag)

    def _decoded(self, tag: str) -> object | None:
        obj = self.tlv.find(tag)
        return None if obj is None else _DECODERS[tag](obj, _join(self.tlv.tag, tag))

    def _text(self, tag: str) -> str | None:
        value = self._decoded(tag)
        return value if isinstance(value, str) else None

    @property
    def aid(self) -> str | None:
        """Application identifier (ADF name, tag 4F) in hex."""
        return self._text("4F")

    @property
    def label(self) -> str | None:
        return self._text("50")

    @property
    def pan(self) -> Pan | None:
        """PAN from tag 5A, else from the track 2 equivalent data."""
        value = self._decoded("5A")
        if isinstance(value, Pan):
            return value
        track2 = self.track2
        return Pan(track2.pan) if track2 else None

    @property
    def track2(self) -> Track2 | None:
        value = self._decoded("57")
        return value if isinstance(value, Track2) else None

    @property
    def cardholder_name(self) -> str | None:
        return self._text("5F20")

    @property
    def language_preference(self) -> str | None:
        return self._text("5F2D")

    @property
    def issuer_url(self) -> str | None:
        return self._text("5F50")

    @property
    def last4(self) -> str | None:
        """Last 4 digits of the PAN (9F25), for wallets that do not send the PAN itself."""
        return self._text("9F25")

    @property
    def transparent(self) -> tuple[Tlv, ...]:
        """Issuer data (9F26 cryptogram, 9F36 ATC, ...) from the 63 or 64 template."""
        inner = self.tlv.find("63" if self.tlv.tag == _APPLICATION else "64")
        return inner.children if inner else ()

    def validate(self) -> None:
        """Decode every known field once so a malformed one fails at parse time."""
        seen: set[str] = set()
        for obj in self.tlv.children:
            path = _join(self.tlv.tag, obj.tag)
            if obj.tag in seen:
                raise _fail(obj, path, "duplicate tag in template")
            seen.add(obj.tag)
            decoder = _DECODERS.get(obj.tag)
            if decoder is not None:
                decoder(obj, path)


@dataclass(frozen=True, slots=True)
class CpmPayload:
    """A validated EMVCo CPM code: the top-level data objects in order."""

    records: tuple[Tlv, ...]

    @property
    def format_indicator(self) -> str:
        return self.records[0].value.decode("ascii")

    @property
    def applications(self) -> tuple[CpmTemplate, ...]:
        return tuple(CpmTemplate(obj) for obj in self.records if obj.tag == _APPLICATION)

    @property
    def common_data(self) -> tuple[CpmTemplate, ...]:
        return tuple(CpmTemplate(obj) for obj in self.records if obj.tag == _COMMON)

    @property
    def pan(self) -> Pan | None:
        """The PAN from the first application that has one, else from common data."""
        for template in (*self.applications, *self.common_data):
            if (pan := template.pan) is not None:
                return pan
        return None

    def to_bytes(self) -> bytes:
        return encode_tlv(self.records)

    def to_base64(self) -> str:
        return base64.b64encode(self.to_bytes()).decode("ascii")


def parse_cpm(text: str) -> CpmPayload:
    """Decode and validate Base64 EMVCo CPM data.

    Base64 faults report a character offset (``unit == "char"``), TLV faults a byte offset
    into the decoded data and the tag path (e.g. ``"62.5A"``).
    """
    if not text:
        raise CpmError("payment code is empty", offset=0, unit="char")
    for index, char in enumerate(text):
        if char not in _BASE64_ALPHABET:
            raise CpmError(f"character {char!r} is not Base64", offset=index, unit="char")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise CpmError(_base64_problem(text), unit="char") from None
    records = read_tlv(data)
    if not records:
        raise CpmError("no data objects")
    first = records[0]
    if first.tag != _PFI_TAG:
        raise CpmError("tag 85 (payload format indicator) must come first", offset=0, tag=first.tag)
    if first.value != _PFI_VALUE:
        raise CpmError(
            f"payload format indicator must be 'CPV01', got {first.value!r}", offset=0, tag="85"
        )
    for obj in records[1:]:
        if obj.tag not in (_APPLICATION, _COMMON):
            raise CpmError(
                "only application (61) and common data (62) templates may follow tag 85",
                offset=obj.offset,
                tag=obj.tag,
            )
        CpmTemplate(obj).validate()
    if not any(obj.tag == _APPLICATION for obj in records):
        raise CpmError("at least one application template (tag 61) is required")
    return CpmPayload(records)


def _base64_problem(text: str) -> str:
    """Why Base64 text does not decode, in words (not binascii's "Incorrect padding")."""
    body = text.rstrip("=")
    if "=" in body:
        return f"'=' inside the code at char {body.index('=')}: '=' may only pad the end"
    if len(body) % 4 == 1:
        return f"{len(text)} characters cannot be Base64 (one character too many or missing)"
    return (
        f"{len(text)} characters are not a whole number of Base64 blocks: the code is cut "
        "off or its '=' padding is missing (scan it again)"
    )


def build_cpm(applications: Sequence[Sequence[Tlv]], common: Sequence[Sequence[Tlv]] = ()) -> str:
    """Base64 CPM text for the given template contents (mainly for tests and the emulator)."""
    records = [Tlv.of(_PFI_TAG, _PFI_VALUE)]
    records += [Tlv.template(_APPLICATION, app) for app in applications]
    records += [Tlv.template(_COMMON, data) for data in common]
    text = base64.b64encode(encode_tlv(records)).decode("ascii")
    parse_cpm(text)
    return text


# --- numeric wallet codes ----------------------------------------------------------------


class WalletScheme(Enum):
    """Wallet that issued a numeric payment code, recognised by prefix and length."""

    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    UNIONPAY = "unionpay"
    UNKNOWN = "unknown"


def detect_wallet_scheme(code: str) -> WalletScheme:
    """Alipay: 25-30 + 16-24 digits; WeChat Pay: 10-15 + 18; UnionPay: 62 + 19 digits."""
    if len(code) < 2 or not _is_digits(code):
        return WalletScheme.UNKNOWN
    prefix, length = int(code[:2]), len(code)
    if 10 <= prefix <= 15 and length == 18:
        return WalletScheme.WECHAT_PAY
    if 25 <= prefix <= 30 and 16 <= length <= 24:
        return WalletScheme.ALIPAY
    if prefix == 62 and length == 19:
        return WalletScheme.UNIONPAY
    return WalletScheme.UNKNOWN


@dataclass(frozen=True, slots=True, repr=False)
class NumericPaymentCode:
    """A one-time numeric wallet code; a bearer credential, so its repr is masked too."""

    code: str
    scheme: WalletScheme

    @property
    def masked(self) -> str:
        return _mask(self.code)

    def __repr__(self) -> str:
        return f"NumericPaymentCode({self.masked!r}, {self.scheme})"

    def __str__(self) -> str:
        return self.masked


def parse_numeric_code(text: str) -> NumericPaymentCode:
    """Validate 16-24 ASCII digits and detect the wallet."""
    for index, char in enumerate(text):
        if char not in _DIGITS:
            raise PaymentCodeError(f"character {char!r} is not a digit", offset=index)
    if not 16 <= len(text) <= 24:
        raise PaymentCodeError(f"a numeric payment code has 16-24 digits, got {len(text)}")
    return NumericPaymentCode(text, detect_wallet_scheme(text))


def parse_payment_code(text: str) -> CpmPayload | NumericPaymentCode:
    """Route scanner input: digits are a wallet code, anything else must be CPM Base64.

    Trailing whitespace (scanners end with CR/LF) is ignored; offsets stay valid because
    only the end is trimmed.
    """
    code = text.rstrip()
    if not code:
        raise PaymentCodeError("payment code is empty", offset=0)
    if all(char in _DIGITS for char in code):
        return parse_numeric_code(code)
    if code.startswith("000201"):
        raise PaymentCodeError(
            "this is a merchant-presented (EMVCo MPM) payload, not a customer payment code",
            offset=0,
        )
    return parse_cpm(code)
