"""One request out, its answer back: pack, MAC, frame, send, wait, match, verify.

Why apart from the service: this is where bytes become logical messages, and where a reply
stops being trusted. A reply is matched to its request by response MTI and STAN (anything
else on the line is a stale answer and is skipped until the deadline); when the request was
MAC'd the reply must carry a valid MAC, except A7/A0 (the host has no key, or a different
one: nothing was processed, so the caller may sign on and retry).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from iso8583.acquirer.model import Request, Response
from iso8583.acquirer.profiles import profile_for
from iso8583.acquirer.security import apply_mac, verify_message_mac
from iso8583.errors import CryptoError, DecodeError, EncodeError
from iso8583.keys import Key
from iso8583.message import Message
from iso8583.spec import Spec
from terminal.core.errors import LinkTimeout
from terminal.core.events import Connecting, Event, Received, Sent, Waiting
from terminal.core.ports import Link
from terminal.core.trace import MessageTraced, trace_record
from terminal.engine.errors import EngineError, HostProtocolError

__all__ = ["KEY_TROUBLE", "ResponseMacError", "Wire"]

#: Answers that mean "your keys are missing or wrong here": nothing was processed.
KEY_TROUBLE = frozenset({"A7", "A0"})


class ResponseMacError(HostProtocolError):
    """The reply's MAC is missing or wrong: it cannot be trusted (a reversal follows)."""


class Wire:
    """Exchanges logical requests over a :class:`~terminal.net.link.Link`."""

    def __init__(self, spec: Spec, link: Link, emit: Callable[[Event], None]) -> None:
        self.spec = spec
        self.profile = profile_for(spec)
        self.link = link
        self._emit = emit

    async def connect(self) -> None:
        """Open the link now (raises ConnectError): before a request is marked SENT."""
        if not self.link.connected:
            self._emit(Connecting(self.link.endpoint))
        await self.link.connect()

    def _trace(
        self,
        direction: str,
        message: Message,
        request: Request,
        size: int,
        elapsed_ms: float,
        note: str = "",
    ) -> None:
        try:
            record = trace_record(
                direction, message, self.spec, kind=request.kind.value, size=size,
                elapsed_ms=elapsed_ms, note=note,
            )  # fmt: skip
        except Exception:  # a trace must never break a payment
            return
        self._emit(record)

    def _trace_undecodable(
        self, request: Request, size: int, elapsed_ms: float, exc: Exception
    ) -> None:
        self._emit(
            MessageTraced(
                direction="received",
                mti="????",
                stan="",
                kind=request.kind.value,
                spec=self.spec.name,
                at=datetime.now(),
                size=size,
                elapsed_ms=elapsed_ms,
                fields=(),
                note=f"undecodable: {exc}",
            )
        )

    async def exchange(self, request: Request, *, mac_key: Key | None, timeout: float) -> Response:
        """Send ``request`` (MAC'd with ``mac_key`` when given) and return its answer."""
        message = self.profile.request_to_message(request)
        try:
            if mac_key is not None:
                message = apply_mac(message, self.spec, mac_key)
            payload = self.spec.codec.pack(message)
        except (EncodeError, CryptoError) as exc:
            raise EngineError(f"cannot encode {request.kind.value} request: {exc}") from exc
        expected = self.profile.response_mti(message.mti)
        await self.connect()
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        await self.link.send(payload)
        self._trace("sent", message, request, len(payload), 0.0)
        self._emit(Sent(request.kind, request.stan, message.mti))
        self._emit(Waiting(request.kind, request.stan, timeout))
        deadline = sent_at + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self.link.close()
                raise LinkTimeout(f"no answer within {timeout:g} s", endpoint=self.link.endpoint)
            try:
                raw = await self.link.receive(remaining)
            except LinkTimeout as exc:  # say the configured time, not what was left of it
                raise LinkTimeout(
                    f"no answer within {timeout:g} s", endpoint=self.link.endpoint
                ) from exc
            elapsed = (loop.time() - sent_at) * 1000
            try:
                reply = self.spec.codec.unpack(raw)
            except DecodeError as exc:
                self._trace_undecodable(request, len(raw), elapsed, exc)
                await self.link.close()
                raise HostProtocolError(f"undecodable reply ({exc})") from exc
            if reply.mti != expected or str(reply.get(11, "")) != request.stan:
                self._trace("received", reply, request, len(raw), elapsed, "stale, skipped")
                continue  # a stale answer to an earlier request: not ours
            self._trace("received", reply, request, len(raw), elapsed)
            try:
                response = self.profile.response_from_message(reply, request.kind)
            except (DecodeError, ValueError) as exc:
                raise HostProtocolError(f"malformed {reply.mti} ({exc})") from exc
            self._emit(Received(request.kind, request.stan, response.response_code))
            if mac_key is not None and response.response_code not in KEY_TROUBLE:
                try:
                    verify_message_mac(reply, self.spec, mac_key)
                except CryptoError as exc:
                    raise ResponseMacError(f"{reply.mti} MAC does not verify") from exc
            return response
