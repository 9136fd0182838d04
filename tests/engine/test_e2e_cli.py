"""End to end: ``posemu pay ...`` subprocesses against a ``posemu host`` subprocess on loopback.

Every transaction type, every default host rule, a timeout that ends in a reversal with the
original STAN, settlement with and without a mismatch, a ``kill -9`` mid-transaction, bad
input, a host that answers garbage, and a scan of everything written for card data.
"""

from __future__ import annotations

import re
import signal
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from terminal.core.journal import JournalQuery, PrintStatus, TxnState
from terminal.core.qr import parse_mpm
from terminal.store import TerminalStore

from .clirun import Host, pay, posemu, posemu_host, spawn_pay
from .scan import card_data_in_files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def host(folder) -> Iterator[Host]:
    with posemu_host(folder / "host") as h:
        yield h


@pytest.fixture(scope="module")
def data_dir(folder) -> Path:
    return folder / "terminal"


def journal_entries(data_dir: Path):
    with TerminalStore(data_dir, create=False) as store:
        return store.journal.find(JournalQuery(limit=1000)), store.saf.pending()


KEYS = {
    "approved",
    "response_code",
    "response_text",
    "auth_code",
    "rrn",
    "stan",
    "masked_pan",
    "amount",
    "currency",
    "journal_id",
    "receipt",
    "reversal_pending",
}


def test_every_transaction_type(host, data_dir):
    signon = pay("signon", host, data_dir)
    assert (signon.code, signon.json["approved"]) == (0, True)
    assert pay("echo", host, data_dir).code == 0

    sale = pay("sale", host, data_dir, "--amount", "12.34", "--card", "visa-approve")
    body = sale.json
    assert sale.code == 0
    assert set(body) >= KEYS
    assert (body["amount"], body["currency"], body["response_code"]) == ("12.34", "156", "00")
    assert body["masked_pan"] == "476173******0010"
    assert "APPROVED" in body["receipt"]
    void = pay("void", host, data_dir, "--stan", body["stan"])
    assert (void.code, void.json["approved"], void.json["amount"]) == (0, True, "12.34")

    swipe = pay("sale", host, data_dir, "--amount", "50", "--track2", ";5413330089010434=3012101?")
    assert swipe.code == 0
    refund = pay("refund", host, data_dir, "--amount", "20.00", "--rrn", swipe.json["rrn"])
    assert (refund.code, refund.json["approved"]) == (0, True)

    keyed = pay(
        "sale", host, data_dir, "--amount", "3", "--pan", "6011000990139424", "--expiry", "3012"
    )
    assert (keyed.code, keyed.json["masked_pan"]) == (0, "601100******9424")
    reader = ";3566002020360505=30121010000?\r"
    track = pay("sale", host, data_dir, "--amount", "4", "--track", reader)
    assert track.code == 0

    pre = pay("preauth", host, data_dir, "--amount", "80", "--card", "jcb-approve")
    assert pre.code == 0
    done = pay(
        "completion", host, data_dir, "--amount", "75.5", "--id", str(pre.json["journal_id"])
    )
    assert (done.code, done.json["approved"]) == (0, True)

    balance = pay("balance", host, data_dir, "--card", "debit-pin", "--pin", "1234")
    assert (balance.code, balance.json["balance"]) == (0, "1000.00")

    cpm = pay("qr-cpm", host, data_dir, "--amount", "7", "--code", "134567890123456789")
    assert (cpm.code, cpm.json["approved"]) == (0, True)

    mpm = pay("qr-mpm", host, data_dir, "--amount", "18.80", "--render")
    assert (mpm.code, mpm.json["approved"]) == (0, True)
    payload = mpm.err.splitlines()[0]  # with --json the QR goes to stderr
    parsed = parse_mpm(payload)
    assert parsed.additional_data.terminal_label == "POSEMU01"
    assert parsed.additional_data.reference_label == mpm.json["order_ref"]
    assert any("█" in line for line in mpm.err.splitlines())
    declined = pay("qr-mpm", host, data_dir, "--amount", "18.81", "--simulate", "decline")
    assert (declined.code, declined.json["response_code"]) == (1, "05")

    entries, pending = journal_entries(data_dir)
    assert pending == []
    printed = [e for e in entries if e.receipt is not None]
    assert printed
    for entry in printed:
        statuses = {c.copy: c.status for c in entry.copies}
        assert statuses["merchant"] is PrintStatus.PRINTED


