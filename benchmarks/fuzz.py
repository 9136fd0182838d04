"""``python -m benchmarks.fuzz [--seconds 20]``: mutated inputs into every decoder of outside data.

Each decoder gets realistic seeds (messages a terminal or host really sends, swipes, QR
payloads) mutated by bit flips, byte insertions and deletions, truncations, repeated chunks,
"interesting" bytes (0x00, 0xFF, digits in length headers) and splices of two seeds. Every
input must either decode or raise the decoder's typed error; anything else (an untyped
exception, or one input taking longer than ``--hang`` seconds) is a failure, printed with the
input in hex so it can be replayed. Deterministic for a given ``--seed``; bounded by
``--seconds`` in total, shared equally between the targets.

Targets: ``iso8583.unpack`` for every built-in dialect, the host's reading of each decoded
request (``Profile.request_from_message``), ``StreamFramer`` for every dialect's framing
(streams cut at random points), BER-TLV (field 55), the EMVCo MPM and CPM parsers and the
payment-code parser, the track 1 / track 2 / swipe parsers, and the reader-text parsers
(``terminal.core.reader_text``, when present).

Exit status: 0 no failure, 1 failures found.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import random
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any

from iso8583 import Iso8583Error, unpack
from iso8583.acquirer.model import Original, Request, Response, Totals, TxnKind
from iso8583.acquirer.profiles import profile_for
from iso8583.dialects import get_spec, spec_names
from iso8583.framing import StreamFramer, Tpdu
from iso8583.tlv import decode_ber_tlv
from terminal.core.errors import TerminalError

__all__ = ["Target", "main", "mutate", "targets"]

WHEN = datetime(2026, 11, 23, 9, 41, 7)
PAN = "4761739001010010"
INTERESTING = (0x00, 0xFF, 0x7F, 0x80, 0x30, 0x39, 0x3F, 0x3D, 0x25, 0x5E, 0x1F, 0x20)


class _Hang(Exception):
    """An input took longer than the hang limit."""


@dataclass
class Target:
    """One decoder: seeds, how to call it, and the errors it may raise on bad input."""

    name: str
    seeds: list[bytes]
    call: Callable[[bytes], object]
    typed: tuple[type[BaseException], ...]
    inputs: int = 0
    accepted: int = 0
    rejected: int = 0
    failures: list[tuple[str, bytes]] = field(default_factory=list)


# --- mutations --------------------------------------------------------------------------
def mutate(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """One to four stacked mutations of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        pos = rng.randint(0, len(out))
        if op == 0 and out:  # flip a bit
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        elif op == 1 and out:  # overwrite with an interesting byte
            out[rng.randrange(len(out))] = rng.choice(INTERESTING)
        elif op == 2:  # insert random bytes
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 3 and out:  # delete a run
            del out[pos : pos + rng.randint(1, 16)]
        elif op == 4:  # truncate
            del out[pos:]
        elif op == 5 and out:  # repeat a chunk
            start = rng.randrange(len(out))
            chunk = out[start : start + rng.randint(1, 32)]
            out[pos:pos] = chunk * rng.randint(1, 4)
        elif op == 6 and seeds:  # splice with another seed
            other = rng.choice(seeds)
            cut = rng.randint(0, len(other))
            out = out[:pos] + bytearray(other[cut:])
        elif op == 7 and out:  # a random digit run (lengths, amounts, bitmaps in ASCII)
            i = rng.randrange(len(out))
            digits = str(rng.choice((0, 1, 9, 99, 999, 9999, rng.randrange(10**6)))).encode()
            out[i : i + len(digits)] = digits
        elif op == 8 and out:  # random byte
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _text(data: bytes) -> str:
    """Text parsers see every byte value (latin-1), as a serial line would deliver it."""
    return data.decode("latin-1")


# --- seeds ------------------------------------------------------------------------------
def _requests() -> list[Request]:
    base: dict[str, Any] = {
        "stan": "000123",
        "local_time": WHEN,
        "terminal_id": "10062345",
        "merchant_id": "898310058120001",
    }
    original = Original(
        TxnKind.SALE, "000122", WHEN, rrn="332709000123", auth_code="A1B2C3", amount=1234
    )
    icc = {"9F02": "000000001234", "9F26": "0123456789ABCDEF", "82": "5C00", "95": "0000000000"}
    return [
        Request(
            TxnKind.SALE, amount=1234, pan=PAN, expiry="2812", entry_mode="051", icc=icc, **base
        ),
        Request(
            TxnKind.SALE, amount=99, track2=f"{PAN}=28121010000000000", entry_mode="901", **base
        ),
        Request(TxnKind.VOID, amount=1234, original=original, **base),
        Request(TxnKind.REFUND, amount=500, original=original, **base),
        Request(TxnKind.REVERSAL, amount=1234, original=original, repeat=True, **base),
        Request(TxnKind.BALANCE, pan=PAN, expiry="2812", entry_mode="021", **base),
        Request(TxnKind.PREAUTH, amount=5000, pan=PAN, expiry="2812", entry_mode="021", **base),
        Request(TxnKind.SETTLEMENT, totals=Totals(3, 4500, 1, 500), **base),
        Request(TxnKind.SIGNON, **base),
        Request(TxnKind.ECHO, **base),
        Request(TxnKind.QR_ORDER, amount=1500, qr="ORDER000123", **base),
        Request(TxnKind.QR_PAY, amount=1500, qr="283456789012345678", **base),
    ]


