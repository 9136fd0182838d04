"""A small blocking terminal for the host tests: framing, profile, MAC with sign-on keys.

It plays the terminal's side of the acquirer protocol over a real socket the way the terminal
package does (profile.request_to_message, MAC on financial messages and reversals with the MAC
key from sign-on) and checks the MAC of the replies it gets back.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from iso8583.acquirer import (
    TEST_TMK,
    Original,
    Request,
    Response,
    TxnKind,
    WorkingKeys,
    apply_mac,
    open_session_keys,
    profile_for,
    verify_message_mac,
)
from iso8583.dialects.cup import CUP_HEADER
from iso8583.framing import Frame, StreamFramer, Tpdu
from iso8583.keys import Key
from iso8583.message import Message
from iso8583.pin import encrypt_pin_block
from iso8583.spec import Spec
from terminal.core.testcards import TestCard, get_card

__all__ = ["HostClient", "NoReply", "eventually"]

TID = "TERM0001"
MID = "MERCHANT0000001"
_STANS = itertools.count(1)


def eventually(predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
    """Poll ``predicate`` until it returns something truthy (the host works in its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


class NoReply(Exception):
    """The host did not answer within the timeout."""


class HostClient:
    def __init__(
        self,
        address: tuple[str, int],
        spec: Spec,
        *,
        tid: str = TID,
        mid: str = MID,
        tmk: Key = TEST_TMK,
        timeout: float = 5.0,
        batch: str = "000001",
    ) -> None:
        self.spec = spec
        self.profile = profile_for(spec)
        self.tid, self.mid, self.tmk, self.batch = tid, mid, tmk, batch
        self.timeout = timeout
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fmt = spec.frame_format
        self.framer = StreamFramer(fmt)
        self.tpdu = Tpdu(0x60, destination=0x0001, source=0x0000) if fmt.tpdu else None
        self.header = (
            CUP_HEADER if fmt.header_length == len(CUP_HEADER) else bytes(fmt.header_length)
        )
        self.frames: deque[Frame] = deque()
        self.keys: WorkingKeys | None = None
        self.last_message: Message | None = None
        self.last_frame: Frame | None = None

    # --- plumbing ------------------------------------------------------------------------------
    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> HostClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def next_stan() -> str:
        return f"{next(_STANS) % 1_000_000:06d}"

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def frame(self, payload: bytes) -> bytes:
        return self.spec.frame_format.wrap(payload, tpdu=self.tpdu, header=self.header)

    def recv_frame(self, timeout: float | None = None) -> Frame:
        """The next frame; NoReply on timeout, ConnectionError when the host closed."""
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        while not self.frames:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise NoReply from None
            if not data:
                raise ConnectionError("host closed the connection")
            self.frames.extend(self.framer.feed(data))
        return self.frames.popleft()

    def closed_by_host(self, timeout: float = 2.0) -> bool:
        """True when the host closes the connection (EOF or reset) within ``timeout``."""
        try:
            self.recv_frame(timeout)
        except NoReply:
            return False
        except (ConnectionError, OSError):
            return True
        return False

    def recv_message(self, timeout: float | None = None) -> Message:
        frame = self.recv_frame(timeout)
        self.last_frame = frame
        self.last_message = self.spec.codec.unpack(frame.payload)
        return self.last_message

    # --- protocol ------------------------------------------------------------------------------
    def request(self, kind: TxnKind, **fields: Any) -> Request:
        base: dict[str, Any] = {
            "stan": self.next_stan(),
            "local_time": datetime.now().replace(microsecond=0),
            "terminal_id": self.tid,
            "merchant_id": self.mid,
            "batch": self.batch,
        }
        base.update(fields)
        return Request(kind=kind, **base)

    def build(self, req: Request, *, mac: bool | None = None) -> Message:
        msg = self.profile.request_to_message(req)
        if mac is None:
            mac = (req.kind.financial or req.kind is TxnKind.REVERSAL) and self.keys is not None
        if mac:
            key = self.keys.mac_key if self.keys is not None else Key(bytes(16), TEST_TMK.algorithm)
            msg = apply_mac(msg, self.spec, key)
        return msg

    def send(self, req: Request, *, mac: bool | None = None) -> Message:
        msg = self.build(req, mac=mac)
        self.send_raw(self.frame(self.spec.codec.pack(msg)))
        return msg

    def read_response(self, req: Request, sent: Message, timeout: float | None = None) -> Response:
        reply = self.recv_message(timeout)
        resp = self.profile.response_from_message(reply, req.kind)
        if any(n in sent.fields for n in (64, 128)) and resp.response_code not in ("A7", "30"):
            assert self.keys is not None
            verify_message_mac(reply, self.spec, self.keys.mac_key)
        return resp

    def exchange(
        self, req: Request, *, mac: bool | None = None, timeout: float | None = None
    ) -> Response:
        sent = self.send(req, mac=mac)
        return self.read_response(req, sent, timeout)

    def signon(self) -> Response:
        resp = self.exchange(self.request(TxnKind.SIGNON))
        assert resp.response_code == "00", resp
        assert resp.keys is not None
        self.keys = open_session_keys(resp.keys, self.tmk)
        return resp

    # --- transactions --------------------------------------------------------------------------
    def card_fields(
        self, card: TestCard | str, *, pin: str | None = None, manual: bool = False
    ) -> dict[str, Any]:
        card = get_card(card) if isinstance(card, str) else card
        out: dict[str, Any] = {}
        if manual:
            out.update(pan=card.pan, expiry=card.expiry.yymm, entry_mode="012")
        else:
            out.update(track2=card.track2_data().for_iso8583(), entry_mode="902")
        if pin is not None:
            assert self.keys is not None
            out["pin_block"] = encrypt_pin_block(pin, card.pan, self.keys.pin_key)
        return out

    def sale(
        self,
        amount: int,
        card: TestCard | str = "visa-approve",
        *,
        pin: str | None = None,
        manual: bool = False,
        kind: TxnKind = TxnKind.SALE,
        **fields: Any,
    ) -> tuple[Request, Response]:
        req = self.request(
            kind, amount=amount, **self.card_fields(card, pin=pin, manual=manual), **fields
        )
        return req, self.exchange(req)

    def original_of(self, req: Request, resp: Response, *, amount: int | None = None) -> Original:
        return Original(
            kind=req.kind,
            stan=req.stan,
            local_time=req.local_time,
            rrn=resp.rrn,
            auth_code=resp.auth_code,
            amount=req.amount if amount is None else amount,
            batch=req.batch,
        )
