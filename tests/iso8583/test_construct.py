"""Messages, fields and frames are construct objects, and the public API runs through them.

The instrumentation test below is the guard the issue asked for: a future shortcut that packs or
unpacks without the construct objects (a second hand-written codec) makes it fail. The other
tests use the constructs as a user would, inside their own ``Struct``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from construct import (
    Bytes,
    Construct,
    FixedSized,
    Int8ub,
    Int16ub,
    Prefixed,
    Rebuild,
    SizeofError,
    Struct,
    this,
)

import iso8583
from iso8583 import DecodeError, EncodeError, Message, Tpdu, get_spec
from iso8583.codec import MessageConstruct
from iso8583.composite import BerTlvField, CompositeField
from iso8583.dialects.cup import CUP_HEADER
from iso8583.fields import BcdField, BinaryField, FieldConstruct, HexField, TextField
from iso8583.framing import StreamFramer

SALE = Message(
    "0200",
    {
        2: "4761739001010119",
        3: "000000",
        4: "000000001000",
        11: "000123",
        22: "051",
        35: "4761739001010119=251220",
        41: "TERM0001",
        42: "MERCHANT0000001",
        49: "840",
        52: bytes.fromhex("0123456789ABCDEF"),
        55: {"9F02": "000000001000", "82": "5C00"},
    },
)


def _fresh(name: str) -> iso8583.Spec:
    """The dialect with an empty construct cache, so plans are compiled inside the test."""
    return dataclasses.replace(get_spec(name))


@pytest.mark.parametrize("name", ["iso87ascii", "iso87binary", "cup"])
def test_public_pack_and_unpack_run_the_construct_objects(monkeypatch, name):
    spec = _fresh(name)
    emitted: Counter[str] = Counter()
    ran: Counter[str] = Counter()

    def count_emit(cls: type, method: str) -> None:
        original = getattr(cls, method)

        def wrapper(self: FieldConstruct, n: int) -> Any:
            emitted[self.key] += 1
            return original(self, n)

        monkeypatch.setattr(cls, method, wrapper)

    for cls in (FieldConstruct, TextField, BcdField, BinaryField, HexField):
        for method in ("emit_decode", "emit_encode"):
            if method in vars(cls):
                count_emit(cls, method)
    for method in ("pack", "unpack"):
        original = getattr(MessageConstruct, method)

        def wrapper(self: MessageConstruct, arg: Any, _m: str = method, _o: Any = original) -> Any:
            ran[_m] += 1
            return _o(self, arg)

        monkeypatch.setattr(MessageConstruct, method, wrapper)

    raw = iso8583.pack(SALE, spec)
    assert iso8583.unpack(raw, spec) == SALE
    assert not emitted  # a shape seen once runs field by field through the same constructs
    assert iso8583.pack(SALE, spec) == raw
    assert iso8583.unpack(raw, spec) == SALE
    assert ran == {"pack": 2, "unpack": 2}
    message_construct = spec.construct
    assert isinstance(message_construct, Construct)
    for n in SALE.fields:
        field = message_construct.fields[n]
        assert isinstance(field, FieldConstruct)
        assert isinstance(field, Construct)
        # Both compiled plans were written by the field constructs of the set bits.
        assert emitted[str(n)] == 2, n
    assert isinstance(message_construct.fields[55], BerTlvField)
    # Its own construct protocol gives the same bytes and message.
    assert message_construct.build(SALE) == raw
    assert message_construct.parse(raw) == SALE


def test_bitmaps_seen_once_are_never_compiled(monkeypatch):
    """Garbage with a new bitmap each time (a fuzzer, a hostile client) costs a decode, not a
    compile: only a shape that decoded whole twice gets a plan, and the caches stay bounded."""
    spec = _fresh("iso87ascii")
    compiled: list[int] = []
    original = MessageConstruct._compile_unpack

    def counting(self: MessageConstruct, numbers: list[int]) -> Any:
        compiled.append(len(numbers))
        return original(self, numbers)

    monkeypatch.setattr(MessageConstruct, "_compile_unpack", counting)
    rnd = random.Random(5)
    for _ in range(3000):
        bitmap = f"{rnd.getrandbits(63):016X}".encode()
        with contextlib.suppress(iso8583.DecodeError):
            iso8583.unpack(b"0200" + bitmap + rnd.randbytes(40), spec)
    assert compiled == []
    raw = iso8583.pack(SALE, spec)
    iso8583.unpack(raw, spec)
    assert compiled == []
    iso8583.unpack(raw, spec)
    assert compiled == [len(SALE.fields)]
    codec = spec.construct
    assert len(codec._plans) <= 4096
    assert len(codec._seen) <= 4096


def test_host_and_frames_go_through_the_constructs(monkeypatch):
    """The host answers through the message construct; every frame goes through the frame's."""
    from iso8583.host import HostEngine

    spec = get_spec("cup")
    fmt = spec.frame_format
    calls: Counter[str] = Counter()
    for method in ("parse", "build"):
        original = getattr(Construct, method)

        def wrapper(self: Construct, obj: Any, _m: str = method, _o: Any = original, **kw: Any):
            if self is fmt.construct:
                calls[_m] += 1
            return _o(self, obj, **kw)

        monkeypatch.setattr(Construct, method, wrapper)
    for method in ("pack", "unpack"):
        original = getattr(MessageConstruct, method)

        def counted(self: MessageConstruct, arg: Any, _m: str = method, _o: Any = original) -> Any:
            calls[_m] += 1
            return _o(self, arg)

        monkeypatch.setattr(MessageConstruct, method, counted)

    reply = (
        HostEngine(spec)
        .handle(
            iso8583.pack(
                Message("0800", {11: "000001", 41: "TERM0001", 42: "MERCHANT0000001"}), spec
            ),
            now=datetime.now(UTC),
        )
        .reply
    )
    assert calls["pack"] >= 2
    assert calls["unpack"] >= 1
    wire = fmt.wrap(reply, tpdu=Tpdu(0x60, 1, 0), header=CUP_HEADER)
    frames = StreamFramer(fmt).feed(wire)
    assert [f.payload for f in frames] == [reply]
    assert calls["build"] == 1
    assert calls["parse"] == 1


