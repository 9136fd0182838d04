"""Issue 9: ``posemu host --tls-cert/--tls-key [--tls-client-ca]``, TLS in both directions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.engine.clirun import posemu
from tests.engine.tlsutil import Pki, make_pki
from tests.host.procs import host_process


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _echo(url: str, data_dir: Path, *tls: str) -> tuple[int, str]:
    run = posemu("pay", "echo", "--host", url, "--data-dir", str(data_dir), *tls, timeout=30)
    return run.code, run.out + run.err


def test_terminal_over_tls_to_the_host(pki: Pki, tmp_path: Path) -> None:
    server = ("--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key))
    with host_process(tmp_path / "h", *server) as host:
        code, out = _echo(f"tls://127.0.0.1:{host.port}", tmp_path / "d", "--tls-ca", str(pki.ca))
        assert code == 0, out
        assert "APPROVED" in out


def test_mutual_tls_needs_the_client_certificate(pki: Pki, tmp_path: Path) -> None:
    server = (
        "--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key),
        "--tls-client-ca", str(pki.ca),
    )  # fmt: skip
    with host_process(tmp_path / "h", *server) as host:
        url = f"tls://127.0.0.1:{host.port}"
        client = ("--tls-cert", str(pki.client_cert), "--tls-key", str(pki.client_key))
        code, out = _echo(url, tmp_path / "d", "--tls-ca", str(pki.ca), *client)
        assert code == 0, out
        code, out = _echo(url, tmp_path / "d2", "--tls-ca", str(pki.ca))
        assert code != 0, out
        assert "Traceback" not in out


def test_tls_against_a_plain_host_fails_fast_and_says_why(pki: Pki, tmp_path: Path) -> None:
    with host_process(tmp_path / "h") as host:
        started = time.monotonic()
        code, out = _echo(f"tls://127.0.0.1:{host.port}", tmp_path / "d", "--tls-ca", str(pki.ca))
        elapsed = time.monotonic() - started
        assert code != 0
        assert "did not speak TLS" in out, out
        assert "TLS handshake" in host.log_text()
    print(f"tls:// against a plain host failed after {elapsed:.2f} s")


def test_half_a_tls_configuration_is_refused(pki: Pki, tmp_path: Path) -> None:
    run = posemu("host", "--listen", "127.0.0.1:0", "--tls-key", str(pki.server_key))
    assert (run.code, run.err.strip()) == (
        2,
        "error: --tls-key and --tls-client-ca need --tls-cert",
    )
    run = posemu("host", "--listen", "127.0.0.1:0", "--tls-cert", str(tmp_path / "none.pem"))
    assert run.code == 2
    assert "no such file" in run.err
    assert "none.pem" in run.err


def test_a_client_that_never_finishes_its_handshake_is_dropped(
    pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    from iso8583.host import EmbeddedHost, server_tls_context

    ctx = server_tls_context(str(pki.server_cert), str(pki.server_key), None)
    with EmbeddedHost("iso87ascii", ssl_context=ctx, idle_timeout=0.3) as host:
        sock = socket.create_connection(host.address, timeout=3)
        try:
            assert sock.recv(1) == b""  # closed by the host, without a byte of TLS from us
        finally:
            sock.close()
    assert "Traceback" not in caplog.text
    assert "handler error" not in caplog.text


def test_a_tls_client_that_closes_leaves_no_asyncio_warning_in_the_log(
    pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    import socket
    import ssl

    from iso8583.host import EmbeddedHost, server_tls_context

    ctx = server_tls_context(str(pki.server_cert), str(pki.server_key), None)
    client_ctx = ssl.create_default_context(cafile=str(pki.ca))
    with EmbeddedHost("iso87ascii", ssl_context=ctx) as host:
        raw = socket.create_connection(host.address, timeout=3)
        tls = client_ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        tls.unwrap().close()  # close_notify: the host sees end of stream on a TLS transport
        time.sleep(0.3)
    assert "eof_received" not in caplog.text


def test_a_plain_client_at_a_tls_host_is_logged_in_a_testers_terms(
    pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    from iso8583.host import EmbeddedHost, server_tls_context

    ctx = server_tls_context(str(pki.server_cert), str(pki.server_key), str(pki.ca))
    with EmbeddedHost("iso87ascii", ssl_context=ctx) as host:
        with socket.create_connection(host.address, timeout=3) as sock:
            sock.sendall(b"\x00\x140800" + b"0" * 16)  # plain ISO 8583, as a tcp:// terminal
            assert sock.recv(1) == b""
            host_, port = sock.getsockname()[:2]
            peer = f"{host_}:{port}"
        time.sleep(0.2)
    line = next(r.getMessage() for r in caplog.records if peer in r.getMessage())
    assert "plain TCP" in line
    assert "tls://" in line


def test_a_key_that_is_not_the_certificates_is_named_as_such(pki: Pki) -> None:
    run = posemu(
        "host", "--listen", "127.0.0.1:0",
        "--tls-cert", str(pki.server_cert), "--tls-key", str(pki.client_key),
    )  # fmt: skip
    assert run.code == 2
    assert run.err == (
        f"error: --tls-key {pki.client_key} is not the private key of --tls-cert "
        f"{pki.server_cert}\n"
    )
