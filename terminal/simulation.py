"""The customer side of a QR payment, for test hosts only: something the wiring provides.

On a real acquirer the customer pays a merchant-presented QR with their own phone; on the
posemu host simulator a tester plays that customer. :class:`QrCustomer` does it the way a
wallet would: over a connection of its own (never the terminal's link), with the host's
test message (``QR_SIMULATE``: pay or decline an order by reference). It is not part of
the terminal's API: the engine knows nothing of it.
"""

from __future__ import annotations

import itertools
from datetime import datetime

from iso8583.acquirer.model import TxnKind
from iso8583.spec import Spec
from terminal.config import TerminalConfig
from terminal.core.transactions import build_request
from terminal.engine.wire import Wire
from terminal.net.link import link_for

__all__ = ["QrCustomer"]

#: The customer's own trace numbers, far from the terminal's (which start at 000001).
_FIRST_STAN = 900_001


class QrCustomer:
    """Pays or declines QR orders on a posemu host; returns the host's response code."""

    def __init__(self, config: TerminalConfig, spec: Spec) -> None:
        self._config = config
        self._spec = spec
        self._stans = itertools.count(_FIRST_STAN)

    async def pay(self, order_ref: str) -> str:
        return await self._simulate(f"PAY:{order_ref}")

    async def decline(self, order_ref: str, code: str = "05") -> str:
        return await self._simulate(f"DECLINE:{order_ref}:{code}")

    async def _simulate(self, text: str) -> str:
        stan = next(self._stans) % 1_000_000 or _FIRST_STAN
        request = build_request(
            TxnKind.QR_SIMULATE, self._config, stan=f"{stan:06d}",
            local_time=datetime.now().replace(microsecond=0), batch="000001", qr=text,
        )  # fmt: skip
        link = link_for(self._config, spec=self._spec)
        try:
            wire = Wire(self._spec, link, lambda _event: None)
            response = await wire.exchange(
                request, mac_key=None, timeout=self._config.response_timeout
            )
        finally:
            await link.close()
        return response.response_code
