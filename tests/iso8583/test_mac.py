"""Known-answer and property tests for iso8583.mac."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583.errors import CryptoError, MacMismatchError
from iso8583.keys import Key, KeyAlgorithm
from iso8583.mac import MacAlgorithm, MacPadding, compute_mac, mac_over_message, verify_mac

# moov-io/iso8583 issue 253: a 0800 network message, key and expected MACs.
MOOV_DATA = bytes.fromhex(
    "0800603804010881000116837299000022446695128200000209514005310100061999001200000000"
    "243139303030303239000702000430303030"
)
MOOV_KEY = bytes.fromhex("1A1B1C1D1E1F2A2B2C2D2E2F3A3B3C3D")

# RFC 4493 / NIST SP 800-38B AES-CMAC examples.
RFC4493_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
RFC4493_MSG = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)

HELLO_KEY = bytes.fromhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB")


def test_moov_issue_253_alg1_tdes_cbc_mac() -> None:
    # The published value is 3DES-CBC over every block: alg. 1 with the TDES cipher.
    mac = compute_mac(MOOV_DATA, MOOV_KEY, MacAlgorithm.ISO9797_ALG1)
    assert mac.hex() == "23d628cf6063ad4e"


def test_moov_issue_253_retail_mac() -> None:
    mac = compute_mac(MOOV_DATA, MOOV_KEY, MacAlgorithm.ISO9797_ALG3)
    assert mac.hex() == "b23072f0ef447858"
    assert MacAlgorithm.RETAIL is MacAlgorithm.ISO9797_ALG3


@pytest.mark.parametrize(
    ("algorithm", "padding", "expected"),
    [
        # psec (knovichikhin/psec) generate_cbc_mac vectors, TDES CBC-MAC
        (MacAlgorithm.ISO9797_ALG1, MacPadding.METHOD_1, "68D9038F23360DF3"),
        (MacAlgorithm.ISO9797_ALG1, MacPadding.METHOD_2, "32DC341271ACCD00"),
        # pyemv mac_iso9797_3 vectors
        (MacAlgorithm.ISO9797_ALG3, MacPadding.METHOD_1, "78DA3D3DEB48FD4D"),
        (MacAlgorithm.ISO9797_ALG3, MacPadding.METHOD_2, "2BC2D9EDE0CF31F6"),
    ],
)
def test_padding_methods_known_answers(
    algorithm: MacAlgorithm, padding: MacPadding, expected: str
) -> None:
    assert compute_mac(b"hello world", HELLO_KEY, algorithm, padding=padding).hex().upper() == (
        expected
    )


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ],
)
def test_aes_cmac_rfc4493(length: int, expected: str) -> None:
    mac = compute_mac(RFC4493_MSG[:length], RFC4493_KEY, MacAlgorithm.AES_CMAC, length=16)
    assert mac.hex() == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "d17ddf46adaacde531cac483de7a9367"),
        (
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            "028962f61b7bf89efc6b551f4667d983",
        ),
    ],
)
def test_aes_cmac_sp800_38b_empty_message(key: str, expected: str) -> None:
    assert compute_mac(b"", bytes.fromhex(key), MacAlgorithm.AES_CMAC, length=16).hex() == expected


def test_truncation_keeps_leftmost_bytes() -> None:
    full = compute_mac(b"", RFC4493_KEY, MacAlgorithm.AES_CMAC, length=16)
    assert compute_mac(b"", RFC4493_KEY, MacAlgorithm.AES_CMAC) == full[:8]
    assert compute_mac(MOOV_DATA, MOOV_KEY, MacAlgorithm.RETAIL, length=4).hex() == "b23072f0"


def test_padding_method_1_empty_message_is_one_zero_block() -> None:
    assert compute_mac(b"", HELLO_KEY, MacAlgorithm.ISO9797_ALG1) == compute_mac(
        bytes(8), HELLO_KEY, MacAlgorithm.ISO9797_ALG1
    )


def test_key_objects_and_24_byte_tdes() -> None:
    key = Key(MOOV_KEY, KeyAlgorithm.TDES)
    assert compute_mac(MOOV_DATA, key, MacAlgorithm.ISO9797_ALG1).hex() == "23d628cf6063ad4e"
    # K1||K2||K1 is the same cipher as the double-length key.
    triple = MOOV_KEY + MOOV_KEY[:8]
    assert compute_mac(MOOV_DATA, triple, MacAlgorithm.ISO9797_ALG1).hex() == "23d628cf6063ad4e"


def test_mac_over_message_is_compute_mac() -> None:
    assert mac_over_message(MOOV_DATA, MOOV_KEY, MacAlgorithm.ISO9797_ALG1) == bytes.fromhex(
        "23d628cf6063ad4e"
    )
    assert mac_over_message(MOOV_DATA, MOOV_KEY, MacAlgorithm.RETAIL, 4).hex() == "b23072f0"


def test_verify_mac_accepts_and_rejects() -> None:
    verify_mac(MOOV_DATA, bytes.fromhex("b23072f0ef447858"), MOOV_KEY, MacAlgorithm.RETAIL)
    verify_mac(MOOV_DATA, bytes.fromhex("b23072f0"), MOOV_KEY, MacAlgorithm.RETAIL)
    with pytest.raises(MacMismatchError):
        verify_mac(MOOV_DATA, bytes.fromhex("b23072f0ef447859"), MOOV_KEY, MacAlgorithm.RETAIL)
    with pytest.raises(MacMismatchError):
        verify_mac(MOOV_DATA + b"\x00", bytes(8), MOOV_KEY, MacAlgorithm.ISO9797_ALG1)


@pytest.mark.parametrize(
    ("kwargs", "algorithm", "key"),
    [
        ({}, MacAlgorithm.ISO9797_ALG1, bytes(8)),  # single-DES key not offered
        ({}, MacAlgorithm.ISO9797_ALG3, bytes(24)),  # retail MAC takes K||K' only
        ({}, MacAlgorithm.AES_CMAC, bytes(8)),
        ({"length": 3}, MacAlgorithm.ISO9797_ALG1, bytes(16)),
        ({"length": 9}, MacAlgorithm.ISO9797_ALG1, bytes(16)),
        ({"length": 17}, MacAlgorithm.AES_CMAC, bytes(16)),
        ({"padding": MacPadding.METHOD_2}, MacAlgorithm.AES_CMAC, bytes(16)),
        ({}, "AES_CMAC", bytes(16)),
    ],
)
def test_invalid_inputs(kwargs: dict, algorithm: MacAlgorithm, key: bytes) -> None:
    with pytest.raises(CryptoError):
        compute_mac(b"data", key, algorithm, **kwargs)


def test_wrong_key_algorithm_object_rejected() -> None:
    with pytest.raises(CryptoError):
        compute_mac(b"x", Key(bytes(16), KeyAlgorithm.AES), MacAlgorithm.ISO9797_ALG1)


def test_errors_never_show_key_material() -> None:
    key = bytes.fromhex("1A1B1C1D1E1F2A2B2C2D2E2F3A3B3C")  # 15 bytes: invalid
    with pytest.raises(CryptoError) as info:
        compute_mac(b"x", key, MacAlgorithm.ISO9797_ALG1)
    assert "1a1b" not in str(info.value).lower()


_ALG_KEYS = st.sampled_from(
    [
        (MacAlgorithm.ISO9797_ALG1, 16),
        (MacAlgorithm.ISO9797_ALG1, 24),
        (MacAlgorithm.ISO9797_ALG3, 16),
        (MacAlgorithm.AES_CMAC, 16),
        (MacAlgorithm.AES_CMAC, 24),
        (MacAlgorithm.AES_CMAC, 32),
    ]
)


@settings(max_examples=60)
@given(alg_key=_ALG_KEYS, seed=st.binary(min_size=32, max_size=32), data=st.binary(max_size=64))
def test_verify_accepts_computed_and_rejects_any_mac_bit_flip(
    alg_key: tuple[MacAlgorithm, int], seed: bytes, data: bytes
) -> None:
    algorithm, key_len = alg_key
    key = seed[:key_len]
    mac = compute_mac(data, key, algorithm)
    verify_mac(data, mac, key, algorithm)
    for bit in range(len(mac) * 8):
        flipped = bytearray(mac)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(MacMismatchError):
            verify_mac(data, bytes(flipped), key, algorithm)


@settings(max_examples=60)
@given(
    alg_key=_ALG_KEYS,
    seed=st.binary(min_size=32, max_size=32),
    data=st.binary(min_size=1, max_size=64),
    where=st.integers(min_value=0),
)
def test_any_data_bit_flip_breaks_full_length_mac(
    alg_key: tuple[MacAlgorithm, int], seed: bytes, data: bytes, where: int
) -> None:
    # For equal-length inputs CBC-MAC and CMAC are injective, so the full MAC must change.
    algorithm, key_len = alg_key
    key = seed[:key_len]
    full = algorithm.block_size
    mac = compute_mac(data, key, algorithm, length=full)
    bit = where % (len(data) * 8)
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(MacMismatchError):
        verify_mac(bytes(flipped), mac, key, algorithm)


@settings(max_examples=150)
@given(
    algorithm=st.sampled_from([*MacAlgorithm, None, "alg1"]),
    key=st.one_of(st.binary(max_size=40), st.text(max_size=4), st.none()),
    data=st.one_of(st.binary(max_size=20), st.text(max_size=4), st.integers()),
    length=st.one_of(st.integers(min_value=-2, max_value=20), st.booleans()),
    padding=st.sampled_from([None, *MacPadding, 1]),
)
def test_arbitrary_inputs_raise_only_crypto_error(
    algorithm: object, key: object, data: object, length: object, padding: object
) -> None:
    try:
        mac = compute_mac(data, key, algorithm, length=length, padding=padding)  # type: ignore[arg-type]
    except CryptoError:
        return
    assert isinstance(mac, bytes)
    assert len(mac) == length
