"""The host's hot-path shortcuts give exactly what the general code gives.

Framing: the direct length/TPDU/header encoders and parsers against the construct layouts.
MAC: the long-lived per-key CBC context against a fresh-context retail MAC. Profiles: the
same-year shortcut of the date rebuild against the three-year search. Engine: a reply decided
without its log line is the same reply. Server: replies held back behind a late one and past
the per-connection limit, and a peer that half-closes, are answered in order.
"""

from __future__ import annotations

import os
import random
import socket
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583 import get_spec
from iso8583.acquirer import Request, TxnKind, apply_mac, open_session_keys, profile_for
from iso8583.acquirer.profiles import _combine
from iso8583.errors import DecodeError, FramingError
from iso8583.framing import (
    _LENGTH_CODECS,
    _TPDU_CODEC,
    FrameFormat,
    LengthHeader,
    StreamFramer,
    Tpdu,
    _prefix_codec,
)
from iso8583.host import EmbeddedHost, HostEngine
from iso8583.host import server as host_server
from iso8583.keys import KeyAlgorithm, block_cipher, single_des
from iso8583.mac import MacAlgorithm, MacPadding, compute_mac
from terminal.core.testcards import get_card
from tests.host.client import HostClient
from tests.host.conftest import FAST_RULES

_KINDS = [LengthHeader.BINARY2, LengthHeader.ASCII4, LengthHeader.BCD2]


def _construct_wrap(fmt: FrameFormat, payload: bytes, tpdu: Tpdu | None, header: bytes) -> bytes:
    """The frame as the construct layouts alone build it (the declared layout)."""
    container: dict[str, object] = {"header": header}
    if tpdu is not None:
        container["tpdu"] = {"id": tpdu.id, "destination": tpdu.destination, "source": tpdu.source}
    prefix = bytes(_prefix_codec(fmt.tpdu, fmt.header_length).build(container))
    body = len(prefix) + len(payload)
    declared = body + (fmt.length_header.size if fmt.includes_itself else 0)
    return bytes(_LENGTH_CODECS[fmt.length_header].build(declared)) + prefix + payload


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(_KINDS),
    includes_itself=st.booleans(),
    with_tpdu=st.booleans(),
    header_length=st.sampled_from([0, 1, 6]),
    payload=st.binary(min_size=0, max_size=600),
    ids=st.tuples(st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
    header_seed=st.binary(min_size=6, max_size=6),
)
def test_wrap_and_feed_match_the_construct_layouts(
    kind, includes_itself, with_tpdu, header_length, payload, ids, header_seed
):
    fmt = FrameFormat(
        kind, includes_itself=includes_itself, tpdu=with_tpdu, header_length=header_length
    )
    tpdu = Tpdu(*ids) if with_tpdu else None
    header = header_seed[:header_length]
    if not payload and (with_tpdu or header_length):
        payload = b"x"
    wire = fmt.wrap(payload, tpdu=tpdu, header=header)
    assert wire == _construct_wrap(fmt, payload, tpdu, header)
    # Parsing: the framer (whole, and byte by byte) and unwrap agree with construct's parse.
    size = kind.size
    declared = int(_LENGTH_CODECS[kind].parse(wire[:size]))
    assert declared == len(wire) - (0 if includes_itself else size)
    expected_tpdu = None
    if with_tpdu:
        t = _TPDU_CODEC.parse(wire[size : size + 5])
        expected_tpdu = Tpdu(t.id, destination=t.destination, source=t.source)
    for frame in (
        fmt.unwrap(wire),
        *StreamFramer(fmt).feed(wire),
        *[f for i in range(len(wire)) for f in _feeder(fmt).feed(wire[i : i + 1])],
    ):
        if not payload:
            continue
        assert frame.tpdu == expected_tpdu
        assert frame.header == header
        assert frame.payload == payload
        assert type(frame.payload) is bytes
        assert type(frame.header) is bytes


_FEEDERS: dict[FrameFormat, StreamFramer] = {}