RULES = [
    (["--amount", "1.00", "--card", "visa-approve"], "00"),
    (["--amount", "1.05", "--card", "visa-approve"], "05"),
    (["--amount", "1.14", "--card", "visa-approve"], "14"),
    (["--amount", "1.51", "--card", "visa-approve"], "51"),
    (["--amount", "1.54", "--card", "visa-approve"], "54"),
    (["--amount", "1.55", "--card", "visa-approve"], "55"),
    (["--amount", "1.91", "--card", "visa-approve"], "91"),
    (["--amount", "1.00", "--card", "visa-expired"], "54"),
    (["--amount", "1.00", "--card", "luhn-bad"], "14"),
    (["--amount", "1.00", "--card", "visa-blocked"], "43"),
    (["--amount", "1.00", "--card", "visa-decline"], "05"),
    (["--amount", "1.00", "--card", "debit-pin", "--pin", "4321"], "55"),
    (["--amount", "1.00", "--card", "unionpay-debit-pin", "--pin", "1234"], "00"),
]


def test_default_rules(host, data_dir):
    # Side by side: the processes start in parallel and queue for the terminal (engine.lock).
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda case: pay("sale", host, data_dir, *case[0]), RULES))
    for (args, code), run in zip(RULES, runs, strict=True):
        assert run.json["response_code"] == code, (args, run.out, run.err)
        assert run.code == (0 if code == "00" else 1), args
    entries, pending = journal_entries(data_dir)
    stans = [e.stan for e in entries]
    assert len(stans) == len(set(stans))
    assert pending == []


def test_timeout_reverses_with_the_original_stan(host, data_dir):
    # x.68: the host answers after 30 s; the terminal waits 1 s, then reverses.
    run = pay("sale", host, data_dir, "--amount", "2.68", "--card", "mc-approve", "--timeout", "1")
    body = run.json
    assert run.code == 3
    assert body["approved"] is False
    assert body["state"] == "reversed"
    assert body["reversal_pending"] is False
    assert run.err.startswith("error: ")
    assert len(run.err.splitlines()) == 1
    stan = body["stan"]
    host.wait_for(rf"0200 sale .*stan={stan} .*late")
    host.wait_for(rf"0400 reversal .*stan={stan} .*-> 0410 00")


BAD_INPUT = [
    (["sale", "--amount", "12.345", "--card", "visa-approve"], "3 decimal places"),
    (["sale", "--amount", "abc", "--card", "visa-approve"], "amount 'abc'"),
    (["sale", "--amount", "1", "--card", "visa-gold"], "known cards: amex-approve"),
    (["sale", "--amount", "1", "--track2", ";4761739001X10010=3012101?"], "offset 11"),
    (["sale", "--amount", "1", "--pan", "4761739001010010"], "--expiry"),
    (["sale", "--amount", "1", "--card", "debit-pin"], "requires a PIN"),
    (["sale", "--amount", "1", "--card", "chip-visa"], "insert it"),
    (["void"], "--stan"),
    (["void", "--stan", "999999"], "no such transaction"),
    (["qr-cpm", "--amount", "1", "--code", "12"], "16-24 digits"),
]


def test_bad_input_is_one_line_and_exit_2(host, data_dir):
    assert pay("echo", host, data_dir).code == 0  # the terminal exists and is signed on
    before, _ = journal_entries(data_dir)
    with ThreadPoolExecutor(4) as pool:  # independent commands: run them side by side
        runs = list(pool.map(lambda case: pay(case[0][0], host, data_dir, *case[0][1:]), BAD_INPUT))
    for (args, fragment), run in zip(BAD_INPUT, runs, strict=True):
        assert run.code == 2, (args, run.err)
        body = run.json  # --json: the error is a JSON object on stdout too
        assert body["ok"] is False
        assert body["exit_status"] == 2
        assert run.err == f"error: {body['error']}\n"
        lines = run.err.splitlines()
        assert len(lines) == 1, run.err
        assert lines[0].startswith("error: ")
        assert fragment in lines[0], (args, lines[0])
        assert "4761739001010010" not in run.err
    after, pending = journal_entries(data_dir)
    assert len(after) == len(before)  # nothing written, nothing half-written
    assert pending == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_and_garbage_hosts(tmp_path):
    data_dir = tmp_path / "terminal"
    refused = posemu(
        "pay", "echo", "--host", f"tcp://127.0.0.1:{_free_port()}", "--data-dir", str(data_dir)
    )
    assert refused.code == 3
    assert len(refused.err.splitlines()) == 1
    assert "refused" in refused.err

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def answer_garbage() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(b"\x00\x09garbage!!")

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        url = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        run = posemu("pay", "sale", "--host", url, "--data-dir", str(data_dir),
                     "--amount", "1", "--card", "visa-approve", "--timeout", "1")  # fmt: skip
    finally:
        stop.set()
        thread.join()
        server.close()
    assert run.code == 3
    assert len(run.err.splitlines()) == 1
    assert "unusable answer" in run.err
    entries, pending = journal_entries(data_dir)
    assert entries == []  # the sign-on failed: nothing was journaled, nothing half-written
    assert pending == []


