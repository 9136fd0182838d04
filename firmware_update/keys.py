"""Publisher keys: one Ed25519 key per TUF role, as PKCS#8 PEM files in a key directory.

One key per role (root, targets, snapshot, timestamp) so the keys that must be online for
daily re-signing (timestamp, snapshot) are not the one that decides who is trusted (root).
Files are written 0600 and never overwritten: losing a root key by a repeated ``keygen``
would orphan every terminal provisioned with it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner, SSlibKey

from firmware_update.errors import PublishError

__all__ = ["ROLES", "generate_keys", "load_signers"]

ROLES: Final = ("root", "targets", "snapshot", "timestamp")


def generate_keys(key_dir: Path) -> dict[str, str]:
    """Create ``<role>.pem`` for every role; returns role -> key id. Refuses to overwrite."""
    existing = [role for role in ROLES if (key_dir / f"{role}.pem").exists()]
    if existing:
        raise PublishError(f"{key_dir}: keys already exist ({', '.join(existing)}); not replaced")
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ids = {}
    for role in ROLES:
        signer = CryptoSigner(Ed25519PrivateKey.generate())
        path = key_dir / f"{role}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.private_bytes)
        ids[role] = signer.public_key.keyid
    return ids


def load_signers(key_dir: Path) -> dict[str, CryptoSigner]:
    """role -> signer from ``key_dir``; PublishError naming the missing or unreadable file."""
    signers = {}
    for role in ROLES:
        path = key_dir / f"{role}.pem"
        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError as exc:
            raise PublishError(f"{path}: no such key (run `posemu firmware keygen`)") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise PublishError(f"{path}: not a usable private key ({exc})") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise PublishError(f"{path}: not an Ed25519 key")
        signers[role] = CryptoSigner(key, SSlibKey.from_crypto(key.public_key()))
    return signers