def _message_seeds(name: str) -> list[bytes]:
    """Requests and their answers as the dialect packs them (no MAC: the codec sees them)."""
    spec = get_spec(name)
    profile = profile_for(spec)
    seeds = []
    for request in _requests():
        try:
            message = profile.request_to_message(request)
            seeds.append(spec.codec.pack(message))
            answer = Response(request.kind, request.stan, "00", "A1B2C3", "332709000124", 100)
            seeds.append(spec.codec.pack(profile.response_to_message(message, answer)))
        except (Iso8583Error, TerminalError, KeyError):
            continue  # a kind this dialect does not carry
    return seeds


def _frames(name: str, seeds: list[bytes]) -> list[bytes]:
    """Streams of two or three frames, with a keep-alive where the format allows one."""
    fmt = get_spec(name).frame_format
    tpdu = Tpdu(0x60, destination=1) if fmt.tpdu else None
    header = b"\x00" * fmt.header_length

    def wrap(payload: bytes) -> bytes:
        return fmt.wrap(payload, tpdu=tpdu, header=header)

    keepalive = b"" if fmt.prefix_size else fmt.wrap(b"")
    return [keepalive.join(wrap(s) for s in seeds[i : i + 3]) for i in range(0, len(seeds), 2)]


def _swipes() -> list[bytes]:
    t1 = f"%B{PAN}^CARDHOLDER/TEST^2812101000000000000000?"
    t2 = f";{PAN}=28121010000000000?"
    return [s.encode("latin-1") for s in (t1, t2, t1 + t2, f"\x02{t1}\r\n{t2}\r\n\x03", "%E?;E?")]


def _mpm_seeds() -> list[bytes]:
    """The terminal's own dynamic payload (what a customer's wallet would scan)."""
    from terminal.config import TerminalConfig
    from terminal.engine.qrsession import mpm_payload

    return [mpm_payload(TerminalConfig(), amount, "ORDER000123").encode() for amount in (1, 150)]


def _cpm_seeds() -> list[bytes]:
    from terminal.core.qr.cpm import Tlv, build_cpm

    app = [
        Tlv("4F", bytes.fromhex("A0000003330101")),
        Tlv("50", b"UNIONPAY"),
        Tlv("5A", bytes.fromhex(PAN)),
        Tlv("5F20", b"TEST/CARDHOLDER"),
        Tlv("9F26", bytes(8)),
    ]
    text = build_cpm([app])
    return [text.encode(), base64.b64decode(text), b"283456789012345678"]


# --- targets ----------------------------------------------------------------------------
def targets() -> list[Target]:
    from terminal.core.qr import CpmError, QrError
    from terminal.core.qr.cpm import parse_cpm, parse_payment_code, read_tlv
    from terminal.core.qr.mpm import parse_mpm
    from terminal.core.tracks import parse_swipe, parse_track1, parse_track2

    typed_iso = (Iso8583Error,)
    typed_terminal = (TerminalError,)
    found: list[Target] = []
    all_messages: list[bytes] = []
    for name in spec_names():
        spec = get_spec(name)
        seeds = _message_seeds(name)
        all_messages += seeds
        found.append(Target(f"unpack {name}", seeds, lambda d, s=spec: unpack(d, s), typed_iso))
        profile = profile_for(spec)

        def read_request(data: bytes, s: Any = spec, p: Any = profile) -> object:
            return p.request_from_message(unpack(data, s), WHEN)

        found.append(Target(f"host reads {name}", seeds, read_request, typed_iso))
        found.append(Target(f"host engine {name}", seeds, _host_engine(spec), ()))

        def frame_stream(data: bytes, fmt: Any = spec.frame_format) -> object:
            framer = StreamFramer(fmt)
            cuts = sorted({0, len(data), *(b % (len(data) + 1) for b in data[:4])})
            return [framer.feed(data[a:b]) for a, b in itertools.pairwise(cuts)]

        found.append(Target(f"framer {name}", _frames(name, seeds), frame_stream, typed_iso))
    icc = [bytes.fromhex("9F02060000000012349F2608" + "01" * 8 + "820" + "25C00")]
    found.append(Target("ber-tlv (field 55)", icc, decode_ber_tlv, typed_iso))
    found.append(Target("qr mpm", _mpm_seeds(), lambda d: parse_mpm(_text(d)), (QrError,)))
    found.append(Target("qr mpm, crc fixed", _mpm_seeds(), _mpm_with_crc, (QrError,)))
    cpm = _cpm_seeds()
    found.append(Target("qr cpm", cpm, lambda d: parse_cpm(_text(d)), (QrError,)))
    found.append(Target("qr cpm tlv", [cpm[1]], read_tlv, (CpmError,)))
    found.append(Target("payment code", cpm, lambda d: parse_payment_code(_text(d)), (QrError,)))
    swipes = _swipes()
    found.append(Target("track 1", swipes, lambda d: parse_track1(_text(d)), typed_terminal))
    found.append(Target("track 2", swipes, lambda d: parse_track2(_text(d)), typed_terminal))
    found.append(Target("swipe", swipes, lambda d: parse_swipe(_text(d)), typed_terminal))
    found += _reader_targets(swipes)
    return found


