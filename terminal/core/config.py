"""Terminal settings: one frozen dataclass with documented, bounded defaults.

Why bounded: a timeout of 0 or a retry count of 10 000 typed into a config file would turn a
payment terminal into a denial-of-service tool or a hung till, so ``__post_init__`` refuses
values outside sane ranges with a :class:`ConfigError` naming the setting.

The defaults describe the emulator's test terminal talking to the embedded host simulator;
real deployments override identities, host URL and keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from iso8583.acquirer.security import TEST_TMK
from iso8583.errors import CryptoError
from iso8583.framing import Tpdu
from iso8583.keys import Key, KeyAlgorithm
from terminal.core.errors import TerminalError

__all__ = ["DEFAULT_HOST", "ConfigError", "TerminalConfig"]

#: Where the acquirer host listens unless told otherwise (the simulator's default port).
DEFAULT_HOST = "tcp://127.0.0.1:8583"

_RECEIPT_WIDTHS = (32, 42, 48)


class ConfigError(TerminalError, ValueError):
    """A setting is outside its allowed range; ``setting`` names it."""

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(f"config {setting}: {reason}")


def _bounded(low: float, high: float) -> dict[str, Any]:
    return {"metadata": {"bounds": (low, high)}}


@dataclass(frozen=True, slots=True)
class TerminalConfig:
    """Everything the engine needs to know about this terminal and its acquirer link."""

    # --- identity (fields 41, 42, 43, 49) ----------------------------------------------------
    terminal_id: str = "POSEMU01"  # ans 8
    merchant_id: str = "POSEMU000000001"  # ans 15
    merchant_name: str = "POSEMU TEST MERCHANT"
    merchant_city: str = "SHANGHAI"
    merchant_country: str = "CN"  # ISO 3166 alpha-2, MPM ID 58
    merchant_category: str = "5999"  # MCC, MPM ID 52
    currency: str = "156"  # ISO 4217 numeric
    # --- link -------------------------------------------------------------------------------
    spec: str = "iso87ascii"  # dialect name understood by iso8583.get_spec
    host: str = DEFAULT_HOST  # tcp://HOST:PORT or tls://HOST:PORT
    tls_ca_file: str | None = None  # None: the system trust store
    tls_cert_file: str | None = None  # client certificate (mutual TLS)
    tls_key_file: str | None = None
    tls_check_hostname: bool = True
    #: Routing for dialects framed with a TPDU (cup); ignored by the others.
    tpdu: Tpdu = field(default_factory=lambda: Tpdu(0x60, 0x0001, 0x0000))
    connect_timeout: float = field(default=3.0, **_bounded(0.05, 60))  # seconds
    response_timeout: float = field(default=5.0, **_bounded(0.05, 120))  # seconds
    #: Reversal attempts within one operation before it is left in store-and-forward.
    reversal_attempts: int = field(default=3, **_bounded(1, 10))
    # --- QR ---------------------------------------------------------------------------------
    qr_entry_mode: str = "03"  # first two digits of field 22 for QR payments (network-specific)
    qr_poll_interval: float = field(default=1.0, **_bounded(0.05, 30))  # seconds
    qr_timeout: float = field(default=60.0, **_bounded(0.2, 600))  # seconds
    # --- capabilities -----------------------------------------------------------------------
    chip_capable: bool = True  # a chip card swiped here is asked for its chip
    #: Terminal master key as hex (the published test TMK by default; never log it).
    tmk_hex: str = field(default=TEST_TMK.material.hex().upper(), repr=False)
    # --- receipts ---------------------------------------------------------------------------
    receipt_width: int = 32  # 32, 42 or 48 columns
    customer_copy: bool = False  # also build the customer copy
    #: Lines printed under the merchant name (address, phone) and at the foot of every slip.
    receipt_header: tuple[str, ...] = ()
    receipt_footer: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            bounds = f.metadata.get("bounds")
            if bounds is None:
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f.name, f"expected a number, got {type(value).__name__}")
            low, high = bounds
            if not low <= value <= high:
                raise ConfigError(f.name, f"must be between {low:g} and {high:g}")
        self._check_text("terminal_id", self.terminal_id, 8)
        self._check_text("merchant_id", self.merchant_id, 15)
        self._check_text("merchant_name", self.merchant_name, 40)
        if self.merchant_city:
            self._check_text("merchant_city", self.merchant_city, 40)
        if not (len(self.currency) == 3 and self.currency.isascii() and self.currency.isdigit()):
            raise ConfigError("currency", "must be a 3-digit ISO 4217 numeric code")
        for name in ("receipt_header", "receipt_footer"):
            lines = getattr(self, name)
            if not isinstance(lines, tuple) or len(lines) > 8:
                raise ConfigError(name, "must be at most 8 lines")
            for line in lines:
                if not isinstance(line, str) or len(line) > 48 or not line.isprintable():
                    raise ConfigError(name, "lines are printable text, 48 characters at most")
        if not (len(self.qr_entry_mode) == 2 and self.qr_entry_mode.isdigit()):
            raise ConfigError("qr_entry_mode", "must be 2 digits")
        if self.receipt_width not in _RECEIPT_WIDTHS:
            raise ConfigError("receipt_width", f"must be one of {_RECEIPT_WIDTHS}")
        if not self.host.startswith(("tcp://", "tls://")):
            raise ConfigError("host", "must be tcp://HOST:PORT or tls://HOST:PORT")
        self.tmk  # noqa: B018 - validates the key material early

    @staticmethod
    def _check_text(setting: str, value: str, length: int) -> None:
        if not value or len(value) > length or not value.isascii() or not value.isprintable():
            raise ConfigError(setting, f"must be 1-{length} printable ASCII characters")

    @property
    def tmk(self) -> Key:
        """The terminal master key as a TDES key."""
        try:
            return Key.from_hex(self.tmk_hex, KeyAlgorithm.TDES)
        except CryptoError as exc:
            raise ConfigError(
                "tmk_hex", "must be 32 or 48 hex digits (a double or triple length TDES key)"
            ) from exc

    def with_(self, **changes: Any) -> TerminalConfig:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)
