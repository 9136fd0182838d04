"""ISO 9564-1 PIN blocks: format 0 under TDES and format 4 under AES.

Format 0 (ISO-0, ANSI X9.8) is what most TDES acquirers still expect in field 52: the PIN
field ``0 L P..P F..F`` XOR the PAN field ``0000`` + the 12 rightmost PAN digits excluding
the check digit, enciphered once. Format 4 (ISO 9564-1:2017) is the AES block: a 16-byte
PIN field ``4 L P..P A..A`` + 8 random bytes and a 16-byte PAN field ``M`` + PAN + zeros
(``M`` = PAN length - 12), bound together by two AES passes: ``E(E(pin) XOR pan)``.

Decryption errors are deliberately uniform: telling a caller *why* a block failed (wrong
PAN, bad fill, bad length) would turn this function into a decryption oracle.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import Enum

from iso8583.errors import CryptoError
from iso8583.keys import KeyAlgorithm, KeyLike, ecb_decrypt, ecb_encrypt, key_material

__all__ = [
    "PinBlockFormat",
    "clear_pin_field",
    "decrypt_pin_block",
    "encrypt_pin_block",
    "pan_field",
]

_DIGITS = frozenset("0123456789")
_RANDOM_BYTES = 8  # the random half of a format 4 PIN field

RandomSource = Callable[[int], bytes]


class PinBlockFormat(Enum):
    """ISO 9564-1 PIN block formats; the value is the block's control nibble."""

    ISO_0 = 0
    ISO_4 = 4

    @property
    def key_algorithm(self) -> KeyAlgorithm:
        """Format 0 is enciphered with TDES, format 4 with AES."""
        return KeyAlgorithm.AES if self is PinBlockFormat.ISO_4 else KeyAlgorithm.TDES

    @property
    def block_size(self) -> int:
        """Length of the enciphered block in bytes."""
        return self.key_algorithm.block_size


def _digits(value: object, what: str, low: int, high: int) -> str:
    """Validate an ASCII digit string; messages give the rule, never the value."""
    if not isinstance(value, str) or not low <= len(value) <= high or not set(value) <= _DIGITS:
        raise CryptoError(f"{what} must be {low} to {high} decimal digits")
    return value


def _pin(pin: object) -> str:
    return _digits(pin, "PIN", 4, 12)


def _pan(pan: object) -> str:
    return _digits(pan, "PAN", 12, 19)


def _format(fmt: object) -> PinBlockFormat:
    if not isinstance(fmt, PinBlockFormat):
        raise CryptoError("fmt must be a PinBlockFormat")
    return fmt


def pan_field(pan: str, fmt: PinBlockFormat = PinBlockFormat.ISO_0) -> bytes:
    """The PAN field that is XORed into the PIN block.

    Format 0: ``0000`` + the 12 rightmost digits excluding the check digit (a 12-digit PAN
    leaves 11, left-padded with a zero). Format 4: ``M`` + the whole PAN, zero-filled to
    32 nibbles, where ``M`` = PAN length - 12.
    """
    digits = _pan(pan)
    if _format(fmt) is PinBlockFormat.ISO_0:
        return bytes.fromhex("0000" + digits[:-1][-12:].rjust(12, "0"))
    return bytes.fromhex(f"{len(digits) - 12}{digits}".ljust(32, "0"))


def clear_pin_field(
    pin: str, fmt: PinBlockFormat = PinBlockFormat.ISO_0, *, rng: RandomSource = os.urandom
) -> bytes:
    """The plain-text PIN field before any PAN XOR or encipherment.

    Format 0: ``0 L PIN`` filled with ``F``. Format 4: ``4 L PIN`` filled with ``A`` to
    8 bytes, then 8 bytes from ``rng`` (``os.urandom`` unless a test injects one).
    """
    digits = _pin(pin)
    fmt = _format(fmt)
    head = f"{fmt.value}{len(digits):X}{digits}"
    if fmt is PinBlockFormat.ISO_0:
        return bytes.fromhex(head.ljust(16, "F"))
    random_half = rng(_RANDOM_BYTES)
    if not isinstance(random_half, bytes) or len(random_half) != _RANDOM_BYTES:
        raise CryptoError(f"random source must return {_RANDOM_BYTES} bytes")
    return bytes.fromhex(head.ljust(16, "A")) + random_half


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def encrypt_pin_block(
    pin: str,
    pan: str,
    key: KeyLike,
    fmt: PinBlockFormat = PinBlockFormat.ISO_0,
    *,
    rng: RandomSource = os.urandom,
) -> bytes:
    """Build and encipher a PIN block: 8 bytes (format 0, TDES) or 16 (format 4, AES)."""
    fmt = _format(fmt)
    raw = key_material(key, fmt.key_algorithm, what="PIN key")
    alg = fmt.key_algorithm
    pin_part = clear_pin_field(pin, fmt, rng=rng)
    pan_part = pan_field(pan, fmt)
    if fmt is PinBlockFormat.ISO_0:
        return ecb_encrypt(raw, alg, _xor(pin_part, pan_part))
    return ecb_encrypt(raw, alg, _xor(ecb_encrypt(raw, alg, pin_part), pan_part))


def decrypt_pin_block(
    block: bytes, pan: str, key: KeyLike, fmt: PinBlockFormat = PinBlockFormat.ISO_0
) -> str:
    """Decipher a PIN block and return the PIN, checking every structural rule."""
    fmt = _format(fmt)
    raw = key_material(key, fmt.key_algorithm, what="PIN key")
    alg = fmt.key_algorithm
    if not isinstance(block, bytes | bytearray | memoryview) or len(block) != fmt.block_size:
        raise CryptoError(f"ISO format {fmt.value} PIN block must be {fmt.block_size} bytes")
    pan_part = pan_field(pan, fmt)
    if fmt is PinBlockFormat.ISO_0:
        clear = _xor(ecb_decrypt(raw, alg, bytes(block)), pan_part)
    else:
        clear = ecb_decrypt(raw, alg, _xor(ecb_decrypt(raw, alg, bytes(block)), pan_part))
    return _parse_pin_field(clear[:8].hex().upper(), fmt)


def _parse_pin_field(nibbles: str, fmt: PinBlockFormat) -> str:
    """Extract the PIN from the first 16 nibbles of a clear PIN field."""
    fill = "F" if fmt is PinBlockFormat.ISO_0 else "A"
    length = int(nibbles[1], 16)
    pin, rest = nibbles[2 : 2 + length], nibbles[2 + length :]
    if (
        nibbles[0] != str(fmt.value)
        or not 4 <= length <= 12
        or not set(pin) <= _DIGITS
        or rest != fill * len(rest)
    ):
        raise CryptoError(f"not a valid ISO format {fmt.value} PIN block for this key and PAN")
    return pin
