"""Symmetric keys for PIN and MAC work: check values, DES parity and key wrapping.

A terminal and its host prove they hold the same key by comparing a key check value (KCV)
and exchange working keys encrypted under a master key at sign-on. The block-cipher helpers
here are shared by :mod:`iso8583.pin` and :mod:`iso8583.mac` so that key validation and the
TDES import dance live in one place.

Key material never appears in a ``repr``, a log line or an error message: :class:`Key` shows
its KCV only, and every :class:`~iso8583.errors.CryptoError` names lengths, never bytes.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from enum import Enum

from cryptography.hazmat.primitives import cmac, keywrap
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes

from iso8583.errors import CryptoError

try:  # cryptography >= 43 keeps TDES in the "decrepit" namespace.
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover - only on cryptography < 43
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES

__all__ = [
    "KcvMethod",
    "Key",
    "KeyAlgorithm",
    "KeyLike",
    "adjust_parity",
    "block_cipher",
    "decrypt_key",
    "ecb_decrypt",
    "ecb_encrypt",
    "encrypt_key",
    "generate_key",
    "has_odd_parity",
    "key_check_value",
    "key_material",
    "single_des",
    "verify_kcv",
]


class KeyAlgorithm(Enum):
    """Block cipher a key belongs to; a 16-byte key is ambiguous without it."""

    TDES = "TDES"
    AES = "AES"

    @property
    def block_size(self) -> int:
        """Cipher block length in bytes."""
        return 8 if self is KeyAlgorithm.TDES else 16

    @property
    def key_lengths(self) -> tuple[int, ...]:
        """Accepted key lengths in bytes (double/triple-length TDES; AES-128/192/256)."""
        return (16, 24) if self is KeyAlgorithm.TDES else (16, 24, 32)


class KcvMethod(Enum):
    """How a key check value is computed (PCI PIN requirement 15-1, ANSI X9.24-1:2017).

    ``ENCRYPT_ZERO`` is the legacy TDES method; X9.24-1:2017 only allows ``CMAC`` for AES.
    """

    ENCRYPT_ZERO = "encrypt-zero"
    CMAC = "cmac"


@dataclass(frozen=True, repr=False, eq=False)
class Key:
    """Key material tagged with its algorithm; ``repr`` shows only the KCV, never the key.

    Equality is constant-time on the material so comparing keys leaks no timing.
    """

    material: bytes = field(repr=False)
    algorithm: KeyAlgorithm

    def __post_init__(self) -> None:
        object.__setattr__(self, "material", _checked(self.material, self.algorithm, "key"))

    @classmethod
    def from_hex(cls, text: str, algorithm: KeyAlgorithm) -> Key:
        """Build a key from hex text (spaces allowed), as keys appear in configuration."""
        try:
            material = bytes.fromhex(text)
        except (TypeError, ValueError):
            raise CryptoError("key is not valid hex") from None
        return cls(material, algorithm)

    @property
    def kcv(self) -> str:
        """The default 3-byte key check value as upper-case hex."""
        return key_check_value(self.material, self.algorithm).hex().upper()

    def __repr__(self) -> str:
        return f"Key(algorithm={self.algorithm.value}, length={len(self.material)}, kcv={self.kcv})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return self.algorithm is other.algorithm and hmac.compare_digest(
            self.material, other.material
        )

    def __hash__(self) -> int:
        return hash((self.algorithm, self.kcv))


KeyLike = Key | bytes


def key_material(key: KeyLike, algorithm: KeyAlgorithm, *, what: str = "key") -> bytes:
    """Return validated raw bytes of ``key`` for ``algorithm``; a :class:`Key` must match it."""
    _algorithm(algorithm)
    if isinstance(key, Key):
        if key.algorithm is not algorithm:
            raise CryptoError(f"{what} is a {key.algorithm.value} key, expected {algorithm.value}")
        return key.material
    return _checked(key, algorithm, what)


def _algorithm(algorithm: object) -> KeyAlgorithm:
    if not isinstance(algorithm, KeyAlgorithm):
        raise CryptoError("key algorithm must be a KeyAlgorithm")
    return algorithm


def _checked(key: object, algorithm: KeyAlgorithm, what: str) -> bytes:
    """Validate type and length without ever echoing the bytes."""
    _algorithm(algorithm)
    if not isinstance(key, bytes | bytearray | memoryview):
        raise CryptoError(f"{what} must be bytes")
    raw = bytes(key)
    if len(raw) not in algorithm.key_lengths:
        allowed = "/".join(str(n) for n in algorithm.key_lengths)
        raise CryptoError(f"{what} must be {allowed} bytes for {algorithm.value}, got {len(raw)}")
    return raw


def block_cipher(key: bytes, algorithm: KeyAlgorithm) -> BlockCipherAlgorithm:
    """The cipher object for a validated key.

    Double-length TDES keys are expanded to K1||K2||K1, which is the same cipher but avoids
    cryptography's deprecation of 16-byte TripleDES keys.
    """
    raw = _checked(key, algorithm, "key")
    if algorithm is KeyAlgorithm.TDES:
        return TripleDES(raw + raw[:8] if len(raw) == 16 else raw)
    return algorithms.AES(raw)


def single_des(key8: bytes) -> BlockCipherAlgorithm:
    """Single DES under ``key8``: TDES with K||K||K collapses EDE to one DES pass."""
    if len(key8) != 8:
        raise CryptoError("single DES key must be 8 bytes")
    return TripleDES(key8 * 3)


def ecb_encrypt(key: bytes, algorithm: KeyAlgorithm, data: bytes) -> bytes:
    """Encrypt whole blocks in ECB mode (PIN blocks and legacy key transport use ECB)."""
    _whole_blocks(data, algorithm)
    enc = Cipher(block_cipher(key, algorithm), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def ecb_decrypt(key: bytes, algorithm: KeyAlgorithm, data: bytes) -> bytes:
    """Decrypt whole blocks in ECB mode."""
    _whole_blocks(data, algorithm)
    dec = Cipher(block_cipher(key, algorithm), modes.ECB()).decryptor()
    return dec.update(data) + dec.finalize()


def _whole_blocks(data: object, algorithm: KeyAlgorithm) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CryptoError("data must be bytes")
    n = len(data)
    if n == 0 or n % algorithm.block_size:
        raise CryptoError(
            f"data must be a non-empty multiple of {algorithm.block_size} bytes, got {n}"
        )


def key_check_value(
    key: KeyLike,
    algorithm: KeyAlgorithm | None = None,
    *,
    method: KcvMethod | None = None,
    length: int = 3,
) -> bytes:
    """Leftmost ``length`` bytes of the key check value.

    Per PCI PIN requirement 15-1 / ANSI X9.24-1:2017: the legacy method encrypts an
    all-zero block (at most 3 bytes are disclosed, TDES only); the CMAC method MACs an
    all-zero block with the key's own cipher (ISO 9797-1 / NIST SP 800-38B, at most 5 bytes)
    and is the only one allowed for AES. Defaults: TDES -> encrypt-zero, AES -> CMAC.
    """
    if isinstance(key, Key):
        algorithm = algorithm or key.algorithm
    if algorithm is None:
        raise CryptoError("key algorithm is required for raw key bytes")
    raw = key_material(key, algorithm)
    if method is None:
        method = KcvMethod.ENCRYPT_ZERO if algorithm is KeyAlgorithm.TDES else KcvMethod.CMAC
    zero = bytes(algorithm.block_size)
    if method is KcvMethod.ENCRYPT_ZERO:
        if algorithm is KeyAlgorithm.AES:
            raise CryptoError("X9.24-1 allows only the CMAC check value for AES keys")
        _check_length(length, 3)
        return ecb_encrypt(raw, algorithm, zero)[:length]
    if method is KcvMethod.CMAC:
        _check_length(length, 5)
        mac = cmac.CMAC(block_cipher(raw, algorithm))
        mac.update(zero)
        return mac.finalize()[:length]
    raise CryptoError("unknown KCV method")


def _check_length(length: object, most: int) -> None:
    if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= most:
        raise CryptoError(f"KCV length must be 1..{most} bytes")


def verify_kcv(
    key: KeyLike,
    expected: bytes,
    algorithm: KeyAlgorithm | None = None,
    *,
    method: KcvMethod | None = None,
) -> None:
    """Raise :class:`CryptoError` unless ``expected`` is the key's check value.

    The length of ``expected`` sets how many bytes are compared; more than 3 implies CMAC.
    """
    if not isinstance(expected, bytes | bytearray) or not expected:
        raise CryptoError("expected KCV must be non-empty bytes")
    if method is None and len(expected) > 3:
        method = KcvMethod.CMAC
    actual = key_check_value(key, algorithm, method=method, length=len(expected))
    if not hmac.compare_digest(actual, bytes(expected)):
        raise CryptoError("key check value does not match")


def _parity_byte(b: int) -> int:
    """Set the low bit so the byte has an odd number of one bits (DES key parity)."""
    high = b & 0xFE
    return high | (1 - bin(high).count("1") % 2)


def adjust_parity(key: bytes) -> bytes:
    """Return ``key`` with odd parity in every byte; DES ignores parity bits, HSMs check them."""
    if not isinstance(key, bytes | bytearray | memoryview):
        raise CryptoError("key must be bytes")
    return bytes(_parity_byte(b) for b in bytes(key))


def has_odd_parity(key: bytes) -> bool:
    """True when every byte of ``key`` has odd parity."""
    if not isinstance(key, bytes | bytearray | memoryview):
        raise CryptoError("key must be bytes")
    return all(bin(b).count("1") % 2 == 1 for b in bytes(key))


def generate_key(algorithm: KeyAlgorithm, length: int = 16) -> Key:
    """Fresh random key from ``os.urandom``; TDES keys get odd parity like an HSM's."""
    if length not in _algorithm(algorithm).key_lengths:
        raise CryptoError(f"unsupported {algorithm.value} key length {length}")
    raw = os.urandom(length)
    if algorithm is KeyAlgorithm.TDES:
        raw = adjust_parity(raw)
    return Key(raw, algorithm)


