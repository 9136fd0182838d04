"""Known-answer and property tests for iso8583.keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583.errors import CryptoError
from iso8583.keys import (
    KcvMethod,
    Key,
    KeyAlgorithm,
    adjust_parity,
    decrypt_key,
    encrypt_key,
    generate_key,
    has_odd_parity,
    key_check_value,
    verify_kcv,
)

TDES = KeyAlgorithm.TDES
AES = KeyAlgorithm.AES
TEST_TDES = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
RFC4493_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")


def test_tdes_kcv_published_value() -> None:
    assert key_check_value(TEST_TDES, TDES).hex().upper() == "08D7B4"
    assert Key(TEST_TDES, TDES).kcv == "08D7B4"


def test_aes_kcv_is_cmac_of_zero_block() -> None:
    # X9.24-1:2017 / PCI PIN 15-1: AES check values use CMAC over an all-zero block.
    # The value is AES-CMAC(RFC 4493 key, 0^128); the CMAC itself is checked against
    # RFC 4493 in test_mac.py.
    assert key_check_value(RFC4493_KEY, AES).hex().upper() == "7AD386"
    assert key_check_value(RFC4493_KEY, AES, length=5).hex().upper() == "7AD386C376"


def test_kcv_method_rules() -> None:
    with pytest.raises(CryptoError):  # AES must use CMAC
        key_check_value(RFC4493_KEY, AES, method=KcvMethod.ENCRYPT_ZERO)
    with pytest.raises(CryptoError):  # encrypt-zero discloses at most 3 bytes
        key_check_value(TEST_TDES, TDES, length=4)
    with pytest.raises(CryptoError):  # CMAC discloses at most 5 bytes
        key_check_value(RFC4493_KEY, AES, length=6)
    with pytest.raises(CryptoError):  # raw 16 bytes are ambiguous without an algorithm
        key_check_value(TEST_TDES)
    tdes_cmac = key_check_value(TEST_TDES, TDES, method=KcvMethod.CMAC, length=5)
    assert len(tdes_cmac) == 5
    assert tdes_cmac[:3] != key_check_value(TEST_TDES, TDES)


def test_verify_kcv() -> None:
    verify_kcv(TEST_TDES, bytes.fromhex("08D7B4"), TDES)
    verify_kcv(Key(RFC4493_KEY, AES), bytes.fromhex("7AD386C376"))
    with pytest.raises(CryptoError):
        verify_kcv(TEST_TDES, bytes.fromhex("08D7B5"), TDES)


def test_repr_hides_key_material() -> None:
    key = Key(TEST_TDES, TDES)
    for text in (repr(key), str(key), f"{key}", repr([key]), repr({"k": key})):
        assert "0123456789" not in text.upper()
        assert "\\x01" not in text
        assert "08D7B4" in text


def test_key_equality_and_hash() -> None:
    a, b = Key(TEST_TDES, TDES), Key(bytes(TEST_TDES), TDES)
    assert a == b
    assert hash(a) == hash(b)
    assert a != Key(TEST_TDES, AES)
    assert a != Key(bytes(16), TDES)


def test_key_from_hex_and_validation() -> None:
    assert Key.from_hex("0123 4567 89AB CDEF FEDC BA98 7654 3210", TDES).kcv == "08D7B4"
    with pytest.raises(CryptoError):
        Key.from_hex("zz", TDES)
    with pytest.raises(CryptoError):
        Key(bytes(8), TDES)
    with pytest.raises(CryptoError):
        Key(bytes(20), AES)
    with pytest.raises(CryptoError):
        Key("0123456789ABCDEF", TDES)  # type: ignore[arg-type]
    with pytest.raises(CryptoError) as info:
        Key(bytes.fromhex("DEADBEEFDEADBEEF"), TDES)
    assert "DEADBEEF" not in str(info.value).upper()


def test_parity() -> None:
    assert has_odd_parity(TEST_TDES)
    assert not has_odd_parity(bytes.fromhex("1A1B"))
    assert adjust_parity(bytes.fromhex("00011A1BFEFF")).hex().upper() == "01011A1AFEFE"
    assert adjust_parity(TEST_TDES) == TEST_TDES


@given(st.binary(max_size=32))
def test_adjust_parity_properties(raw: bytes) -> None:
    fixed = adjust_parity(raw)
    assert has_odd_parity(fixed)
    assert adjust_parity(fixed) == fixed
    assert all((a ^ b) in (0, 1) for a, b in zip(raw, fixed, strict=True))


def test_generate_key() -> None:
    key = generate_key(TDES, 24)
    assert len(key.material) == 24
    assert has_odd_parity(key.material)
    assert len(generate_key(AES, 32).material) == 32
    with pytest.raises(CryptoError):
        generate_key(AES, 8)


def test_tdes_ecb_key_transport() -> None:
    # ECB of two zero blocks under the test key: both halves are the full KCV block.
    wrapped = encrypt_key(bytes(16), TEST_TDES, TDES)
    assert wrapped[:3].hex().upper() == "08D7B4"
    assert wrapped[:8] == wrapped[8:]
    assert decrypt_key(wrapped, Key(TEST_TDES, TDES)) == bytes(16)


@pytest.mark.parametrize(
    ("kek", "key", "wrapped"),
    [
        # RFC 3394 section 4.1: 128-bit key data under a 128-bit KEK
        (
            "000102030405060708090A0B0C0D0E0F",
            "00112233445566778899AABBCCDDEEFF",
            "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
        ),
        # RFC 3394 section 4.6: 256-bit key data under a 256-bit KEK
        (
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
            "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
        ),
    ],
)
def test_aes_key_wrap_rfc3394(kek: str, key: str, wrapped: str) -> None:
    master = Key(bytes.fromhex(kek), AES)
    assert encrypt_key(bytes.fromhex(key), master).hex().upper() == wrapped
    assert decrypt_key(bytes.fromhex(wrapped), master) == bytes.fromhex(key)


def test_aes_unwrap_detects_tampering_and_wrong_key() -> None:
    master = Key(bytes(16), AES)
    wrapped = bytearray(encrypt_key(TEST_TDES, master))
    wrapped[5] ^= 1
    with pytest.raises(CryptoError):
        decrypt_key(bytes(wrapped), master)
    with pytest.raises(CryptoError):
        decrypt_key(encrypt_key(TEST_TDES, master), Key(bytes([1] * 16), AES))


def test_key_transport_argument_errors() -> None:
    with pytest.raises(CryptoError):  # algorithm needed for raw master bytes
        encrypt_key(bytes(16), bytes(16))
    with pytest.raises(CryptoError):  # ECB needs whole blocks
        encrypt_key(bytes(12), TEST_TDES, TDES)
    with pytest.raises(CryptoError):  # RFC 3394 needs 16+ bytes
        encrypt_key(bytes(8), bytes(16), AES)
    with pytest.raises(CryptoError):
        decrypt_key(bytes(16), bytes(16), AES)


@settings(max_examples=60)
@given(
    kek=st.sampled_from([(TDES, 16), (TDES, 24), (AES, 16), (AES, 24), (AES, 32)]),
    seed=st.binary(min_size=32, max_size=32),
    working=st.sampled_from([16, 24, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
)
def test_key_transport_round_trip(
    kek: tuple[KeyAlgorithm, int], seed: bytes, working: bytes
) -> None:
    master = Key(seed[: kek[1]], kek[0])
    assert decrypt_key(encrypt_key(working, master), master) == working


@settings(max_examples=100)
@given(
    key=st.one_of(st.binary(max_size=40), st.text(max_size=3), st.none()),
    algorithm=st.sampled_from([*KeyAlgorithm, None, "AES"]),
    method=st.sampled_from([*KcvMethod, None]),
    length=st.integers(min_value=-1, max_value=8),
)
def test_arbitrary_kcv_inputs_raise_only_crypto_error(
    key: object, algorithm: object, method: object, length: int
) -> None:
    try:
        kcv = key_check_value(key, algorithm, method=method, length=length)  # type: ignore[arg-type]
    except CryptoError:
        return
    assert len(kcv) == length
