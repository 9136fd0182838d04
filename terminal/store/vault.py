"""Card data protection at rest: seal what must be kept, refuse what must never be kept.

A reversal or a void of the original card may need the PAN (and expiry) again, so those are
kept only as AES-256-GCM tokens under a terminal data key. The key lives in its own file
(``data_key``, 0600) beside the database, never inside it: a copied database or backup alone
reveals nothing. Track data, CVV and PIN blocks are never kept at all; :func:`refuse_card_data`
is the guard every write goes through.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from iso8583.masking import has_pan
from terminal.store.errors import SensitiveDataError, VaultError

__all__ = ["KEY_FILE_NAME", "KeyLedger", "Vault", "card_data_in", "key_id", "refuse_card_data"]

KEY_FILE_NAME: Final = "data_key"
_KEY_BYTES: Final = 32
_NONCE_BYTES: Final = 12
_TOKEN_VERSION: Final = "v1"
_AAD: Final = b"posemu/vault/v1"

_TRACK2: Final = re.compile(r"[0-9]{12,19}[=D][0-9]{4}")  # PAN, separator, YYMM
_TRACK1: Final = re.compile(r"[Bb][0-9]{12,19}\^")


def card_data_in(text: str) -> str | None:
    """What card data ``text`` carries ("track data", "a full PAN"), or None."""
    if _TRACK1.search(text) or _TRACK2.search(text):
        return "track data"
    if has_pan(text):
        return "a full PAN"
    return None


def refuse_card_data(
    value: object,
    *,
    field: str,
    path: Path | None = None,
    skip: Collection[str] = (),
) -> None:
    """Raise :class:`SensitiveDataError` if any string inside ``value`` carries card data.

    ``skip`` names mapping keys not to scan: identifiers such as a 15-digit merchant ID may
    pass the Luhn check by chance and are not card data.
    """
    if isinstance(value, str):
        found = card_data_in(value)
        if found is not None:
            raise SensitiveDataError(
                f"contains {found}; only masked card numbers may be stored", path=path, field=field
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in skip:
                refuse_card_data(item, field=f"{field}.{key}", path=path, skip=skip)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            refuse_card_data(item, field=f"{field}[{index}]", path=path, skip=skip)


_NEW_KEY_HINT: Final = (
    "put back the data_key this store was using (from the copy you keep apart), or, if it"
    " is lost for good, start a new key explicitly: posemu store new-key --yes --data-dir {dir}"
    " (tokens sealed under the old key are deleted)"
)


def key_id(key: bytes) -> str:
    """The key's check value: identifies it in tokens and in the database, reveals nothing."""
    return hashlib.sha256(b"posemu key id" + key).hexdigest()[:8]


class KeyLedger(Protocol):
    """Where the store records which key its tokens were sealed under."""

    def expected_key_id(self) -> str | None: ...
    def record_key_id(self, key_id: str) -> None: ...
    def tokens_left(self) -> int: ...


class Vault:
    """Seal and open short secrets (PAN, expiry) with the terminal data key at ``path``.

    The key is generated on first :meth:`seal`; :meth:`open` never creates one, since a new
    key could not open the old tokens anyway. With a ``ledger`` the key's check value is
    recorded in the database, so a key file that was replaced, damaged or deleted is
    reported (:class:`VaultError`) instead of silently replaced.
    """

    def __init__(self, path: Path | str, ledger: KeyLedger | None = None) -> None:
        self.path = Path(path)
        self._ledger = ledger
        self._aead: AESGCM | None = None
        self._key_id = ""
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the key never appears in logs
        return f"Vault({str(self.path)!r})"

    @property
    def has_key(self) -> bool:
        return self.path.exists()

    def seal(self, value: str) -> str:
        """A token ``v1:<key id>:<nonce+ciphertext>`` that only this data key opens."""
        if not isinstance(value, str) or not value:
            raise VaultError("only non-empty text can be sealed", path=self.path)
        aead, key_id = self._load(create=True)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = aead.encrypt(nonce, value.encode(), _AAD)
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"{_TOKEN_VERSION}:{key_id}:{body}"

    def open(self, token: str) -> str:
        """The value sealed in ``token``; VaultError if it is damaged or not ours."""
        parts = token.split(":") if isinstance(token, str) else []
        if len(parts) != 3 or parts[0] != _TOKEN_VERSION:
            raise VaultError("not a vault token", path=self.path)
        aead, key_id = self._load(create=False)
        if parts[1] != key_id:
            raise VaultError(
                f"token was sealed under another data key (id {parts[1]}, this key is {key_id})",
                path=self.path,
            )
        try:
            raw = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD).decode()
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise VaultError("token is damaged or was tampered with", path=self.path) from exc

    def check(self) -> str | None:
        """The key's check value after verifying it against the store; None if no key yet."""
        if not self.path.exists() and self._expected() is None:
            return None
        return self._load(create=False)[1]

    def _left(self) -> str:
        left = 0 if self._ledger is None else self._ledger.tokens_left()
        if left == 0:
            return "none is kept any more, so a new key loses nothing"
        return f"{left} still kept"

    def _expected(self) -> str | None:
        return None if self._ledger is None else self._ledger.expected_key_id()

    def _load(self, *, create: bool) -> tuple[AESGCM, str]:
        with self._lock:
            if self._aead is None:
                expected = self._expected()
                if not self.path.exists():
                    if expected is not None:
                        raise VaultError(
                            f"the data key is missing, but this store's tokens were sealed"
                            f" under key {expected} ({self._left()}); "
                            + _NEW_KEY_HINT.format(dir=self.path.parent),
                            path=self.path,
                        )
                    if create:
                        self._create()
                key = self._read()
                found = key_id(key)
                if expected is not None and found != expected:
                    raise VaultError(
                        f"the data key was replaced or damaged: its check value is {found},"
                        f" this store's tokens were sealed under {expected} ({self._left()}); "
                        + _NEW_KEY_HINT.format(dir=self.path.parent),
                        path=self.path,
                    )
                if expected is None and self._ledger is not None:
                    self._ledger.record_key_id(found)
                self._aead = AESGCM(key)
                self._key_id = found
            return self._aead, self._key_id

    def forget(self) -> None:
        """Drop the cached key (after the key file was changed on purpose)."""
        with self._lock:
            self._aead = None
            self._key_id = ""

    def _read(self) -> bytes:
        try:
            stat = self.path.stat()
            if os.name == "posix" and stat.st_mode & 0o077:
                raise VaultError(
                    f"data key is readable by others (mode {stat.st_mode & 0o777:o}); chmod 600 it",
                    path=self.path,
                )
            key = self.path.read_bytes()
        except FileNotFoundError as exc:
            raise VaultError("no data key: nothing was ever sealed here", path=self.path) from exc
        except OSError as exc:
            raise VaultError(f"cannot read the data key: {exc.strerror}", path=self.path) from exc
        if len(key) != _KEY_BYTES:
            raise VaultError(
                f"data key is {len(key)} bytes, expected {_KEY_BYTES}: damaged; "
                + _NEW_KEY_HINT.format(dir=self.path.parent),
                path=self.path,
            )
        return key

    def _create(self) -> None:
        """Write the key completely, then link it into place: a racing process sees either
        no key or a whole one, and exactly one key wins."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_bytes(_KEY_BYTES))
                os.fsync(fd)
            finally:
                os.close(fd)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, self.path)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise VaultError(f"cannot create the data key: {exc.strerror}", path=self.path) from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
