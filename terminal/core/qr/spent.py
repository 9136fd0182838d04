"""The port for "a wallet payment code pays once": what the engine asks of a store."""

from __future__ import annotations

from typing import Protocol

__all__ = ["PaymentCodeLedger"]


class PaymentCodeLedger(Protocol):
    """Codes this terminal has sent; ``seen`` gives the journal id that spent one."""

    def seen(self, code: str) -> int | None: ...
    def add(self, code: str, journal_id: int) -> None: ...
