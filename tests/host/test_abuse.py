"""Issue 9: a host that bad clients cannot take down (real subprocess, lowered file limit)."""

from __future__ import annotations

import resource
import socket
from pathlib import Path

import pytest

from iso8583.acquirer import TxnKind
from iso8583.dialects import get_spec
from iso8583.host import EmbeddedHost, HostEngine
from tests.host.client import HostClient
from tests.host.procs import host_process

_NOFILE = 128
_IDLE = 200


def _low_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (_NOFILE, hard))


@pytest.mark.parametrize(
    "options",
    [(), ("--max-connections", "1000")],
    ids=["cap-from-file-limit", "cap-above-file-limit-spare-descriptor"],
)
def test_idle_connections_at_a_low_file_limit_do_not_lock_out_a_terminal(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    with host_process(tmp_path, *options, preexec=_low_file_limit) as host:
        idle: list[socket.socket] = []
        try:
            for _ in range(_IDLE):
                idle.append(socket.create_connection(host.address, timeout=5))
            with HostClient(host.address, get_spec("iso87ascii"), timeout=5.0) as terminal:
                echo = terminal.exchange(terminal.request(TxnKind.ECHO))
            assert echo.response_code == "00"
        finally:
            for sock in idle:
                sock.close()
        log = host.log_text()
    assert "Traceback" not in log
    assert log.count("accept() failed") <= 5  # rate-limited, if it happened at all
    assert "evicted to make room" in log


def test_the_idlest_connection_is_evicted_not_a_busy_one(tmp_path: Path) -> None:
    with EmbeddedHost("iso87ascii", max_connections=3) as host:
        silent = [socket.create_connection(host.address, timeout=5) for _ in range(2)]
        with HostClient(host.address, host.spec) as a:
            a.signon()
            with HostClient(host.address, host.spec, tid="TERM0002") as b:  # evicts silent[0]
                b.signon()
                with HostClient(host.address, host.spec, tid="TERM0003") as c:  # silent[1]
                    c.signon()
                    assert a.sale(1000)[1].response_code == "00"
        for sock in silent:
            sock.settimeout(2)
            assert sock.recv(1) == b""  # closed by the host
            sock.close()


def test_an_idle_connection_is_closed_after_the_idle_timeout() -> None:
    with (
        EmbeddedHost("iso87ascii", idle_timeout=0.3) as host,
        HostClient(host.address, host.spec) as client,
    ):
        client.signon()
        assert client.closed_by_host(timeout=3.0)


def test_per_terminal_keys_are_bounded() -> None:
    engine = HostEngine(get_spec("iso87ascii"), max_terminals=50)
    with EmbeddedHost("iso87ascii") as host:
        host.engine.max_terminals = 50
        for i in range(120):
            with HostClient(host.address, host.spec, tid=f"T{i:07d}") as c:
                c.signon()
        assert len(host.engine.keys_snapshot()) == 50
        assert host.engine.has_keys("T0000119")
        assert not host.engine.has_keys("T0000000")
    assert engine.max_terminals == 50


def test_evicted_terminal_keys_leave_the_state_file_too(tmp_path: Path) -> None:
    import sqlite3

    from iso8583.host.state import state_file_for

    with EmbeddedHost("iso87ascii", state_dir=tmp_path) as host:
        host.engine.max_terminals = 5
        for i in range(12):
            with HostClient(host.address, host.spec, tid=f"T{i:07d}") as c:
                c.signon()
    with sqlite3.connect(state_file_for(tmp_path, "iso87ascii")) as db:
        tids = sorted(r[0] for r in db.execute("SELECT tid FROM keys"))
    assert tids == [f"T{i:07d}" for i in range(7, 12)]