def test_kill_9_mid_transaction_then_next_command_reverses(tmp_path):
    data_dir = tmp_path / "terminal"
    with posemu_host(tmp_path / "host") as host:
        assert pay("signon", host, data_dir).code == 0
        proc = spawn_pay("sale", host, data_dir, "--amount", "9.99", "--card", "visa-approve",
                         "--timeout", "30")  # fmt: skip
        line = host.wait_for(r"0200 sale .*silent")  # x.99: the host never answers
        stan = re.search(r"stan=(\d+)", line).group(1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        entries, pending = journal_entries(data_dir)
        (sale,) = [e for e in entries if e.kind.value == "sale"]
        assert sale.state is TxnState.SENT
        assert [m.journal_id for m in pending] == [sale.id]

        echo = pay("echo", host, data_dir)
        assert echo.code == 0
        host.wait_for(rf"0400 reversal .*stan={stan} .*-> 0410 00")
        entries, pending = journal_entries(data_dir)
        assert pending == []
        assert [e.state for e in entries if e.id == sale.id] == [TxnState.REVERSED]
        assert card_data_in_files(data_dir) == []


def test_settlement_with_and_without_mismatch(tmp_path):
    data_dir = tmp_path / "terminal"
    with posemu_host(tmp_path / "host") as host:
        for amount in ("10", "20"):
            assert (
                pay("sale", host, data_dir, "--amount", amount, "--card", "visa-approve").code == 0
            )
        clean = pay("settle", host, data_dir)
        assert (clean.code, clean.json["uploaded"], clean.json["batch"]) == (0, 0, "000001")
        assert clean.json["totals"]["debit_amount"] == "30.00"

        first = pay("sale", host, data_dir, "--amount", "5", "--card", "mc-approve")
        assert pay("sale", host, data_dir, "--amount", "6", "--card", "mc-approve").code == 0
        with TerminalStore(data_dir) as store:  # the terminal loses track of one approval
            store.journal.update(first.json["journal_id"], state=TxnState.DECLINED)
        mismatch = pay("settle", host, data_dir)
        assert mismatch.code == 0
        assert (mismatch.json["uploaded"], mismatch.json["batch"]) == (1, "000002")
        host.wait_for(r"0500 settlement .*-> 0510 95")
        host.wait_for(r"0320 batch-upload")
        after = pay("sale", host, data_dir, "--amount", "1", "--card", "visa-approve")
        assert (after.code, after.json["batch"]) == (0, "000003")


def test_card_and_qr_tools():
    track = "%B4761739001010010^APPROVE/VISA^30121010000?;4761739001010010=30121010000?"
    commands = [
        ("cards", "--json"),
        ("card", "parse", track, "--json"),
        ("card", "parse", ";47617390010100X0=3012101?"),
        ("qr", "mpm", "--amount", "12.34"),
        ("qr", "parse", "000201010212", "--json"),
    ]
    with ThreadPoolExecutor(4) as pool:
        cards, parsed, bad, mpm, broken = pool.map(lambda c: posemu(*c), commands)
    rows = cards.json
    assert {r["name"] for r in rows} >= {"visa-approve", "debit-pin", "luhn-bad"}
    assert all("*" in r["masked_pan"] for r in rows)
    assert parsed.json["masked_pan"] == "476173******0010"
    assert "4761739001010010" not in parsed.out
    assert bad.code == 2
    assert "offset 15" in bad.err
    assert broken.code == 2
    assert len(broken.err.splitlines()) == 1
    qr = posemu("qr", "parse", mpm.out.strip(), "--json")
    assert (qr.json["amount"], qr.json["reference"], qr.json["terminal"]) == (
        "12.34",
        "ORDER0001",
        "POSEMU01",
    )


def test_nothing_sensitive_was_written(host, data_dir, folder):
    # Runs last in this module: every command above wrote to data_dir (and the host logs).
    assert (data_dir / "terminal.db").exists()
    assert card_data_in_files(data_dir) == []
    assert card_data_in_files(folder / "host") == []


def test_in_process_host_keeps_state_between_commands(tmp_path):
    data_dir = tmp_path / "terminal"
    common = ("--data-dir", str(data_dir), "--json")
    sale = posemu("pay", "sale", "--amount", "8.88", "--card", "amex-approve", *common)
    assert sale.code == 0
    void = posemu("pay", "void", "--stan", sale.json["stan"], *common)  # another process
    assert (void.code, void.json["approved"]) == (0, True)
    assert card_data_in_files(data_dir) == []  # the simulator's own state included
