"""QR payments for the terminal core: EMVCo MPM codes the terminal shows, the customer codes
(EMVCo CPM or numeric wallet codes) it scans, and text rendering of QR symbols.

Pure functions and frozen data only; every failure is a ``QrError`` with an offset and tag.
"""

from __future__ import annotations

from terminal.core.qr.cpm import (
    CpmPayload,
    CpmTemplate,
    NumericPaymentCode,
    Pan,
    Tlv,
    Track2,
    WalletScheme,
    build_cpm,
    detect_wallet_scheme,
    encode_tlv,
    parse_cpm,
    parse_numeric_code,
    parse_payment_code,
    read_tlv,
)
from terminal.core.qr.crc import crc16_ccitt_false, mpm_crc
from terminal.core.qr.errors import (
    CpmError,
    MpmCrcError,
    MpmError,
    PaymentCodeError,
    QrError,
    QrRenderError,
)
from terminal.core.qr.mpm import (
    AdditionalData,
    MerchantAccount,
    MerchantLanguage,
    MpmPayload,
    MpmRecord,
    PointOfInitiation,
    Tip,
    TipIndicator,
    build_mpm,
    encode_mpm,
    parse_mpm,
)
from terminal.core.qr.render import qr_matrix, render_qr

__all__ = [
    "AdditionalData",
    "CpmError",
    "CpmPayload",
    "CpmTemplate",
    "MerchantAccount",
    "MerchantLanguage",
    "MpmCrcError",
    "MpmError",
    "MpmPayload",
    "MpmRecord",
    "NumericPaymentCode",
    "Pan",
    "PaymentCodeError",
    "PointOfInitiation",
    "QrError",
    "QrRenderError",
    "Tip",
    "TipIndicator",
    "Tlv",
    "Track2",
    "WalletScheme",
    "build_cpm",
    "build_mpm",
    "crc16_ccitt_false",
    "detect_wallet_scheme",
    "encode_mpm",
    "encode_tlv",
    "mpm_crc",
    "parse_cpm",
    "parse_mpm",
    "parse_numeric_code",
    "parse_payment_code",
    "qr_matrix",
    "read_tlv",
    "render_qr",
]
