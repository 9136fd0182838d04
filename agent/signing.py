"""Ed25519 command signatures: the TMS signs, the terminal verifies with the TMS public key.

What is signed is the command object without its ``sig`` member, serialised canonically
(sorted keys, no spaces, UTF-8), so any TMS in any language can produce the same bytes.
``sig`` is the base64 of the 64-byte signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.errors import KeyFileError

__all__ = [
    "canonical_bytes",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "sign_command",
    "verify_command",
]


def canonical_bytes(command: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in command.items() if k != "sig"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_command(command: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    signed = dict(command)
    signed["sig"] = base64.b64encode(key.sign(canonical_bytes(command))).decode()
    return signed


def verify_command(command: dict[str, Any], key: Ed25519PublicKey) -> str | None:
    """None if the signature is good, else the reason it is not."""
    sig = command.get("sig")
    if sig is None:
        return "unsigned command (this terminal requires commands signed with the TMS key)"
    if not isinstance(sig, str):
        return "sig must be a base64 string"
    try:
        raw = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        return "sig is not valid base64"
    try:
        key.verify(raw, canonical_bytes(command))
    except InvalidSignature:
        return "bad signature (not signed with the configured TMS key, or altered)"
    return None


def generate_keypair(private_path: Path, public_path: Path) -> None:
    """Write a new TMS key pair as PEM; the private key file is created 0600."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    public_path.write_bytes(public_pem)


def _read(path: Path | str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{what} {path}: {exc.strerror or exc}") from exc


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    data = _read(path, "TMS key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"TMS key {path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"TMS key {path}: not an Ed25519 key")
    return key


def load_public_key(path: Path | str) -> Ed25519PublicKey:
    """The TMS public key (PEM); a private key file is accepted too (its public half is used)."""
    data = _read(path, "TMS public key")
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"TMS public key {path}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"TMS public key {path}: not an Ed25519 key")
    return key
