"""The ISO 8583 message as a construct: MTI, bitmaps, then the field construct of each set bit.

:class:`MessageConstruct` is a ``construct.Construct``: ``spec.construct.parse(data)`` gives a
:class:`Message`, ``spec.construct.build(message)`` its bytes, and it can sit inside a user's
``Struct`` (``"message" / FixedSized(this.length, spec.construct)``). A message carries no
length of its own, so like ``GreedyBytes`` it reads to the end of its stream: frame it with
``FixedSized``/``Prefixed`` or the dialect's :class:`~iso8583.framing.FrameFormat`.

Every field is a construct object from ``iso8583.fields``/``iso8583.composite``. The bitmap decides
which ones run, so the message construct cannot be one ``Struct`` with an ``If`` per field (that
costs a context lookup and a condition for each of 128 fields); instead it compiles, per distinct
bitmap (cached by the bitmap's raw bytes, at most 4096 plans), one Python function that runs the
field constructs of the set bits in order: the field classes emit the source of their flat path
(``emit_decode``/``emit_encode``, like construct's ``_emitparse``), and fall back to their own
``decode``/``encode`` for anything irregular, which raise the typed errors. Packing caches the plan
(sorted field order, bitmap bytes, compiled encoder) by the tuple of field numbers present. The
cost (``benchmarks/iso8583_codec.py``, the 0200 purchase, CPU time) is about 7 µs to pack and 9 µs
to unpack on iso87ascii, 3-4x pyiso8583 (a shape is compiled the second time it decodes whole, so
garbage with ever-new bitmaps never pays for a compile); through construct's own
``parse``/``build`` a few µs more (its context and stream), inside a user's ``Struct`` more again.
``iso8583.pack``/``unpack``, the host, the terminal and the CLI all run through this construct
(``pack``/``unpack`` are its buffer API, ``_parse``/``_build`` its construct protocol, both doing
the same work).

Errors: :class:`DecodeError` carries field, byte offset (from the start of the message) and the
partial message; :class:`EncodeError` the field. Neither is a construct ``ConstructError``.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from typing import Any

from construct import (
    Construct,
    SizeofError,
    StreamError,
    stream_read_entire,
    stream_tell,
    stream_write,
)

from iso8583.charsets import ok_n
from iso8583.composite import field
from iso8583.errors import DecodeError, EncodeError, SpecError
from iso8583.fields import FieldConstruct
from iso8583.fieldspec import BitmapEncoding, DialectTable, Encoding
from iso8583.message import Message

__all__ = ["MessageCodec", "MessageConstruct"]

Decoder = Callable[[bytes, int], tuple[Any, int]]
UnpackPlan = Callable[[bytes, int, dict[int, Any]], int]
PackPlan = Callable[[Mapping[int, Any], bytes], bytes]


def _set_bits(bitmap: bytes, first_byte: int) -> list[int]:
    """Field numbers set in an 8-byte bitmap whose first byte is bitmap byte ``first_byte``."""
    numbers: list[int] = []
    for i, byte in enumerate(bitmap, first_byte):
        if byte:
            numbers.extend(i * 8 + bit + 1 for bit in range(8) if byte & (0x80 >> bit))
    return numbers


_SECONDARY = object()  # plan-cache marker: "a secondary bitmap follows this primary"
_MAX_PLANS = 4096
_MASKS = tuple(1 << (192 - n) if n else 0 for n in range(193))  # bit of field n in 192 bits
_RUNTIME = {"fromhex": bytes.fromhex, "hexlify": binascii.hexlify}


def _second_sighting(seen: set[Any], plans: dict[Any, Any], key: Any) -> bool:
    """True the second time ``key`` comes (compile its plan now: room is made in ``plans``,
    oldest first); the first time it is only noted. Compiling costs ~100x a decode, so a shape
    seen once (garbage, a fuzzer's) never pays for it; both tables stay under _MAX_PLANS."""
    if key not in seen:
        if len(seen) >= _MAX_PLANS:
            seen.clear()
        seen.add(key)
        return False
    seen.discard(key)
    while len(plans) >= _MAX_PLANS:
        del plans[next(iter(plans))]  # dicts keep insertion order
    return True


def _check_dialect(spec: DialectTable) -> None:
    """Field numbers and code page; each field construct then checks its own definition."""
    where = f"spec {spec.name}"
    for number in spec.fields:
        if not 2 <= number <= spec.max_field:
            raise SpecError(f"field number {number} is outside 2..{spec.max_field}", where=where)
        if spec.tertiary_bitmap and number == 65:
            raise SpecError("field 65 is the tertiary bitmap and cannot be defined", where=where)
    try:
        "0".encode(spec.codepage)
    except LookupError:
        raise SpecError(f"unknown code page {spec.codepage!r}", where=where) from None


class _Undefined(FieldConstruct):
    """A bit the dialect does not define: any use is an error naming the field."""

    def __init__(self, key: str, spec_name: str) -> None:
        super(FieldConstruct, self).__init__()
        self.key = key
        self.prefix_width = 0

        def decode(buf: bytes, pos: int) -> tuple[Any, int]:
            raise DecodeError(
                f"present in the bitmap but not defined by dialect {spec_name}",
                field=key,
                offset=pos,
            )

        def encode(value: Any) -> bytes:
            raise EncodeError(f"not defined by dialect {spec_name}", field=key)

        self.encode, self.decode = encode, decode

    def read_raw(self, stream: Any) -> bytes:
        return b""

    def __repr__(self) -> str:
        return f"<undefined field {self.key}>"


class MessageConstruct(Construct):  # type: ignore[misc]
    """Packs and unpacks whole messages of one dialect.

    Layout::

        | MTI (4 ASCII/EBCDIC or 2 BCD bytes) | primary bitmap | secondary bitmap if bit 1 |
        | fields 2..128 in order (field 65 is the tertiary bitmap when the spec has one)   |
    """

    def __init__(self, spec: DialectTable) -> None:
        super().__init__()
        _check_dialect(spec)
        self.spec = spec
        size = spec.max_field + 1
        self.fields: list[FieldConstruct] = [_Undefined(str(n), spec.name) for n in range(size)]
        for number, fs in spec.fields.items():
            self.fields[number] = field(str(number), fs)  # raises SpecError naming the field
        if spec.mti_encoding not in (Encoding.ASCII, Encoding.BCD, Encoding.EBCDIC):
            raise SpecError(
                f"MTI encoding {spec.mti_encoding} is not ascii, bcd or ebcdic",
                where=f"spec {spec.name}",
            )
        self._enc = [f.encode for f in self.fields]
        self._dec = [f.decode for f in self.fields]
        self._tertiary = spec.tertiary_bitmap
        bm = spec.bitmap_encoding
        self._bm_width = 8 if bm is BitmapEncoding.BINARY else 16
        self._bm_kind = bm
        self._cp = spec.codepage
        self._mti_enc = spec.mti_encoding
        self._plans: dict[bytes, Any] = {}
        self._seen: set[bytes] = set()  # bitmaps decoded once, not compiled yet
        self._pack_plans: dict[tuple[Any, ...], PackPlan] = {}
        self._pack_seen: set[tuple[Any, ...]] = set()
        self._mti_cache: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"<MessageConstruct {self.spec.name}>"

    def encode_field(self, number: int, value: Any) -> bytes:
        """One field as it appears on the wire (length prefix included)."""
        return self._enc[number](value)

    # construct protocol ------------------------------------------------------------------------
    def _parse(self, stream: Any, context: Any, path: str) -> Message:
        try:
            start = stream_tell(stream, path)
        except StreamError:
            start = 0
        try:
            return self.unpack(stream_read_entire(stream, path))
        except DecodeError as exc:
            if not start or exc.offset is None:
                raise
            raise DecodeError(  # offsets count from the start of the stream
                exc.reason,
                field=exc.field,
                offset=exc.offset + start,
                path=exc.path,
                partial=exc.partial,
            ) from None

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        if isinstance(obj, Message):
            message = obj
        elif isinstance(obj, Mapping) and "mti" in obj:
            message = Message(obj["mti"], dict(obj.get("fields") or {}))
        else:
            raise EncodeError(f"expected a Message, got {type(obj).__name__}")
        data = self.pack(message)
        stream_write(stream, data, len(data), path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise SizeofError("an ISO 8583 message has no fixed size", path=path)

    # MTI ---------------------------------------------------------------------------------------
    def _encode_mti(self, mti: Any) -> bytes:
        cached = self._mti_cache.get(mti) if type(mti) is str else None
        if cached is not None:
            return cached
        if not isinstance(mti, str) or len(mti) != 4 or not ok_n(mti):
            raise EncodeError(f"MTI must be 4 digits, got {mti!r}", field="t")
        enc = self._mti_enc
        if enc is Encoding.BCD:
            encoded = bytes.fromhex(mti)
        elif enc is Encoding.EBCDIC:
            encoded = mti.encode(self._cp)
        else:
            encoded = mti.encode("ascii")
        if len(self._mti_cache) < 256:
            self._mti_cache[mti] = encoded
        return encoded

    def _decode_mti(self, buf: bytes) -> tuple[str, int]:
        enc = self._mti_enc
        if enc is Encoding.ASCII:
            raw = buf[:4]
            if len(raw) == 4 and raw.isdigit():
                return raw.decode(), 4
        width = 2 if enc is Encoding.BCD else 4
        raw = buf[:width]
        if len(raw) != width:
            raise DecodeError(
                f"MTI needs {width} bytes, got {len(raw)}",
                field="t",
                offset=0,
                partial=Message("", {}),
            )
        if enc is Encoding.BCD:
            mti = raw.hex()
        else:
            mti = raw.decode("ascii" if enc is Encoding.ASCII else self._cp, "replace")
        if not ok_n(mti):
            raise DecodeError(
                f"MTI {mti.upper()!r} is not 4 digits",
                field="t",
                offset=0,
                partial=Message("", {}),
            )
        return mti, width

    # bitmaps -----------------------------------------------------------------------------------
    def _encode_bitmap(self, bits: bytes) -> bytes:
        if self._bm_kind is BitmapEncoding.BINARY:
            return bits
        h = binascii.hexlify(bits).upper()
        return (
            h.decode("ascii").encode(self._cp) if self._bm_kind is BitmapEncoding.EBCDIC_HEX else h
        )

    def _decode_bitmap(self, buf: bytes, pos: int, key: str) -> tuple[bytes, int]:
        width = self._bm_width
        raw = buf[pos : pos + width]
        if len(raw) != width:
            raise DecodeError(f"bitmap needs {width} bytes, {len(raw)} left", field=key, offset=pos)
        if self._bm_kind is BitmapEncoding.BINARY:
            return raw, pos + width
        if self._bm_kind is BitmapEncoding.EBCDIC_HEX:
            raw = raw.decode(self._cp).encode("ascii", "replace")
        try:
            return binascii.unhexlify(raw), pos + width
        except (binascii.Error, ValueError):
            bad = next(i for i, c in enumerate(raw) if chr(c) not in "0123456789ABCDEFabcdef")
            raise DecodeError(
                f"bitmap byte 0x{raw[bad]:02X} is not a hex digit", field=key, offset=pos + bad
            ) from None

    # packing -----------------------------------------------------------------------------------
    def pack(self, message: Message) -> bytes:
        fields = message.fields
        head = self._encode_mti(message.mti)
        plan = self._pack_plans.get(tuple(fields))
        if plan is not None:
            try:
                return plan(fields, head)
            except EncodeError:
                raise
            except Exception:
                pass
        return self._pack_checked(message, head)

    def _pack_checked(self, message: Message, head: bytes) -> bytes:
        fields = message.fields
        try:
            numbers = sorted(fields)
        except TypeError:
            raise EncodeError("field keys must be integers") from None
        if not numbers:
            return head + self._encode_bitmap(bytes(8))
        first, top = numbers[0], numbers[-1]
        max_field = self.spec.max_field
        if type(first) is not int or type(top) is not int or first < 2 or top > max_field:
            bad = next(n for n in numbers if not isinstance(n, int) or not 2 <= n <= max_field)
            raise EncodeError(f"field number must be 2..{max_field}", field=str(bad))
        if self._tertiary:
            return self._pack_tertiary(message, numbers, head)
        bits = 0
        for n in numbers:
            bits |= _MASKS[n]
        if top > 64:
            raw = (bits | _MASKS[1]).to_bytes(24, "big")
            bitmap = self._encode_bitmap(raw[:8]) + self._encode_bitmap(raw[8:16])
        else:
            bitmap = self._encode_bitmap(bits.to_bytes(24, "big")[:8])
        enc = self._enc
        parts = [head, bitmap]
        n = 0
        try:
            for n in numbers:
                parts.append(enc[n](fields[n]))
        except EncodeError:
            raise
        except Exception as exc:  # a value so odd that an encoder tripped over it
            raise EncodeError(f"cannot encode value: {exc}", field=str(n)) from exc
        key = tuple(fields)
        if _second_sighting(self._pack_seen, self._pack_plans, key):
            self._pack_plans[key] = self._compile_pack(numbers, bitmap)
        return b"".join(parts)

    def _compile_pack(self, numbers: list[int], bitmap: bytes) -> PackPlan:
        """One function packing exactly these fields, with the bitmap as a constant."""
        ns: dict[str, Any] = {"BITMAP": bitmap, **_RUNTIME}
        parts = []
        for n in numbers:
            fc = self.fields[n]
            ns[f"E{n}"] = fc.encode
            if hasattr(fc, "check"):
                ns[f"C{n}"] = fc.check
            parts.append(fc.emit_encode(n) or f"E{n}(v[{n}])")
        src = "def plan(v, head):\n    return b''.join((head, BITMAP,\n        {}))\n".format(
            ",\n        ".join(parts)
        )
        exec(compile(src, f"<pack plan {self.spec.name}>", "exec"), ns)
        plan: PackPlan = ns["plan"]
        return plan

    def _pack_tertiary(self, message: Message, numbers: list[int], head: bytes) -> bytes:
        """Packing for dialects whose field 65 is the bitmap of fields 129-192."""
        fields = message.fields
        if 65 in fields:
            raise EncodeError("field 65 is the tertiary bitmap in this dialect", field="65")
        top = numbers[-1]
        bits = 0
        for n in numbers:
            bits |= _MASKS[n]
        if top > 64:
            bits |= _MASKS[1]
        if top > 128:
            bits |= _MASKS[65]
        raw = bits.to_bytes(24, "big")
        parts = [head, self._encode_bitmap(raw[:8])]
        if top > 64:
            parts.append(self._encode_bitmap(raw[8:16]))
        first_above_64 = min((m for m in numbers if m > 64), default=0)
        n = 0
        try:
            for n in numbers:
                if top > 128 and n == first_above_64:
                    # The tertiary bitmap travels at the position of field 65.
                    parts.append(self._encode_bitmap(raw[16:24]))
                parts.append(self._enc[n](fields[n]))
        except EncodeError:
            raise
        except Exception as exc:
            raise EncodeError(f"cannot encode value: {exc}", field=str(n)) from exc
        return b"".join(parts)

    # unpacking ---------------------------------------------------------------------------------
    def unpack(self, data: bytes | bytearray | memoryview) -> Message:
        buf = data if type(data) is bytes else bytes(data)
        mti, pos = self._decode_mti(buf)
        fields: dict[int, Any] = {}
        numbers: tuple[int, ...] = ()
        start = pos
        try:
            if self._tertiary:
                pos = self._fields_with_tertiary(buf, pos, fields)
            else:
                (numbers, run), end = self._plan(buf, pos)
                start = end  # where the fields begin, for _foreign
                if run is not None:
                    pos = run(buf, end, fields)
                else:  # a bitmap not (yet) worth a compiled plan
                    dec = self._dec
                    bitmap, pos = buf[pos:end], end
                    for n in numbers:
                        fields[n], pos = dec[n](buf, pos)
                    if pos == len(buf):
                        self._learn(bitmap, numbers)
            if pos != len(buf):
                raise DecodeError(
                    f"{len(buf) - pos} unexpected bytes after the last field", offset=pos
                )
        except DecodeError as exc:
            exc.partial = Message(mti, fields)
            raise
        except Exception as exc:  # defensive: no foreign exception may escape
            raise self._foreign(exc, buf, mti, start, numbers) from exc
        return Message(mti, fields)

    def _foreign(
        self, exc: Exception, buf: bytes, mti: str, pos: int, numbers: tuple[int, ...]
    ) -> DecodeError:
        """A non-library exception inside a plan: replay field by field to name the culprit."""
        fields: dict[int, Any] = {}
        n = 0
        try:
            for n in numbers:
                fields[n], pos = self._dec[n](buf, pos)
        except Exception:
            pass
        return DecodeError(
            f"cannot decode: {exc!r}",
            field=str(n) if n else None,
            offset=pos,
            partial=Message(mti, fields),
        )

    def _plan(self, buf: bytes, pos: int) -> tuple[tuple[tuple[int, ...], UnpackPlan | None], int]:
        """The field numbers a bitmap calls for, with their compiled plan once there is one.

        A host sees few distinct bitmaps, so after a shape has been decoded twice the bitmap
        costs one dict lookup instead of a hex decode and a walk over its bits. Compiling is
        ~100x dearer than decoding once, so a bitmap seen once (a fuzzer's, a garbage frame's)
        is decoded field by field and never compiled: random bitmaps cannot make every
        message pay for a compile, and a full cache evicts its oldest plan.
        """
        w = self._bm_width
        plans = self._plans
        entry = plans.get(buf[pos : pos + w])
        if entry is _SECONDARY:
            both = buf[pos : pos + 2 * w]
            # A truncated message would otherwise look up its lone primary: the marker itself.
            entry = plans.get(both) if len(both) == 2 * w else None
            if entry is not None:
                return entry, pos + 2 * w
        elif entry is not None:
            return entry, pos + w
        primary, pos = self._decode_bitmap(buf, pos, "p")
        numbers = _set_bits(primary, 0)
        if numbers and numbers[0] == 1:
            more, pos = self._decode_bitmap(buf, pos, "1")
            del numbers[0]
            numbers.extend(_set_bits(more, 8))
        return (tuple(numbers), None), pos

    def _learn(self, bitmap: bytes, numbers: tuple[int, ...]) -> None:
        """Count a bitmap that decoded a whole message; compile its plan the second time."""
        plans = self._plans
        if _second_sighting(self._seen, plans, bitmap):
            w = self._bm_width
            if len(bitmap) == 2 * w:
                plans[bitmap[:w]] = _SECONDARY
            plans[bitmap] = (numbers, self._compile_unpack(list(numbers)))

    def _compile_unpack(self, numbers: list[int]) -> UnpackPlan:
        """One function running the field constructs of these bits, in order."""
        ns: dict[str, Any] = dict(_RUNTIME)
        lines = ["def plan(buf, p, f):"]
        for n in numbers:
            fc = self.fields[n]
            ns[f"D{n}"] = fc.decode
            if hasattr(fc, "check"):
                ns[f"C{n}"] = fc.check
            body = fc.emit_decode(n) or [f"f[{n}], p = D{n}(buf, p)"]
            lines.extend("    " + line for line in body)
        lines.append("    return p")
        src = "\n".join(lines) + "\n"
        exec(compile(src, f"<unpack plan {self.spec.name}>", "exec"), ns)
        plan: UnpackPlan = ns["plan"]
        return plan

    def _fields_with_tertiary(self, buf: bytes, pos: int, fields: dict[int, Any]) -> int:
        """Fields of a dialect whose field 65 is the bitmap of fields 129-192 (no plan cache)."""
        primary, pos = self._decode_bitmap(buf, pos, "p")
        numbers = _set_bits(primary, 0)
        if numbers and numbers[0] == 1:
            secondary, pos = self._decode_bitmap(buf, pos, "1")
            del numbers[0]
            numbers.extend(_set_bits(secondary, 8))
        dec = self._dec
        for n in numbers:
            if n == 65:
                third, pos = self._decode_bitmap(buf, pos, "65")
                numbers.extend(_set_bits(third, 16))
                continue
            fields[n], pos = dec[n](buf, pos)
        return pos


#: The name ``spec.codec`` has always had; the same construct.
MessageCodec = MessageConstruct
