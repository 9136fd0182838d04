"""The terminal's own merchant-presented QR: one dynamic EMVCo payload per order.

Pure (no host, no store), so ``posemu qr mpm`` can build the same payload the engine shows
without loading the engine.
"""

from __future__ import annotations

from terminal.core.config import TerminalConfig
from terminal.core.money import format_amount
from terminal.core.qr.mpm import MerchantAccount, build_mpm
from terminal.core.receipts import Currency

__all__ = ["MPM_GUID", "mpm_payload", "order_reference"]

#: Globally unique identifier of the emulator's merchant account template (ID 26.00). In
#: capitals so the whole payload fits QR alphanumeric mode: version 7 instead of 9 for a
#: typical order, small enough to scan off a 100x32 terminal with its full quiet zone.
MPM_GUID = "COM.POSEMU.ACQUIRER"


def order_reference(config: TerminalConfig, batch: str, stan: str) -> str:
    """Unique per terminal and batch: ``TID-batch-STAN`` (at most 22 characters).

    The dashes matter: run together, the digits could pass the Luhn check and look like a
    card number to the store, which then (rightly) refuses to keep them.
    """
    return f"{config.terminal_id}-{batch}-{stan}"


def mpm_payload(config: TerminalConfig, amount: int, order_ref: str) -> str:
    """The dynamic EMVCo payload: terminal label 62.07 = TID, reference label 62.05 = order."""
    exponent = Currency.lookup(config.currency).exponent
    return build_mpm(
        merchant_accounts=(MerchantAccount("26", MPM_GUID, (("01", config.merchant_id),)),),
        mcc=config.merchant_category,
        currency=config.currency,
        amount=format_amount(amount, exponent),
        country=config.merchant_country,
        merchant_name=config.merchant_name[:25],
        city=config.merchant_city[:15],
        terminal_label=config.terminal_id,
        reference_label=order_ref,
    )