def _feeder(fmt: FrameFormat) -> StreamFramer:
    """One framer per format, fed a whole frame byte by byte across calls."""
    return _FEEDERS.setdefault(fmt, StreamFramer(fmt))


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        (LengthHeader.ASCII4, b"00a1", "non-digit ASCII length header b'00a1'"),
        (LengthHeader.ASCII4, b" 123", "non-digit ASCII length header b' 123'"),
        (LengthHeader.BCD2, bytes.fromhex("0A10"), "invalid BCD nibble in length header 0A10"),
    ],
)
def test_bad_length_headers_keep_their_errors(kind, raw, message):
    with pytest.raises(FramingError) as exc_info:
        StreamFramer(FrameFormat(kind)).feed(raw)
    assert exc_info.value.reason == message
    assert exc_info.value.offset == 0


def _reference_retail(data: bytes, key: bytes, padding: MacPadding) -> bytes:
    """ISO 9797-1 alg. 3 with fresh cipher contexts for every MAC."""
    if padding is MacPadding.METHOD_2:
        data += b"\x80"
    elif not data:
        data = bytes(8)
    data += bytes(-len(data) % 8)
    chained = bytes(8)
    if len(data) > 8:
        enc = Cipher(single_des(key[:8]), modes.CBC(bytes(8))).encryptor()
        chained = (enc.update(data[:-8]) + enc.finalize())[-8:]
    last = bytes(a ^ b for a, b in zip(chained, data[-8:], strict=True))
    enc = Cipher(block_cipher(key, KeyAlgorithm.TDES), modes.ECB()).encryptor()
    return enc.update(last) + enc.finalize()


def test_retail_mac_with_long_lived_contexts_matches_fresh_contexts(monkeypatch):
    rng = random.Random(8583)
    keys = [rng.randbytes(16) for _ in range(7)]
    # A cache smaller than the key set: contexts are evicted and rebuilt in between.
    monkeypatch.setattr("iso8583.mac._CIPHER_CACHE_SIZE", 3)
    for _ in range(3000):
        key = rng.choice(keys)
        data = rng.randbytes(rng.randrange(0, 260))
        padding = rng.choice([None, MacPadding.METHOD_1, MacPadding.METHOD_2])
        mac = compute_mac(data, key, MacAlgorithm.ISO9797_ALG3, padding=padding)
        assert mac == _reference_retail(data, key, padding or MacPadding.METHOD_1)


@settings(max_examples=500, deadline=None)
@given(
    now=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31)),
    shift=st.integers(-400 * 86400, 400 * 86400),
)
def test_date_rebuild_shortcut_matches_the_three_year_search(now, shift):
    when = now + timedelta(seconds=shift)
    mmdd, hhmmss = when.strftime("%m%d"), when.strftime("%H%M%S")
    best = None
    for year in (now.year - 1, now.year, now.year + 1):
        try:
            candidate = datetime(year, when.month, when.day, when.hour, when.minute, when.second)
        except ValueError:
            continue
        if best is None or abs(candidate - now) < abs(best - now):
            best = candidate
    assert _combine(mmdd, hhmmss, now) == best


def test_date_rebuild_errors_are_unchanged():
    with pytest.raises(DecodeError):
        _combine("0230", "120000", datetime(2025, 6, 1))
    with pytest.raises(DecodeError):
        _combine("1x01", "120000", datetime(2025, 6, 1))


