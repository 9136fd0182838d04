"""The terminal's session with the host: the link, the working keys, one exchange at a time.

Why a session object: sign-on, MACs and the "A7 key exchange required" retry are the same
for every message, and must never interleave on the one link. Keys are stored as received
(encrypted under the TMK) and opened into memory only here; clear keys are dropped on close.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from iso8583.acquirer.model import Request, Response, TxnKind
from iso8583.acquirer.security import WorkingKeys, open_session_keys
from iso8583.errors import CryptoError
from iso8583.spec import Spec
from terminal.config import TerminalConfig
from terminal.core.events import Event, SignedOn
from terminal.core.ports import Counters, KeyStore, Link
from terminal.core.transactions import build_request
from terminal.engine.errors import KeysRejectedError, SignOnError
from terminal.engine.wire import KEY_TROUBLE, Wire

__all__ = ["HostSession", "RequestBuilder"]

#: Builds the request with the keys in force (a PIN block must be made under the PIN key
#: the host holds, so a request is rebuilt after a sign-on).
RequestBuilder = Callable[[WorkingKeys | None], Request]


class HostSession:
    """Serialises exchanges on one link and keeps the working keys in memory."""

    def __init__(
        self,
        config: TerminalConfig,
        spec: Spec,
        link: Link,
        keystore: KeyStore,
        counters: Counters,
        emit: Callable[[Event], None],
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.wire = Wire(spec, link, emit)
        self._keystore = keystore
        self._counters = counters
        self._emit = emit
        self._clock = clock
        self._lock = asyncio.Lock()
        self._abandoned = False
        self.keys: WorkingKeys | None = self._load_keys()

    def _load_keys(self) -> WorkingKeys | None:
        """Stored keys opened under our TMK; keys that fail their KCV mean a new sign-on."""
        stored = self._keystore.load()
        if stored is None:
            return None
        try:
            return open_session_keys(stored, self.config.tmk)
        except CryptoError:
            return None

    @property
    def endpoint(self) -> str:
        return self.wire.link.endpoint

    async def connect(self) -> None:
        await self.wire.connect()

    async def close(self) -> None:
        """Close the link and forget the clear keys (they are reloaded from the store)."""
        self.keys = None
        with contextlib.suppress(Exception):
            await self.wire.link.close()

    def now(self) -> datetime:
        return self._clock().replace(microsecond=0)

    def request(self, kind: TxnKind, **values: Any) -> Request:
        """A request of ``kind`` with a fresh STAN, the open batch and the current time."""
        return build_request(
            kind,
            self.config,
            stan=self._counters.next_stan(),
            local_time=self.now(),
            batch=self._counters.batch(),
            **values,
        )

    async def signon(self) -> Response:
        """Sign on now; raises SignOnError, or a LinkError when the host is unreachable."""
        async with self._lock:
            return await self._signon()

    async def ensure_keys(self) -> WorkingKeys:
        async with self._lock:
            if self.keys is None:
                await self._signon()
            assert self.keys is not None
            return self.keys

    async def _signon(self) -> Response:
        request = self.request(TxnKind.SIGNON)
        response = await self.wire.exchange(
            request, mac_key=None, timeout=self.config.response_timeout
        )
        if not response.approved:
            raise SignOnError(f"sign-on declined: {response.response_code}")
        if response.keys is None:
            raise SignOnError("sign-on answer carries no working keys")
        try:
            keys = open_session_keys(response.keys, self.config.tmk)
        except CryptoError as exc:
            raise KeysRejectedError(
                "working keys rejected: the host's key block does not verify under our TMK"
                f" (KCV {self.config.tmk.kcv}); does the host use another master key?"
                " check tmk in `posemu config show`"
            ) from exc
        self._keystore.save(response.keys)
        self.keys = keys
        self._emit(SignedOn(keys.pin_key.kcv, keys.mac_key.kcv))
        return response

    async def send(self, build: RequestBuilder, *, mac: bool = True) -> Response:
        """Exchange one request; on A7/A0 sign on and retry it once with fresh keys.

        If the caller is cancelled mid-exchange, the connection is dropped before the next
        one: an answer to the abandoned request must not wait on it.
        """
        async with self._lock:
            if self._abandoned:
                self._abandoned = False
                await self.wire.link.close()
            try:
                if mac and self.keys is None:
                    await self._signon()
                response = await self._exchange(build, mac=mac)
                if mac and response.response_code in KEY_TROUBLE:
                    try:
                        await self._signon()
                    except SignOnError as exc:  # the host did answer: declined, not lost
                        raise type(exc)(exc.reason, answer=response) from exc
                    response = await self._exchange(build, mac=mac)
            except asyncio.CancelledError:
                self._abandoned = True
                raise
            return response

    async def _exchange(self, build: RequestBuilder, *, mac: bool) -> Response:
        keys = self.keys
        request = build(keys)
        mac_key = keys.mac_key if mac and keys is not None else None
        return await self.wire.exchange(
            request, mac_key=mac_key, timeout=self.config.response_timeout
        )
