"""Host state that outlives one process, shared safely between processes: SQLite.

``posemu pay`` runs the embedded host only for the length of one command, and two commands
may run at once on one data directory; ``posemu host --state FILE`` keeps a stand-alone host's
ledger across restarts. Every request is decided inside one write transaction
(``BEGIN IMMEDIATE``: the lock is taken *before* the state is read): if another process
committed since this one last looked (``PRAGMA data_version``), the ledger and keys are read
again first, and what the request changed is written before the commit. So no ledger entry is
lost and no RRN is handed out twice, whatever the number of processes.

The file holds rows and numbers only (never pickled objects: loading it cannot run code) and
the working keys encrypted under the TMK with their check values, as they went over the wire
at sign-on; keys that do not decrypt to their KCV under this host's TMK are dropped (the
terminal signs on again). A state file that exists but is empty or unreadable is an error
naming the file and what to do, never a silent reset.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from iso8583.acquirer.model import Totals, TxnKind
from iso8583.acquirer.security import WorkingKeys
from iso8583.errors import CryptoError
from iso8583.host.ledger import Answer, Entry, Ledger, OrderState, QrOrder, Status
from iso8583.host.rules import HostError
from iso8583.keys import Key, KeyAlgorithm, decrypt_key, encrypt_key, key_check_value


class _Engine(Protocol):
    """What the store needs of :class:`iso8583.host.engine.HostEngine` (no import cycle)."""

    ledger: Ledger

    @property
    def tmk(self) -> Key: ...

    def adopt(self, ledger: Ledger, keys: dict[str, WorkingKeys]) -> None: ...

    def take_key_changes(self) -> set[str]: ...

    def working_keys(self, terminal_id: str) -> WorkingKeys | None: ...


__all__ = ["LEGACY_STATE_FILE", "HostStateError", "HostStateStore", "state_file_for"]

_FORMAT = "posemu-host-state/3"
_FORMAT_2 = "posemu-host-state/2"  # entries without the merchant ID; upgraded on open
LEGACY_STATE_FILE = "host-state.pickle"
_BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY, tid TEXT NOT NULL, stan TEXT NOT NULL, batch TEXT NOT NULL,
    kind TEXT NOT NULL, amount INTEGER NOT NULL, rrn TEXT NOT NULL UNIQUE,
    auth_code TEXT NOT NULL, masked_pan TEXT NOT NULL, time TEXT NOT NULL,
    status TEXT NOT NULL, refunded INTEGER NOT NULL, completed INTEGER NOT NULL, ref_id INTEGER,
    mid TEXT NOT NULL DEFAULT ''
);
CREATE TABLE seen (
    tid TEXT, batch TEXT, stan TEXT, kind TEXT, code TEXT NOT NULL, auth_code TEXT NOT NULL,
    rrn TEXT NOT NULL, PRIMARY KEY (tid, batch, stan, kind)
);
CREATE TABLE closed (
    tid TEXT, batch TEXT, debit_count INTEGER, debit_amount INTEGER, credit_count INTEGER,
    credit_amount INTEGER, PRIMARY KEY (tid, batch)
);
CREATE TABLE uploads (tid TEXT, batch TEXT, records TEXT NOT NULL, PRIMARY KEY (tid, batch));
CREATE TABLE orders (
    ref TEXT PRIMARY KEY, tid TEXT NOT NULL, stan TEXT NOT NULL, batch TEXT NOT NULL,
    amount INTEGER NOT NULL, created TEXT NOT NULL, state TEXT NOT NULL, code TEXT NOT NULL,
    entry_id INTEGER, mid TEXT NOT NULL DEFAULT ''
);
CREATE TABLE codes (digest TEXT PRIMARY KEY, entry_id INTEGER NOT NULL);
CREATE TABLE keys (
    tid TEXT PRIMARY KEY, pin_key TEXT NOT NULL, pin_kcv TEXT NOT NULL, mac_key TEXT NOT NULL,
    mac_kcv TEXT NOT NULL
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


class HostStateError(HostError):
    """The host's state file cannot be used; the message names the file and the way out."""


