"""Message authentication codes for ISO 8583 fields 64/128.

Three algorithms cover what acquirers ask terminals for:

* ``ISO9797_ALG1``: ISO/IEC 9797-1 MAC algorithm 1 (CBC-MAC, zero IV) with the TDES
  block cipher applied to every block, as payment hosts run it with a double- or
  triple-length key. The moov-io/iso8583 issue 253 vector (3DES-CBC, result
  ``23d628cf6063ad4e``) fixes this choice: single-DES CBC does not reproduce it.
* ``ISO9797_ALG3`` (alias ``RETAIL``, ANSI X9.19): single-DES CBC-MAC with the left key
  half, then the last block is DES-decrypted with the right half and DES-encrypted with
  the left half. Cheaper than alg. 1 and just as strong against key search.
* ``AES_CMAC``: NIST SP 800-38B / RFC 4493, for AES keys.

The DES algorithms use ISO 9797-1 padding method 1 (zero fill) by default, which is what
ISO 8583 hosts expect; padding method 2 (0x80 then zeros) is available. CMAC pads itself.
"""

from __future__ import annotations

import hmac
import threading
from enum import Enum
from typing import Any

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, modes

from iso8583.errors import CryptoError, MacMismatchError
from iso8583.keys import Key, KeyAlgorithm, KeyLike, block_cipher, key_material, single_des

__all__ = [
    "MacAlgorithm",
    "MacPadding",
    "compute_mac",
    "mac_over_message",
    "verify_mac",
]

_MIN_MAC_LENGTH = 4  # ISO 9797-1 permits truncation; below 32 bits a MAC is guessable.


class MacAlgorithm(Enum):
    """Supported MAC algorithms; ``RETAIL`` is an alias of ``ISO9797_ALG3``."""

    ISO9797_ALG1 = "iso9797-1-alg1"
    ISO9797_ALG3 = "iso9797-1-alg3"
    RETAIL = "iso9797-1-alg3"
    AES_CMAC = "aes-cmac"

    @property
    def key_algorithm(self) -> KeyAlgorithm:
        """The cipher family whose keys this MAC takes."""
        return KeyAlgorithm.AES if self is MacAlgorithm.AES_CMAC else KeyAlgorithm.TDES

    @property
    def block_size(self) -> int:
        """Full MAC length in bytes, before truncation."""
        return self.key_algorithm.block_size


class MacPadding(Enum):
    """ISO/IEC 9797-1 padding methods for the DES-based algorithms."""

    METHOD_1 = 1  # zero bits up to a block boundary (an empty message becomes one block)
    METHOD_2 = 2  # one 0x80 byte, then zero bits (always adds at least one byte)


_RETAIL = MacAlgorithm.ISO9797_ALG3
_METHOD_1 = MacPadding.METHOD_1
_TDES = KeyAlgorithm.TDES


def _pad(data: bytes, padding: MacPadding, block: int) -> bytes:
    if padding is MacPadding.METHOD_2:
        data += b"\x80"
    elif not data:
        return bytes(block)
    return data + bytes(-len(data) % block)


def _cbc_last_block(cipher: BlockCipherAlgorithm, data: bytes, block: int) -> bytes:
    """CBC-encrypt ``data`` under a zero IV and keep the final block (the CBC-MAC)."""
    enc = Cipher(cipher, modes.CBC(bytes(block))).encryptor()
    return (enc.update(data) + enc.finalize())[-block:]


def _ecb(cipher: BlockCipherAlgorithm, block: bytes, *, decrypt: bool = False) -> bytes:
    ctx = Cipher(cipher, modes.ECB())
    op = ctx.decryptor() if decrypt else ctx.encryptor()
    return op.update(block) + op.finalize()


def _full_mac(data: bytes, key: bytes, algorithm: MacAlgorithm, padding: MacPadding) -> bytes:
    if algorithm is MacAlgorithm.AES_CMAC:
        mac = cmac.CMAC(block_cipher(key, KeyAlgorithm.AES))
        mac.update(data)
        return mac.finalize()
    padded = _pad(data, padding, 8)
    if algorithm is MacAlgorithm.ISO9797_ALG1:
        return _cbc_last_block(block_cipher(key, KeyAlgorithm.TDES), padded, 8)
    if len(key) != 16:
        raise CryptoError(f"retail MAC needs a 16-byte key, got {len(key)}")
    # Retail MAC = single-DES CBC with K1 over all blocks but the last, then the last block
    # (chained) through E_K1(D_K2(E_K1(.))), which is two-key TDES: cached per-key contexts,
    # the MAC of every acquirer message being on the host's hot path.
    state = _retail_state(key)
    chained = state.chain(padded[:-8]) if len(padded) > 8 else bytes(8)
    last = (int.from_bytes(chained, "big") ^ int.from_bytes(padded[-8:], "big")).to_bytes(8, "big")
    return state.last_block.update(last)


