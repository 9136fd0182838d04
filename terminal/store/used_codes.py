"""Consumer-presented payment codes this terminal has already sent: a wallet code pays once.

Why a file of its own: the code is a bearer credential, so the journal keeps it masked
only and cannot tell two codes with the same first 6 / last 4 apart. Here each code is kept
as an HMAC-SHA256 under a random key made for this data directory (never the code, never a
plain hash that 10^8 guesses would reverse), with the journal id that used it. One engine
per data directory holds the engine lock while it reads or appends, so appends are safe.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Final

__all__ = ["USED_CODES_FILE", "UsedCodes"]

USED_CODES_FILE: Final = "used-payment-codes"
_HEADER: Final = "posemu-used-payment-codes v1 "
#: Newest digests kept: wallet codes expire within minutes, so this is years of payments.
_KEEP: Final = 100_000


class UsedCodes:
    """``seen(code)`` gives the journal id that used ``code`` before, or None."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / USED_CODES_FILE
        self._key: bytes | None = None
        self._seen: dict[str, int] | None = None

    def _load(self) -> dict[str, int]:
        if self._seen is not None:
            return self._seen
        seen: dict[str, int] = {}
        try:
            lines = self.path.read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            lines = []
        if lines and lines[0].startswith(_HEADER):
            self._key = bytes.fromhex(lines[0][len(_HEADER) :])
            for line in lines[1:]:
                digest, _, journal_id = line.partition(" ")
                if journal_id.isdigit():
                    seen[digest] = int(journal_id)
        self._seen = seen
        return seen

    def _digest(self, code: str) -> str:
        self._load()
        if self._key is None:
            self._key = secrets.token_bytes(32)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(_HEADER + self._key.hex() + "\n")
                out.flush()
                os.fsync(out.fileno())
        return hmac.new(self._key, code.strip().encode("utf-8"), hashlib.sha256).hexdigest()

    def seen(self, code: str) -> int | None:
        seen = self._load()
        if self._key is None:
            return None
        return seen.get(self._digest(code))

    def add(self, code: str, journal_id: int) -> None:
        digest = self._digest(code)
        seen = self._load()
        seen[digest] = journal_id
        with self.path.open("a", encoding="ascii") as out:
            out.write(f"{digest} {journal_id}\n")
            out.flush()
            os.fsync(out.fileno())
        if len(seen) > _KEEP:
            self._compact(seen)

    def _compact(self, seen: dict[str, int]) -> None:
        assert self._key is not None
        newest = sorted(seen.items(), key=lambda item: item[1])[-_KEEP:]
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="ascii") as out:
            out.write(_HEADER + self._key.hex() + "\n")
            out.writelines(f"{d} {j}\n" for d, j in newest)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        self._seen = dict(newest)
