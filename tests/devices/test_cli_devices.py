"""End to end as a tester runs it: ``posemu devsim`` on one end, ``posemu pay`` on the other."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.engine.clirun import POSEMU, ROOT, _env

from .conftest import wait_until


class Sim:
    def __init__(self, proc: subprocess.Popen, out: Path, err: Path) -> None:
        self.proc, self.out, self.err = proc, out, err
        wait_until(lambda: out.exists() and out.read_text().endswith("\n"))
        self.path = out.read_text().splitlines()[0]

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def output(self) -> str:
        return self.out.read_text()


@contextmanager
def devsim(tmp: Path, *args: str) -> Iterator[Sim]:
    name = args[0]
    out, err = tmp / f"{name}.out", tmp / f"{name}.err"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen(
            [*POSEMU, "devsim", *args], cwd=ROOT, stdin=subprocess.PIPE, stdout=o, stderr=e,
            text=True, env=_env(),
        )  # fmt: skip
        try:
            yield Sim(proc, out, err)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def posemu(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POSEMU, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=_env()
    )


def test_sale_with_reader_and_printer_over_ptys(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with (
        devsim(tmp_path, "printer", "--pty") as printer,
        devsim(tmp_path, "reader", "--pty") as reader,
    ):
        pay = subprocess.Popen(
            [*POSEMU, "pay", "sale", "--amount", "10.00", "--reader", reader.path,
             "--printer", printer.path, "--json", "--data-dir", str(data), "--timeout", "30"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )  # fmt: skip
        assert pay.stderr is not None
        assert pay.stderr.readline().startswith("swipe a card on")  # the reader is open
        reader.send("bad lrc")  # a bad swipe is reported, then the good one is used
        reader.send("swipe")
        out, err = pay.communicate(timeout=60)
        assert pay.returncode == 0, err
        assert "LRC" in err
        body = json.loads(out)
        assert body["approved"]
        assert body["masked_pan"] == "476173******0010"
        assert "not printed" not in err
        wait_until(lambda: "end of receipt 1" in printer.output())
        slip = printer.output()
        assert "476173******0010" in slip
        assert "4761731000000010" not in slip
        assert "3012" not in slip
        assert "12/30" not in slip
    saved = tmp_path / "raw.bin"
    # The raw bytes: the printer sim saves them when asked to (--save).
    with devsim(tmp_path, "printer", "--pty", "--save", str(saved)) as printer:
        done = posemu(
            "pay", "sale", "--amount", "1.00", "--card", "visa-approve",
            "--printer", printer.path, "--json", "--data-dir", str(data),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        wait_until(lambda: saved.exists() and b"\x1dV" in saved.read_bytes())
        raw = saved.read_bytes()
        assert raw.startswith(b"\x1b@")
        assert b"******0010" in raw
        assert b"4761731000000010" not in raw


def test_paper_out_records_failed_copy_then_duplicate(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with devsim(tmp_path, "printer", "--listen", "0", "--paper-out") as printer:
        done = posemu(
            "pay", "sale", "--amount", "2.50", "--card", "visa-approve",
            "--printer", printer.path, "--json", "--data-dir", str(data),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr  # the sale stands; the slip is owed
        body = json.loads(done.stdout)
        assert "receipt not printed: paper out" in done.stderr
        shown = json.loads(posemu("journal", "show", str(body["journal_id"]),
                                  "--json", "--data-dir", str(data)).stdout)  # fmt: skip
        copies = shown["copies"]
        assert copies[0]["status"] == "failed"
        assert copies[0]["error"] == "paper out"
        unprinted = posemu("journal", "list", "--unprinted", "--json", "--data-dir", str(data))
        assert str(body["journal_id"]) in unprinted.stdout
        printer.send("paper in")
        time.sleep(0.2)
        again = posemu(
            "journal", "reprint", str(body["journal_id"]), "--copy", "merchant",
            "--printer", printer.path, "--json", "--data-dir", str(data),
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        wait_until(lambda: "end of receipt 1" in printer.output())
        assert "DUPLICATE" in printer.output()


def test_bad_device_options_are_clear_errors(tmp_path: Path) -> None:
    done = posemu("pay", "sale", "--amount", "1.00", "--card", "visa-approve",
                  "--printer", "/dev/ttyS0?speed=9600", "--data-dir", str(tmp_path))  # fmt: skip
    assert done.returncode == 2
    assert "unknown URL parameter(s): speed" in done.stderr
    assert "Traceback" not in done.stderr
    done = posemu("pay", "sale", "--amount", "1.00", "--reader", str(tmp_path / "none"),
                  "--timeout", "0.5", "--data-dir", str(tmp_path))  # fmt: skip
    assert done.returncode == 2
    assert "no swipe within 0.5 s" in done.stderr
    assert "offline" in done.stderr


def test_a_device_the_command_would_not_read_is_refused(tmp_path: Path) -> None:
    for args, words in (
        (["void", "--stan", "1", "--reader", "loop://"], "void takes no card"),
        (["sale", "--amount", "1", "--card", "visa-approve", "--reader", "loop://"], "not both"),
        (["sale", "--amount", "1", "--card", "visa-approve", "--scanner", "loop://"],
         "only qr-cpm"),
    ):  # fmt: skip
        done = posemu("pay", *args, "--data-dir", str(tmp_path))
        assert done.returncode == 2
        assert words in done.stderr
