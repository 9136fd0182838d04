"""Known-answer and property tests for iso8583.pin."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583.errors import CryptoError
from iso8583.keys import Key, KeyAlgorithm
from iso8583.pin import (
    PinBlockFormat,
    clear_pin_field,
    decrypt_pin_block,
    encrypt_pin_block,
    pan_field,
)

ISO0 = PinBlockFormat.ISO_0
ISO4 = PinBlockFormat.ISO_4

# ep2 eft/pos 2000 Security Specification v8.0.0 section 8.4 (as quoted in psec's tests):
# AES key, ISO-4 block, PAN -> PIN 1234. Its deciphered PIN field carries this random half.
EP2_KEY = bytes.fromhex("C1D0F8FB4958670DBA40AB1F3752EF0D")
EP2_BLOCK = bytes.fromhex("CC17F65586BFD0953010226C4FC5B3CA")
EP2_PAN = "432198765432109870"
EP2_RANDOM = bytes.fromhex("146C6601F4A8035C")


def _clear_block(pin: str, pan: str) -> str:
    pin_part, pan_part = clear_pin_field(pin), pan_field(pan)
    return bytes(a ^ b for a, b in zip(pin_part, pan_part, strict=True)).hex().upper()


@pytest.mark.parametrize(
    ("pin", "pan", "expected"),
    [
        ("1234", "43219876543210987", "0412AC89ABCDEF67"),  # EFTlab "Complete list of PIN blocks"
        ("1234", "4987654321098765", "041242ABCDEF6789"),  # 3am Systems PIN block page
        ("1234", "5555555551234567", "041261AAAAEDCBA9"),  # psec test vectors
        ("123456789012", "5555555551234567", "0C1261032D8226A9"),  # psec test vectors
        ("1234", "4111111111111111", "041225EEEEEEEEEE"),  # 041234FF.. XOR 0000111111111111
    ],
)
def test_format0_clear_block(pin: str, pan: str, expected: str) -> None:
    assert _clear_block(pin, pan) == expected


def test_format0_field_layout() -> None:
    assert clear_pin_field("1234").hex().upper() == "041234FFFFFFFFFF"
    assert pan_field("43219876543210987").hex().upper() == "0000987654321098"
    # A 12-digit PAN leaves 11 digits once the check digit goes; they are zero-padded left.
    assert pan_field("123456789012").hex().upper() == "0000012345678901"


def test_format0_encrypted_known_answer() -> None:
    # devindtools.com PIN block calculator walk-through: ISO-0, double-length TDES key.
    key = bytes.fromhex("E8DD93B8AF13999C7644C0FE11F5D2A7")
    block = encrypt_pin_block("123456", "4451234567890129", key)
    assert block.hex().upper() == "ABC5E23474210DAC"
    assert decrypt_pin_block(block, "4451234567890129", key) == "123456"
    assert decrypt_pin_block(block, "4451234567890129", Key(key, KeyAlgorithm.TDES)) == "123456"


def test_format4_ep2_vector_decrypts() -> None:
    assert decrypt_pin_block(EP2_BLOCK, EP2_PAN, EP2_KEY, ISO4) == "1234"


def test_format4_ep2_vector_encrypts_with_injected_random() -> None:
    block = encrypt_pin_block("1234", EP2_PAN, EP2_KEY, ISO4, rng=lambda n: EP2_RANDOM[:n])
    assert block == EP2_BLOCK


def test_format4_psec_deterministic_vector() -> None:
    # psec's deterministic case: random half all 0xFF, AES-128, 19-digit PAN.
    key = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    block = encrypt_pin_block("1234", "1234567890123456789", key, ISO4, rng=lambda n: b"\xff" * n)
    assert block.hex().upper() == "28B41FDDD29B743E93124BD8E32D921E"


def test_format4_field_layout() -> None:
    field = clear_pin_field("1234", ISO4, rng=lambda n: bytes(range(n)))
    assert field.hex().upper() == "441234AAAAAAAAAA0001020304050607"
    assert pan_field(EP2_PAN, ISO4).hex().upper() == "64321987654321098700000000000000"
    assert pan_field("123456789012", ISO4).hex().upper() == "01234567890120000000000000000000"
    assert pan_field("1234567890123456789", ISO4).hex().upper() == (
        "71234567890123456789000000000000"
    )


@given(pin=st.from_regex(r"[0-9]{4,12}", fullmatch=True), rnd=st.binary(min_size=8, max_size=8))
def test_format4_pin_field_structure(pin: str, rnd: bytes) -> None:
    nibbles = clear_pin_field(pin, ISO4, rng=lambda n: rnd).hex().upper()
    assert nibbles[0] == "4"
    assert int(nibbles[1], 16) == len(pin)
    assert nibbles[2 : 2 + len(pin)] == pin
    assert set(nibbles[2 + len(pin) : 16]) <= {"A"}
    assert bytes.fromhex(nibbles[16:]) == rnd


def test_format4_random_half_differs_between_calls() -> None:
    a = encrypt_pin_block("1234", EP2_PAN, EP2_KEY, ISO4)
    b = encrypt_pin_block("1234", EP2_PAN, EP2_KEY, ISO4)
    assert a != b
    assert decrypt_pin_block(a, EP2_PAN, EP2_KEY, ISO4) == "1234"


def test_wrong_pan_or_key_is_rejected() -> None:
    key = bytes.fromhex("E8DD93B8AF13999C7644C0FE11F5D2A7")
    block = encrypt_pin_block("1234", "4451234567890129", key)
    with pytest.raises(CryptoError):  # differs inside the fill nibbles
        decrypt_pin_block(block, "4451234567890999", key)
    with pytest.raises(CryptoError):
        decrypt_pin_block(EP2_BLOCK, "432198765432109871", EP2_KEY, ISO4)
    with pytest.raises(CryptoError):
        decrypt_pin_block(EP2_BLOCK, EP2_PAN, bytes(16), ISO4)


@pytest.mark.parametrize(
    ("pin", "pan", "key", "fmt"),
    [
        ("123", "4111111111111111", bytes(16), ISO0),
        ("1234567890123", "4111111111111111", bytes(16), ISO0),
        ("12a4", "4111111111111111", bytes(16), ISO0),
        ("١٢٣٤", "4111111111111111", bytes(16), ISO0),  # non-ASCII digits
        ("1234", "41111111111", bytes(16), ISO0),
        ("1234", "41111111111111111111", bytes(16), ISO0),
        ("1234", "4111 1111 1111 1111", bytes(16), ISO0),
        ("1234", "4111111111111111", bytes(8), ISO0),
        ("1234", "4111111111111111", bytes(32), ISO0),
        ("1234", "4111111111111111", bytes(8), ISO4),
        ("1234", "4111111111111111", Key(bytes(16), KeyAlgorithm.AES), ISO0),
        ("1234", "4111111111111111", bytes(16), 4),
        (1234, "4111111111111111", bytes(16), ISO0),
    ],
)
def test_invalid_encrypt_inputs(pin: object, pan: object, key: object, fmt: object) -> None:
    with pytest.raises(CryptoError) as info:
        encrypt_pin_block(pin, pan, key, fmt)  # type: ignore[arg-type]
    assert "1234" not in str(info.value)  # the PIN never appears in an error


def test_bad_random_source_is_rejected() -> None:
    with pytest.raises(CryptoError):
        encrypt_pin_block("1234", EP2_PAN, EP2_KEY, ISO4, rng=lambda n: b"short")


def test_block_length_is_checked() -> None:
    with pytest.raises(CryptoError):
        decrypt_pin_block(EP2_BLOCK, EP2_PAN, bytes(16), ISO0)
    with pytest.raises(CryptoError):
        decrypt_pin_block(EP2_BLOCK[:8], EP2_PAN, EP2_KEY, ISO4)


_PIN = st.from_regex(r"[0-9]{4,12}", fullmatch=True)
_PAN = st.from_regex(r"[0-9]{12,19}", fullmatch=True)


@settings(max_examples=80)
@given(
    pin=_PIN,
    pan=_PAN,
    key=st.sampled_from([16, 24]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
)
def test_format0_round_trip(pin: str, pan: str, key: bytes) -> None:
    assert decrypt_pin_block(encrypt_pin_block(pin, pan, key), pan, key) == pin


@settings(max_examples=80)
@given(
    pin=_PIN,
    pan=_PAN,
    key=st.sampled_from([16, 24, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
)
def test_format4_round_trip(pin: str, pan: str, key: bytes) -> None:
    block = encrypt_pin_block(pin, pan, key, ISO4)
    assert len(block) == 16
    assert decrypt_pin_block(block, pan, key, ISO4) == pin


@settings(max_examples=150)
@given(
    pin=st.one_of(st.text(max_size=14), _PIN, st.none()),
    pan=st.one_of(st.text(max_size=21), _PAN, st.integers()),
    key=st.binary(max_size=33),
    fmt=st.sampled_from([*PinBlockFormat, None]),
    block=st.binary(max_size=17),
)
def test_arbitrary_inputs_raise_only_crypto_error(
    pin: object, pan: object, key: bytes, fmt: object, block: bytes
) -> None:
    with contextlib.suppress(CryptoError):
        encrypt_pin_block(pin, pan, key, fmt)  # type: ignore[arg-type]
    with contextlib.suppress(CryptoError):
        decrypt_pin_block(block, pan, key, fmt)  # type: ignore[arg-type]