class HostFault(Exception):
    """The host simulator's last line of defence caught an unexpected error."""


def _host_engine(spec: Any) -> Callable[[bytes], object]:
    """The whole host path (decode, interpret, decide, answer); it never raises, so an
    "internal error" answer is how an untyped exception shows."""
    from iso8583.host import EmbeddedHost

    engine = EmbeddedHost(spec).engine

    def handle(data: bytes) -> object:
        result = engine.handle(data, now=WHEN)
        if result.summary.startswith("internal error"):
            raise HostFault(result.summary)
        return result

    return handle


def _mpm_with_crc(data: bytes) -> object:
    """Mutations with a correct CRC, so the parser's record rules are reached, not only CRC."""
    from terminal.core.qr.crc import mpm_crc
    from terminal.core.qr.mpm import parse_mpm

    text = _text(data)
    if len(text) >= 8 and text[-8:-4] == "6304":
        text = text[:-4] + mpm_crc(text[:-4])
    return parse_mpm(text)


def _reader_targets(swipes: list[bytes]) -> list[Target]:
    try:
        from terminal.core import reader_text  # the serial reader's parser, where present
    except ImportError:
        return []
    keyed = [f"{PAN} 2812".encode(), *swipes]

    def stream(data: bytes) -> object:
        reader = reader_text.ReaderStream()
        out = [reader.feed(data[i : i + 7]) for i in range(0, len(data), 7)]
        return out, reader.flush()

    return [
        Target(
            "reader text",
            keyed,
            lambda d: reader_text.parse_card_text(_text(d)),
            (TerminalError,),
        ),
        Target("reader stream", keyed, stream, (TerminalError,)),
    ]


# --- the run ----------------------------------------------------------------------------
@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def expired(_signum: int, _frame: FrameType | None) -> None:
        raise _Hang(f"no result within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_target(target: Target, rng: random.Random, seconds: float, hang: float) -> None:
    end = time.perf_counter() + seconds
    inputs = [*target.seeds]  # the seeds themselves first: they must decode or be refused
    while time.perf_counter() < end:
        data = inputs.pop() if inputs else mutate(rng, rng.choice(target.seeds), target.seeds)
        target.inputs += 1
        signal.setitimer(signal.ITIMER_REAL, hang)
        try:
            target.call(data)
        except target.typed:
            target.rejected += 1
        except _Hang as exc:
            target.failures.append((f"hang: {exc}", data))
        except Exception as exc:
            target.failures.append((f"{type(exc).__name__}: {exc}"[:200], data))
        else:
            target.accepted += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="total time budget")
    parser.add_argument("--seed", type=int, default=20261206, help="random seed")
    parser.add_argument("--hang", type=float, default=2.0, help="seconds one input may take")
    parser.add_argument("--only", default="", help="only targets whose name contains this")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    chosen = [t for t in targets() if args.only in t.name]
    if not chosen:
        print(f"no target matches {args.only!r}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    share = args.seconds / len(chosen)
    print(
        f"{'target':<22} {'inputs':>9} {'decoded':>9} {'refused':>9} {'failures':>9} {'per s':>8}"
    )
    total = failures = 0
    with _deadline(args.hang):
        for target in chosen:
            started = time.perf_counter()
            run_target(target, rng, share, args.hang)
            rate = target.inputs / max(time.perf_counter() - started, 1e-9)
            total += target.inputs
            failures += len(target.failures)
            print(
                f"{target.name:<22} {target.inputs:>9} {target.accepted:>9} {target.rejected:>9}"
                f" {len(target.failures):>9} {rate:>8.0f}",
                flush=True,
            )
    print(f"{'total':<22} {total:>9} {'':>9} {'':>9} {failures:>9}   seed {args.seed}")
    for target in chosen:
        for reason, data in target.failures[:5]:
            print(f"FAIL {target.name}: {reason}\n     input {data.hex()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
