"""A real TUF repository on disk, served over loopback HTTP, with faults a test can switch on."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from firmware_update.keys import generate_keys, load_signers
from firmware_update.package import build_package
from firmware_update.publish import Expiry, Publisher, package_target_name
from firmware_update.server import RepoHandler, RepoServer
from firmware_update.versions import Version


@dataclass
class Faults:
    """Switched on by a test, read by the handler thread."""

    #: target-name fragment -> bytes to send before dropping the connection (once each)
    cut_after: dict[str, int] = field(default_factory=dict)
    #: (path, Range header, bytes sent) of every GET
    log: list[tuple[str, str | None, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bytes_sent(self, fragment: str) -> int:
        with self.lock:
            return sum(n for path, _, n in self.log if fragment in path)

    def ranges(self, fragment: str) -> list[str | None]:
        with self.lock:
            return [r for path, r, _ in self.log if fragment in path]


class FaultyHandler(RepoHandler):
    faults: Faults

    def send_body(self, handle: BinaryIO, offset: int, count: int) -> None:
        cut = None
        with self.faults.lock:
            for fragment, limit in list(self.faults.cut_after.items()):
                if fragment in self.path:
                    cut = limit
                    del self.faults.cut_after[fragment]
        send = count if cut is None else min(cut, count)
        self.wfile.flush()
        sent = self.connection.sendfile(handle, offset, send) if send else 0
        with self.faults.lock:
            self.faults.log.append((self.path, self.headers.get("Range"), sent))
        if cut is not None:
            self.close_connection = True
            self.connection.shutdown(2)


class Repo:
    """Publishes packages with real keys; ``url`` serves it while the fixture lives."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "repo"
        self.keys_dir = root / "keys"
        generate_keys(self.keys_dir)
        self.signers = load_signers(self.keys_dir)
        self.faults = Faults()
        handler = type("Handler", (FaultyHandler,), {"faults": self.faults})
        self.server: RepoServer | None = None
        self._handler = handler

    def start(self) -> str:
        self.server = RepoServer(self.dir, ("127.0.0.1", 0), self._handler)
        self.server.start()
        return self.server.url

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def publish(
        self,
        version: str,
        *,
        footer: str | None = None,
        min_version: str | None = None,
        models: tuple[str, ...] = (),
        size: int = 2048,
        now: datetime | None = None,
        expiry: Expiry | None = None,
        signers: dict | None = None,
    ) -> Path:
        """Build a package with ``size`` payload bytes and publish it; returns the target file."""
        src = self.root / f"src-{version}"
        src.mkdir(exist_ok=True)
        # incompressible, version-specific payload so sizes are what the test asked for
        seed = version.encode()
        blob = bytearray()
        counter = 0
        while len(blob) < size:
            import hashlib

            blob += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
        (src / "app.bin").write_bytes(bytes(blob[:size]))
        (src / "CHANGELOG.md").write_text(f"## {version}\n- test build\n")
        archive = self.root / package_target_name(version)
        manifest = build_package(
            src,
            archive,
            Version.parse(version),
            min_version=Version.parse(min_version) if min_version else None,
            models=models,
            params={"receipt_footer": [footer or f"firmware {version}"]},
        )
        publisher = Publisher(self.dir, signers or self.signers, now=now, expiry=expiry or Expiry())
        info = publisher.publish(archive, manifest)
        return self.dir / "targets" / f"{info.hashes['sha256']}.{package_target_name(version)}"

    def root_json(self) -> bytes:
        return (self.dir / "metadata" / "1.root.json").read_bytes()


def make_journal(data_dir: Path, rows: int = 5) -> None:
    """A terminal.db stand-in: a WAL SQLite file with a few journal rows."""
    data_dir.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(data_dir / "terminal.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY, amount INTEGER)")
    con.executemany("INSERT INTO journal (amount) VALUES (?)", [(i * 100,) for i in range(rows)])
    con.commit()
    con.close()


def journal_rows(data_dir: Path) -> list[tuple[int, int]]:
    con = sqlite3.connect(data_dir / "terminal.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return con.execute("SELECT id, amount FROM journal ORDER BY id").fetchall()
    finally:
        con.close()