@pytest.mark.parametrize("spec_name", ["iso87ascii", "iso93ascii", "cup"])
def test_reply_without_summary_is_the_same_reply(spec_name):
    spec = get_spec(spec_name)
    profile = profile_for(spec)
    now = datetime(2025, 6, 15, 12, 0, 0)
    engines = [HostEngine(spec, FAST_RULES), HostEngine(spec, FAST_RULES)]
    card = get_card("visa-approve")
    track2 = card.track2_data().for_iso8583()

    def request(kind: TxnKind, stan: int, **kw: object) -> Request:
        return Request(kind, f"{stan:06d}", now, "TERM0001", "MERCHANT0000001", **kw)

    signon = spec.codec.pack(profile.request_to_message(request(TxnKind.SIGNON, 1)))
    reply = spec.codec.unpack(engines[0].handle(signon, now=now).reply)
    keys = open_session_keys(profile.response_from_message(reply, TxnKind.SIGNON).keys)
    for engine in engines:  # the same working keys in both engines
        engine.restore(engine.ledger, {"TERM0001": keys})
    for stan, amount in enumerate((1000, 1068, 1099, 1051, 1000), start=2):
        msg = profile.request_to_message(
            request(TxnKind.SALE, stan, amount=amount, track2=track2, entry_mode="902")
        )
        raw = spec.codec.pack(apply_mac(msg, spec, keys.mac_key))
        full = engines[0].handle(raw, now=now)
        quiet = engines[1].handle(raw, now=now, summarize=False)
        assert full.summary
        assert quiet.summary == ""
        assert (full.delay, full.close, full.reply is None) == (
            quiet.delay,
            quiet.close,
            quiet.reply is None,
        )
        if full.reply is not None:
            a, b = spec.codec.unpack(full.reply), spec.codec.unpack(quiet.reply)
            # RRN and auth code are drawn per ledger; everything else is the same.
            for m in (a, b):
                m.fields.pop(37, None)
                m.fields.pop(38, None)
                m.fields.pop(64, None)
            assert a == b


def test_replies_held_back_past_the_pending_limit_come_in_order(monkeypatch):
    monkeypatch.setattr(host_server, "_MAX_PENDING", 8)
    with EmbeddedHost("iso87ascii", FAST_RULES) as h, HostClient(h.address, h.spec) as c:
        c.signon()
        card = c.card_fields("visa-approve")
        amounts = [1068] + [1000 + 100 * (i % 40) for i in range(60)]  # late first: all wait
        reqs = [c.request(TxnKind.SALE, amount=a, **card) for a in amounts]
        c.send_raw(b"".join(c.frame(c.spec.codec.pack(c.build(r))) for r in reqs))
        stans = [c.recv_message(timeout=5).fields[11] for _ in reqs]
        assert stans == [r.stan for r in reqs]
        assert c.sale(1000)[1].response_code == "00"  # reading resumed


def test_a_half_closed_peer_gets_its_answers_then_the_close():
    with EmbeddedHost("iso87ascii", FAST_RULES) as h, HostClient(h.address, h.spec) as c:
        c.signon()
        card = c.card_fields("visa-approve")
        reqs = [c.request(TxnKind.SALE, amount=a, **card) for a in (1068, 1000, 1051)]
        c.send_raw(b"".join(c.frame(c.spec.codec.pack(c.build(r))) for r in reqs))
        c.sock.shutdown(socket.SHUT_WR)
        codes = [c.recv_message(timeout=5).fields[39] for _ in reqs]
        assert codes == ["00", "00", "51"]
        assert c.closed_by_host(timeout=2.0)


def test_the_auth_code_source_is_fresh_after_a_fork():
    from iso8583.host import ledger as ledger_module

    entropy = ledger_module._ENTROPY
    entropy.randbits31()
    assert entropy.buf
    entropy.reset()  # what the after-fork hook runs in a child
    assert entropy.buf == b""
    assert entropy.pos == 0
    assert 0 <= entropy.randbits31() < 2**31
    assert len(entropy.buf) == ledger_module._ENTROPY_CHUNK


def test_mac_cache_holds_a_host_full_of_terminals():
    from iso8583 import mac as mac_module

    assert mac_module._CIPHER_CACHE_SIZE >= 1000
    key = os.urandom(16)
    data = os.urandom(100)
    assert compute_mac(data, key, MacAlgorithm.ISO9797_ALG3) == _reference_retail(
        data, key, MacPadding.METHOD_1
    )
