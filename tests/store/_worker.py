"""Subprocess body for the crash and concurrency tests (run with ``python -m``).

``crash DIR START``: add journal entries and queue SAF messages forever, printing each id
only after its transaction committed; the test kills it with SIGKILL at a random moment.
``stan DIR COUNT``: print "ready", wait for a line on stdin, then draw COUNT STANs.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime, timedelta

from iso8583.acquirer.model import Request, TxnKind
from terminal.core.journal import JournalEntry
from terminal.store import TerminalStore, request_to_record
from tests.store.helpers import entry, printed, receipt_dict

BASE_TIME = datetime(2026, 1, 1, 8, 0, 0)


def crash_entry(seq: int) -> JournalEntry:
    when = BASE_TIME + timedelta(seconds=seq)
    stan = f"{seq % 1_000_000:06d}"
    return replace(
        entry(),
        stan=stan,
        amount=seq,
        local_time=when,
        receipt=receipt_dict(seq, stan=stan, when=when),
        copies=(printed(),),
    )


def crash(data_dir: str, start: int) -> None:
    with TerminalStore(data_dir) as store:
        seq = start
        while True:
            journal_id = store.journal.add(crash_entry(seq))
            print(f"J {journal_id} {seq}", flush=True)
            request = Request(
                kind=TxnKind.REVERSAL,
                stan=f"{seq % 1_000_000:06d}",
                local_time=BASE_TIME,
                terminal_id="10062345",
                merchant_id="898310058120001",
                amount=seq,
                pan="6222021234561236",
            )
            message_id = store.saf.push(journal_id, request_to_record(request, vault=store.vault))
            print(f"S {message_id} {journal_id} {seq}", flush=True)
            seq += 1


def stan(data_dir: str, count: int) -> None:
    with TerminalStore(data_dir) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        values = [store.counters.next_stan() for _ in range(count)]
    print(" ".join(values), flush=True)


if __name__ == "__main__":
    mode, directory, number = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"crash": crash, "stan": stan}[mode](directory, number)