def state_file_for(directory: Path, spec_name: str) -> Path:
    """One file per dialect in a state directory: each dialect is a host of its own."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in spec_name) or "spec"
    return directory / f"host-{safe}.db"


def _unusable(path: Path, why: str) -> HostStateError:
    return HostStateError(
        f"host state {path} {why}; restore it from a backup if you have one, or delete it to "
        "start the host afresh (its ledger, batches and terminal keys are then forgotten)"
    )


class HostStateStore:
    """The SQLite file of one host; attach it to an engine with :meth:`attach`."""

    def __init__(self, path: Path, spec_name: str) -> None:
        self.path = path
        self.spec_name = spec_name
        legacy = path.parent / LEGACY_STATE_FILE
        if legacy.exists() and not path.exists():
            raise HostStateError(
                f"{legacy} is host state of an older posemu, kept as a pickle, which is no "
                "longer read (loading a pickle can run code); delete it to start the host "
                "afresh"
            )
        if path.is_dir():
            raise HostStateError(
                f"host state {path} is a directory; give a file, e.g. {path / 'host.db'}"
            )
        if not path.exists():
            try:
                self._create(path, spec_name)
            except OSError as exc:
                raise HostStateError(
                    f"host state {path} cannot be created ({exc.strerror or exc})"
                ) from None
        elif path.stat().st_size == 0:
            raise _unusable(path, "is empty")
        try:
            self._db = _connect(path)
            with self._write():
                self._check()
        except sqlite3.DatabaseError as exc:
            raise _unusable(path, f"cannot be read ({exc})") from None
        self._version: int | None = None  # data_version when this process last read

    @staticmethod
    def _create(path: Path, spec_name: str) -> None:
        """Build the file aside and link it into place: nobody ever sees it half made."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
        tmp.unlink(missing_ok=True)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            db = _connect(tmp)
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [
                        ("format", _FORMAT),
                        ("spec", spec_name),
                        ("rrn_seq", str(secrets.randbelow(1_000_000))),
                    ],
                )
            finally:
                db.close()
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _check(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            raise _unusable(self.path, "is not a posemu host state")
        meta = dict(self._db.execute("SELECT key, value FROM meta"))
        if meta.get("format") == _FORMAT_2 and meta.get("spec") == self.spec_name:
            self._db.execute("ALTER TABLE entries ADD COLUMN mid TEXT NOT NULL DEFAULT ''")
            self._db.execute("ALTER TABLE orders ADD COLUMN mid TEXT NOT NULL DEFAULT ''")
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (_FORMAT,))
            meta["format"] = _FORMAT
        if meta.get("format") != _FORMAT:
            raise _unusable(self.path, f"has format {meta.get('format')!r}, not {_FORMAT!r}")
        if meta.get("spec") != self.spec_name:
            raise _unusable(self.path, f"belongs to dialect {meta.get('spec')!r}")

    @contextmanager
    def _write(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()

    # --- one request = one transaction -------------------------------------------------------
    @contextmanager
    def transaction(self, engine: _Engine) -> Iterator[None]:
        """Lock, bring ``engine`` up to date, let it decide, write what changed, commit."""
        try:
            with self._write():
                version = self._db.execute("PRAGMA data_version").fetchone()[0]
                if version != self._version:
                    self.load(engine)
                    self._version = version
                yield
                self._flush(engine)
        except BaseException:
            # Nothing of this request was committed: memory is read again from the file
            # before the next one, so it never holds what the file does not.
            self._version = None
            raise

    # --- reading -----------------------------------------------------------------------------
    def load(self, engine: _Engine) -> None:
        try:
            ledger = self._read_ledger()
            keys = self._read_keys(engine)
        except (ValueError, KeyError, TypeError) as exc:
            raise _unusable(self.path, f"holds a damaged row ({exc})") from None
        engine.adopt(ledger, keys)
        ledger.take_changes()
        engine.take_key_changes()

    def _read_ledger(self) -> Ledger:
        db = self._db
        entries = [
            Entry(
                id=r[0],
                tid=r[1],
                stan=r[2],
                batch=r[3],
                kind=TxnKind(r[4]),
                amount=int(r[5]),
                rrn=r[6],
                auth_code=r[7],
                masked_pan=r[8],
                time=datetime.fromisoformat(r[9]),
                status=Status(r[10]),
                refunded=int(r[11]),
                completed=bool(r[12]),
                ref_id=r[13],
                mid=r[14],
            )
            for r in db.execute("SELECT * FROM entries ORDER BY id")
        ]
        seen = {
            (r[0], r[1], r[2], TxnKind(r[3])): Answer(r[4], r[5], r[6])
            for r in db.execute("SELECT * FROM seen")
        }
        closed = {
            (r[0], r[1]): Totals(*map(int, r[2:6])) for r in db.execute("SELECT * FROM closed")
        }
        uploads = {
            (r[0], r[1]): {k: (bool(c), int(a)) for k, (c, a) in json.loads(r[2]).items()}
            for r in db.execute("SELECT * FROM uploads")
        }
        orders = [
            QrOrder(
                ref=r[0],
                tid=r[1],
                stan=r[2],
                batch=r[3],
                amount=int(r[4]),
                created=datetime.fromisoformat(r[5]),
                state=OrderState(r[6]),
                code=r[7],
                entry_id=r[8],
                mid=r[9],
            )
            for r in db.execute("SELECT * FROM orders")
        ]
        codes = dict(db.execute("SELECT digest, entry_id FROM codes"))
        seq = int(db.execute("SELECT value FROM meta WHERE key = 'rrn_seq'").fetchone()[0])
        return Ledger.from_rows(
            entries=entries,
            seen=seen,
            closed=closed,
            uploads=uploads,
            orders=orders,
            codes=codes,
            rrn_seq=seq,
        )

    def _read_keys(self, engine: _Engine) -> dict[str, WorkingKeys]:
        keys: dict[str, WorkingKeys] = {}
        for tid, pin, pin_kcv, mac, mac_kcv in self._db.execute("SELECT * FROM keys"):
            try:
                pin_key = Key(decrypt_key(bytes.fromhex(pin), engine.tmk), KeyAlgorithm.TDES)
                mac_key = Key(decrypt_key(bytes.fromhex(mac), engine.tmk), KeyAlgorithm.TDES)
            except CryptoError:
                continue
            if (
                key_check_value(pin_key).hex() != pin_kcv
                or key_check_value(mac_key).hex() != mac_kcv
            ):
                continue  # stored under another TMK: this terminal signs on again
            keys[tid] = WorkingKeys(pin_key, mac_key)
        return keys

    # --- writing -----------------------------------------------------------------------------
    def _flush(self, engine: _Engine) -> None:
        ledger = engine.ledger
        db = self._db
        for what, key in ledger.take_changes():
            if what == "entry":
                e = ledger.get(key)
                db.execute(
                    "INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        e.id,
                        e.tid,
                        e.stan,
                        e.batch,
                        e.kind.value,
                        e.amount,
                        e.rrn,
                        e.auth_code,
                        e.masked_pan,
                        e.time.isoformat(),
                        e.status.value,
                        e.refunded,
                        int(e.completed),
                        e.ref_id,
                        e.mid,
                    ),
                )
            elif what == "seen":
                a = ledger.seen(key)
                assert a is not None
                db.execute(
                    "INSERT OR REPLACE INTO seen VALUES (?,?,?,?,?,?,?)",
                    (*key[:3], key[3].value, a.code, a.auth_code, a.rrn),
                )
            elif what == "closed":
                t = ledger.closed_totals(*key)
                assert t is not None
                db.execute(
                    "INSERT OR REPLACE INTO closed VALUES (?,?,?,?,?,?)",
                    (*key, t.debit_count, t.debit_amount, t.credit_count, t.credit_amount),
                )
            elif what == "upload":
                records = ledger.upload_records(*key)
                db.execute(
                    "INSERT OR REPLACE INTO uploads VALUES (?,?,?)", (*key, json.dumps(records))
                )
            elif what == "order":
                o = ledger.order(key)
                assert o is not None
                db.execute(
                    "INSERT OR REPLACE INTO orders VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        o.ref,
                        o.tid,
                        o.stan,
                        o.batch,
                        o.amount,
                        o.created.isoformat(),
                        o.state.value,
                        o.code,
                        o.entry_id,
                        o.mid,
                    ),
                )
            elif what == "code":
                db.execute(
                    "INSERT OR REPLACE INTO codes VALUES (?,?)", (key, ledger.code_entry(key))
                )
            elif what == "rrn":
                db.execute(
                    "UPDATE meta SET value = ? WHERE key = 'rrn_seq'", (str(ledger.rrn_seq),)
                )
        for tid in engine.take_key_changes():
            keys = engine.working_keys(tid)
            if keys is None:
                db.execute("DELETE FROM keys WHERE tid = ?", (tid,))
                continue
            pin, mac = keys.pin_key, keys.mac_key
            db.execute(
                "INSERT OR REPLACE INTO keys VALUES (?,?,?,?,?)",
                (
                    tid,
                    encrypt_key(pin, engine.tmk).hex(),
                    key_check_value(pin).hex(),
                    encrypt_key(mac, engine.tmk).hex(),
                    key_check_value(mac).hex(),
                ),
            )

    # --- helpers for callers -----------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Counts for diagnostics (tests, ``posemu host`` start-up line)."""
        n = self._db.execute("SELECT count(*) FROM entries").fetchone()[0]
        return {"path": str(self.path), "entries": n}