def _working_bytes(working: KeyLike) -> bytes:
    if isinstance(working, Key):
        return working.material
    if not isinstance(working, bytes | bytearray | memoryview):
        raise CryptoError("working key must be bytes")
    return bytes(working)


def encrypt_key(working: KeyLike, under: KeyLike, algorithm: KeyAlgorithm | None = None) -> bytes:
    """Encrypt a working key under a master (key-encrypting) key for sign-on key exchange.

    ``algorithm`` is the master key's; it defaults to ``under.algorithm`` for a :class:`Key`.
    TDES masters use ECB, as legacy terminals do (no integrity: check the KCV); AES masters
    use RFC 3394 key wrap, whose integrity check rejects a wrong key or tampered blob.
    """
    kek_alg = _kek_algorithm(under, algorithm)
    kek = key_material(under, kek_alg, what="master key")
    raw = _working_bytes(working)
    if kek_alg is KeyAlgorithm.TDES:
        return ecb_encrypt(kek, kek_alg, raw)
    if len(raw) < 16 or len(raw) % 8:
        raise CryptoError("AES key wrap needs a working key of 16+ bytes in 8-byte steps")
    return keywrap.aes_key_wrap(kek, raw)


def decrypt_key(wrapped: bytes, under: KeyLike, algorithm: KeyAlgorithm | None = None) -> bytes:
    """Reverse :func:`encrypt_key`; an AES unwrap failure raises :class:`CryptoError`."""
    kek_alg = _kek_algorithm(under, algorithm)
    kek = key_material(under, kek_alg, what="master key")
    if not isinstance(wrapped, bytes | bytearray | memoryview):
        raise CryptoError("wrapped key must be bytes")
    wrapped = bytes(wrapped)
    if kek_alg is KeyAlgorithm.TDES:
        return ecb_decrypt(kek, kek_alg, wrapped)
    if len(wrapped) < 24 or len(wrapped) % 8:
        raise CryptoError("AES-wrapped key must be 24+ bytes in 8-byte steps")
    try:
        return keywrap.aes_key_unwrap(kek, wrapped)
    except keywrap.InvalidUnwrap:
        raise CryptoError("wrapped key does not unwrap under this master key") from None


def _kek_algorithm(under: KeyLike, algorithm: KeyAlgorithm | None) -> KeyAlgorithm:
    if algorithm is None and isinstance(under, Key):
        return under.algorithm
    if not isinstance(algorithm, KeyAlgorithm):
        raise CryptoError("master key algorithm is required for raw key bytes")
    return algorithm