class _RetailState:
    """One key's retail-MAC contexts: a long-lived single-DES CBC encryptor and a TDES ECB one.

    Creating a CBC context per message is most of the cost of a MAC over a short message, so
    one CBC encryptor serves every MAC made with the key. It is never finalised: its chaining
    value after a MAC is the last ciphertext block it produced (``_prev``), so XOR-ing ``_prev``
    into the first block of the next message cancels it, and each MAC is CBC under a zero IV
    exactly as with a fresh context. An ECB encryptor keeps no state between blocks at all.
    """

    __slots__ = ("_cbc", "_prev", "last_block")

    def __init__(self, key: bytes) -> None:
        self._cbc: Any = Cipher(single_des(key[:8]), modes.CBC(bytes(8))).encryptor()
        self._prev = 0  # chaining value of _cbc, as an int
        self.last_block: Any = Cipher(block_cipher(key, KeyAlgorithm.TDES), modes.ECB()).encryptor()

    def chain(self, data: bytes) -> bytes:
        """Last block of the zero-IV CBC encryption of ``data`` (a non-empty multiple of 8)."""
        first = (int.from_bytes(data[:8], "big") ^ self._prev).to_bytes(8, "big")
        out = self._cbc.update(first + data[8:])
        if len(out) != len(data):  # pragma: no cover - CBC without padding never holds back
            raise CryptoError("CBC context returned a short block")
        tail = out[-8:]
        self._prev = int.from_bytes(tail, "big")
        return tail


_CIPHER_CACHE = threading.local()  # cryptography contexts are not shared between threads
# A host holds one MAC key per signed-on terminal: the cache must hold them all, or every MAC
# rebuilds its contexts. Least recently used keys go first.
_CIPHER_CACHE_SIZE = 4096


def _retail_state(key: bytes) -> _RetailState:
    """Per-key retail-MAC contexts, built once per key and thread."""
    cache: dict[bytes, _RetailState] | None = getattr(_CIPHER_CACHE, "retail", None)
    if cache is None:
        cache = _CIPHER_CACHE.retail = {}
    found = cache.pop(key, None)
    if found is None:
        if len(cache) >= _CIPHER_CACHE_SIZE:
            del cache[next(iter(cache))]
        found = _RetailState(key)
    cache[key] = found  # (re)inserted last: most recently used
    return found


def _inputs(
    data: object, key: KeyLike, algorithm: object, padding: object
) -> tuple[bytes, bytes, MacAlgorithm, MacPadding]:
    """Validate arguments so that only :class:`CryptoError` escapes."""
    if not isinstance(algorithm, MacAlgorithm):
        raise CryptoError("algorithm must be a MacAlgorithm")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CryptoError("MAC data must be bytes")
    if algorithm is MacAlgorithm.AES_CMAC:
        if padding is not None:
            raise CryptoError("AES-CMAC defines its own padding; do not pass one")
        padding = MacPadding.METHOD_1
    elif padding is None:
        padding = MacPadding.METHOD_1
    elif not isinstance(padding, MacPadding):
        raise CryptoError("padding must be a MacPadding")
    raw = key_material(key, algorithm.key_algorithm, what="MAC key")
    return bytes(data), raw, algorithm, padding


def _check_length(length: object, algorithm: MacAlgorithm) -> int:
    top = algorithm.block_size
    if (
        not isinstance(length, int)
        or isinstance(length, bool)
        or not (_MIN_MAC_LENGTH <= length <= top)
    ):
        raise CryptoError(f"MAC length must be {_MIN_MAC_LENGTH}..{top} bytes")
    return length


def compute_mac(
    data: bytes,
    key: KeyLike,
    algorithm: MacAlgorithm,
    *,
    length: int = 8,
    padding: MacPadding | None = None,
) -> bytes:
    """MAC over ``data``, truncated to its leftmost ``length`` bytes."""
    if (
        algorithm is _RETAIL
        and type(key) is Key
        and type(data) is bytes
        and padding is None
        and length == 8
        and key.algorithm is _TDES
    ):
        # The acquirer protocol's case (host hot path): a Key is validated when it is made.
        return _full_mac(data, key.material, _RETAIL, _METHOD_1)
    raw_data, raw_key, alg, pad = _inputs(data, key, algorithm, padding)
    size = _check_length(length, alg)
    return _full_mac(raw_data, raw_key, alg, pad)[:size]


def verify_mac(
    data: bytes,
    mac: bytes,
    key: KeyLike,
    algorithm: MacAlgorithm,
    *,
    padding: MacPadding | None = None,
) -> None:
    """Raise :class:`MacMismatchError` unless ``mac`` (its length sets the truncation) matches.

    The comparison is constant-time so a forger learns nothing from response timing.
    """
    if not isinstance(mac, bytes | bytearray | memoryview):
        raise CryptoError("MAC must be bytes")
    expected = compute_mac(data, key, algorithm, length=len(mac), padding=padding)
    if not hmac.compare_digest(expected, bytes(mac)):
        raise MacMismatchError("MAC does not verify")


def mac_over_message(
    packed: bytes, key: KeyLike, algorithm: MacAlgorithm, mac_length: int = 8
) -> bytes:
    """MAC for an ISO 8583 message: ``packed`` is everything that precedes the MAC field.

    Hosts MAC the packed MTI, bitmap (with the MAC bit already set) and fields up to, but
    not including, field 64/128; this is :func:`compute_mac` over exactly those bytes.
    """
    return compute_mac(packed, key, algorithm, length=mac_length)
