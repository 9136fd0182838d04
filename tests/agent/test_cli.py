"""The agent from the command line, as a tester uses it: ``posemu pay/agent/tms`` processes
against a real mosquitto (and the embedded broker), with real journal and printer files."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from agent.mosquitto import Mosquitto
from agent.signing import generate_keypair
from tests.agent.cli import (
    outbox_depth,
    read_json_line,
    run,
    start,
    stop,
    wait_for,
    wait_online,
)


def watcher(url: str, *extra: str):
    proc = start("tms", "watch", "--broker", url, *extra)
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "watching ...": subscribed, nothing published now is missed
    assert line.startswith("watching"), line
    return proc


def journal_copies(data_dir: Path) -> list[dict]:
    shown = run("journal", "list", "--data-dir", str(data_dir), "--json")
    assert shown.returncode == 0, shown.stderr
    return [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]


def test_unwritable_printer_file_is_a_fault_at_the_watcher(mosquitto: Mosquitto, tmp_path):
    watch = watcher(mosquitto.url, "--type", "fault")
    try:
        paid = run(
            "pay",
            "sale",
            "--amount",
            "12.34",
            "--card",
            "visa-approve",
            "--data-dir",
            str(tmp_path),
            "--printer",
            f"file:{tmp_path}/no/such/dir/slip.bin",
            "--tms",
            mosquitto.url,
        )
        assert paid.returncode == 0, paid.stderr
        fault = read_json_line(watch)
    finally:
        stop(watch)
    assert fault["code"] == "printer.failed"
    assert fault["severity"] == "major"
    assert fault["state"] == "raised"
    assert fault["id"]
    assert fault["at"].endswith("Z")
    assert "no/such/dir" in fault["details"]["reason"]
    assert outbox_depth(tmp_path) == 0  # flushed before the one-shot exited
    [entry] = journal_copies(tmp_path)
    assert any(c["status"] == "failed" for c in entry["copies"]), entry


def test_reprint_by_stan_prints_a_duplicate_via_the_embedded_broker(tmp_path):
    slips = tmp_path / "slips.txt"
    paid = run(
        "pay",
        "sale",
        "--amount",
        "5.00",
        "--card",
        "visa-approve",
        "--data-dir",
        str(tmp_path),
        "--printer",
        f"text:{slips}",
        "--json",
    )
    assert paid.returncode == 0, paid.stderr
    stan = json.loads(paid.stdout)["stan"]
    agent = start("agent", "--data-dir", str(tmp_path), "--printer", f"text:{slips}")
    try:
        assert agent.stdout is not None
        url = agent.stdout.readline().split()[-1]  # "TMS broker (embedded): mqtt://..."
        assert url.startswith("mqtt://127.0.0.1:")
        wait_online(url)
        sent = run(
            "tms",
            "send",
            "--broker",
            url,
            "--terminal",
            "POSEMU01",
            "reprint",
            f"stan={stan}",
            "copy=customer",
        )
        assert sent.returncode == 0, sent.stderr
        result = json.loads(sent.stdout)
        missing = run(
            "tms", "send", "--broker", url, "--terminal", "POSEMU01", "reprint", "stan=999999"
        )
    finally:
        stop(agent)
    assert result["status"] == "ok"
    [reprint] = result["data"]["reprints"]
    assert reprint["stan"] == stan
    assert reprint["copy"] == "customer"
    assert reprint["printed"]
    assert "DUPLICATE" in slips.read_text()
    assert missing.returncode == 1
    assert "no journal entry" in json.loads(missing.stdout)["reason"]


def test_kill_9_with_reports_in_the_outbox_then_restart(mosquitto: Mosquitto, tmp_path):
    url = mosquitto.url
    mosquitto.stop()  # the broker is down: reports stay in the outbox
    pay = start(
        "pay",
        "sale",
        "--amount",
        "1.00",
        "--card",
        "visa-approve",
        "--data-dir",
        str(tmp_path),
        "--printer",
        f"file:{tmp_path}/missing/slip.bin",
        "--tms",
        url,
        "--tms-flush",
        "60",
    )
    wait_for(lambda: outbox_depth(tmp_path) > 0, what="a report in the outbox")
    pay.send_signal(signal.SIGKILL)
    pay.wait(10)
    mosquitto.start()
    watch = watcher(url, "--type", "fault", "--terminal", "POSEMU01")
    agent = start("agent", "--data-dir", str(tmp_path), "--tms", url)
    try:
        fault = read_json_line(watch)
        wait_for(lambda: outbox_depth(tmp_path) == 0, what="the outbox to drain")
    finally:
        stop(agent)
        stop(watch)
    assert fault["code"] == "printer.failed"


def test_signatures_expiry_and_repeated_ids(mosquitto: Mosquitto, tmp_path):
    keys = tmp_path / "keys"
    generate_keypair(keys / "tms.pem", keys / "tms.pub.pem")
    generate_keypair(keys / "other.pem", keys / "other.pub.pem")
    data = tmp_path / "term"
    agent = start(
        "agent",
        "--data-dir",
        str(data),
        "--tms",
        mosquitto.url,
        "--tms-public-key",
        str(keys / "tms.pub.pem"),
    )
    base = ("tms", "send", "--broker", mosquitto.url, "--terminal", "POSEMU01", "--timeout", "20")
    try:
        wait_online(mosquitto.url)
        unsigned = run(*base, "logs", "lines=5")
        forged = run(*base, "--sign-key", str(keys / "other.pem"), "logs")
        expired = run(*base, "--sign-key", str(keys / "tms.pem"), "--ttl", "0.001", "logs")
        first = run(*base, "--sign-key", str(keys / "tms.pem"), "--id", "reboot-1", "reboot")
        again = run(*base, "--sign-key", str(keys / "tms.pem"), "--id", "reboot-1", "reboot")
    finally:
        _out, _err = stop(agent)
    for refused, reason in (
        (unsigned, "unsigned"),
        (forged, "bad signature"),
        (expired, "expired"),
    ):
        assert refused.returncode == 1, refused.stderr
        body = json.loads(refused.stdout)
        assert body["status"] == "refused"
        assert reason in body["reason"]
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    one, two = json.loads(first.stdout), json.loads(again.stdout)
    assert one["data"]["rebooted"] is True
    assert two["repeat"] is True
    assert two["data"] == one["data"]  # the stored result: it did not run twice


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("send", "--broker", "mqtt://127.0.0.1:1", "--terminal", "T1", "reprint", "stan"),
            "KEY=VALUE",
        ),
        (("send", "--broker", "mqtt://127.0.0.1:1", "--terminal", "T/1", "logs"), "terminal ID"),
        (("send", "--broker", "tcp://x:1", "--terminal", "T1", "logs"), "mqtt://"),
        (
            ("send", "--broker", "mqtt://127.0.0.1:1", "--terminal", "T1", "selfdestruct"),
            "unknown command",
        ),
        (("watch", "--broker", "mqtt://127.0.0.1:1", "--count", "0"), "--count"),
    ],
)
def test_console_usage_errors_are_one_line(args, message, capsys):
    from terminal.cli.main import main

    assert main(["tms", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_repair_request_stored_offline_then_sent(mosquitto: Mosquitto, tmp_path):
    stored = run(
        "repair",
        "--data-dir",
        str(tmp_path),
        "--part",
        "printer",
        "--description",
        "paper jams",
        "--contact",
        "Ms Li 1380000",
        "--purchase-date",
        "2025-03-01",
    )
    assert stored.returncode == 0, stored.stderr
    assert "stored" in stored.stdout
    watch = watcher(mosquitto.url, "--type", "repair")
    try:
        sent = run(
            "repair",
            "--data-dir",
            str(tmp_path),
            "--tms",
            mosquitto.url,
            "--part",
            "reader",
            "--description",
            "no swipes read",
            "--contact",
            "Mr Wang",
        )
        first, second = read_json_line(watch), read_json_line(watch)
    finally:
        stop(watch)
    assert sent.returncode == 0, sent.stderr
    assert "sent" in sent.stdout
    assert [first["part"], second["part"]] == ["printer", "reader"]  # oldest first
    assert first["device"]["purchase_date"] == "2025-03-01"
    assert first["contact"] == "Ms Li 1380000"
    bad = run(
        "repair", "--data-dir", str(tmp_path), "--part", " ", "--description", "x", "--contact", "y"
    )
    assert bad.returncode == 2
    assert "--part" in bad.stderr


def test_fleet_command_brings_terminals_online(mosquitto: Mosquitto, tmp_path):
    fleet = start(
        "fleet",
        "--count",
        "5",
        "--tms",
        mosquitto.url,
        "--heartbeat",
        "1",
        "--ramp",
        "0.5",
        "--duration",
        "30",
        "--every",
        "1",
    )
    try:
        wait_online(mosquitto.url, "FLT00005")
        table = run("tms", "fleet", "--broker", mosquitto.url, "--json", "--wait", "1")
    finally:
        stop(fleet)
    rows = [json.loads(line) for line in table.stdout.splitlines()]
    assert [r["tid"] for r in rows] == [f"FLT{i:05d}" for i in range(1, 6)]
    assert all(r["online"] for r in rows)


class SimPrinter:
    """The ESC/POS printer simulator (what ``posemu devsim printer --listen`` runs), served
    over TCP by a pump thread in this process so the test can pull its paper."""

    def __init__(self) -> None:
        import threading

        from terminal.core.devices import PrinterStatus
        from terminal.devices.sim.devices import PrinterSim
        from terminal.devices.sim.transport import TcpEnd

        self.end = TcpEnd()
        self.sim = PrinterSim(
            self.end, status=PrinterStatus(), say=lambda _t: None, show=lambda _t: None
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.end.label}?poll=0.2"

    def _pump(self) -> None:
        while not self._stop.is_set():
            data = self.end.read(0.02)
            if data:
                self.sim.on_bytes(data)

    def duplicates(self) -> int:
        return sum("DUPLICATE" in r.text for r in self.sim.receipts)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.end.close()


def test_simulated_paper_out_lost_receipt_and_reprints_on_the_sim_printer(
    mosquitto: Mosquitto, tmp_path
):
    printer = SimPrinter()
    printer.sim.command("paper", "out")
    watch = watcher(mosquitto.url, "--type", "fault")
    agent = None
    try:
        paid = run(
            "pay",
            "sale",
            "--amount",
            "7.00",
            "--card",
            "visa-approve",
            "--json",
            "--data-dir",
            str(tmp_path),
            "--printer",
            printer.url,
            "--tms",
            mosquitto.url,
        )
        assert paid.returncode == 0, paid.stderr
        stan = json.loads(paid.stdout)["stan"]
        faults = {}
        while {"printer.paper_out", "printer.failed"} - set(faults):
            fault = read_json_line(watch)
            faults[fault["code"]] = fault
        [entry] = journal_copies(tmp_path)
        assert entry["copies"][0]["status"] == "failed"

        agent = start(
            "agent", "--data-dir", str(tmp_path), "--tms", mosquitto.url, "--printer", printer.url
        )
        wait_online(mosquitto.url)
        printer.sim.command("paper", "in")  # the lost receipt comes out as a DUPLICATE
        wait_for(lambda: printer.duplicates() == 1, what="the lost receipt reprinted")
        sent = run(
            "tms",
            "send",
            "--broker",
            mosquitto.url,
            "--terminal",
            "POSEMU01",
            "reprint",
            f"stan={stan}",
            "copy=customer",
        )
        assert sent.returncode == 0, sent.stderr
        wait_for(lambda: printer.duplicates() == 2, what="the remote reprint")
    finally:
        if agent is not None:
            stop(agent)
        stop(watch)
        printer.close()
    paper = faults["printer.paper_out"]
    assert paper["severity"] == "major"
    assert paper["id"]
    assert paper["at"].endswith("Z")
    assert faults["printer.failed"]["details"]["reason"]


def test_last_will_says_offline_when_the_terminal_is_killed(mosquitto: Mosquitto, tmp_path):
    import asyncio

    from agent.console import Console
    from agent.mqtt import BrokerSettings

    agent = start("agent", "--data-dir", str(tmp_path), "--tms", mosquitto.url)
    try:
        wait_online(mosquitto.url)
    finally:
        agent.send_signal(signal.SIGKILL)
        agent.wait(10)

    async def last_status() -> dict:
        console = Console(BrokerSettings.from_url(mosquitto.url), kinds=["status"])
        async with asyncio.timeout(20), console.connected():
            async for body in console.reports():
                if body["state"] == "offline":
                    return body
        raise AssertionError("no offline status")

    status = asyncio.run(last_status())
    assert status["reason"] == "connection lost"
    assert status["tid"] == "POSEMU01"