def test_message_inside_a_users_struct():
    spec = get_spec("iso87ascii")
    framed = Struct("length" / Int16ub, "message" / FixedSized(this.length, spec.construct))
    raw = iso8583.pack(SALE, spec)
    parsed = framed.parse(len(raw).to_bytes(2, "big") + raw)
    assert parsed.message == SALE
    built = framed.build({"length": len(raw), "message": SALE})
    assert built == len(raw).to_bytes(2, "big") + raw
    # Rebuild computes the length; Prefixed does the same in one pass.
    rebuilt = Struct(
        "length" / Rebuild(Int16ub, lambda ctx: len(spec.construct.build(ctx.message))),
        "message" / FixedSized(this.length, spec.construct),
    )
    assert rebuilt.build({"message": SALE}) == built
    assert Prefixed(Int16ub, spec.construct).build(SALE) == built
    assert Prefixed(Int16ub, spec.construct).parse(built) == SALE
    # A mapping with mti and fields builds too.
    assert spec.construct.build({"mti": "0200", "fields": SALE.fields}) == raw


def test_cup_frame_as_a_users_struct_matches_the_dialect_framing():
    """The worked example of docs/iso8583-construct.md."""
    cup = get_spec("cup")
    frame = Struct(
        "length" / Int16ub,
        "tpdu" / Struct("id" / Int8ub, "destination" / Int16ub, "source" / Int16ub),
        "header" / Bytes(6),
        "message" / FixedSized(this.length - 11, cup.construct),
    )
    tpdu = Tpdu(0x60, destination=1, source=0)
    wire = cup.frame_format.wrap(iso8583.pack(SALE, cup), tpdu=tpdu, header=CUP_HEADER)
    parsed = frame.parse(wire)
    assert parsed.message == SALE
    assert parsed.tpdu.destination == 1
    assert parsed.header == CUP_HEADER
    built = frame.build(
        {
            "length": len(wire) - 2,
            "tpdu": {"id": 0x60, "destination": 1, "source": 0},
            "header": CUP_HEADER,
            "message": SALE,
        }
    )
    assert built == wire


def test_decode_errors_inside_a_struct_count_from_the_stream_start():
    spec = get_spec("iso87ascii")
    raw = bytearray(iso8583.pack(SALE, spec))
    plain_offset = None
    raw[40] = ord("X")  # inside field 2/3 digits
    with pytest.raises(DecodeError) as plain:
        iso8583.unpack(bytes(raw), spec)
    plain_offset = plain.value.offset
    assert plain_offset is not None
    outer = Struct("tag" / Bytes(3), "message" / spec.construct)
    with pytest.raises(DecodeError) as inner:
        outer.parse(b"ABC" + bytes(raw))
    assert inner.value.offset == plain_offset + 3
    assert inner.value.field == plain.value.field
    assert inner.value.partial == plain.value.partial


def test_field_constructs_work_alone():
    spec = get_spec("iso87binary")
    pan = spec.construct.fields[2]
    amount = spec.construct.fields[4]
    assert isinstance(pan, BcdField)
    assert isinstance(amount, BcdField)
    assert amount.sizeof() == 6
    with pytest.raises(SizeofError):
        pan.sizeof()
    pair = Struct("pan" / pan, "amount" / amount)
    raw = pair.build({"pan": "4761739001010119", "amount": "000000001000"})
    assert raw == bytes.fromhex("16 4761739001010119 000000001000")
    assert pair.parse(raw) == {"pan": "4761739001010119", "amount": "000000001000"}
    with pytest.raises(EncodeError) as bad:
        amount.build("12")
    assert bad.value.field == "4"
    with pytest.raises(DecodeError) as short:
        Struct("skip" / Bytes(2), "pan" / pan).parse(b"\x00\x00\x16\x47")
    assert short.value.field == "2"
    assert short.value.offset == 3  # the data after the length prefix at byte 2
    emv = spec.construct.fields[55]
    assert isinstance(emv, CompositeField)
    assert emv.parse(emv.build({"82": "5C00"})) == {"82": "5C00"}


def test_constructs_compile_inside_a_users_struct():
    """construct's compiler links our classes into the compiled parser and builder."""
    spec = get_spec("iso87binary")
    user = Struct(
        "length" / Int16ub,
        "message" / FixedSized(this.length, spec.construct),
        "pan" / spec.construct.fields[2],
    ).compile()
    raw = iso8583.pack(SALE, spec)
    obj = {"length": len(raw), "message": SALE, "pan": "4761739001010010"}
    wire = user.build(obj)
    assert wire == len(raw).to_bytes(2, "big") + raw + bytes.fromhex("164761739001010010")
    parsed = user.parse(wire)
    assert parsed.message == SALE
    assert parsed.pan == "4761739001010010"
