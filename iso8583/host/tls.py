"""TLS for the host simulator: a server certificate, and client certificates when asked.

Testers put the terminal's ``tls://`` links against the host without socat in front of it;
with a client CA the host requires and verifies a client certificate (mutual TLS), as
acquirers do for terminals on the public internet.
"""

from __future__ import annotations

import os
import ssl

from iso8583.host.rules import HostError

__all__ = ["TlsConfigError", "server_tls_context"]


class TlsConfigError(HostError):
    """The TLS options do not form a usable server configuration (names the option)."""


def server_tls_context(
    cert: str | None, key: str | None, client_ca: str | None
) -> ssl.SSLContext | None:
    """None without TLS options; TlsConfigError for half a configuration or unreadable files."""
    if cert is None and key is None and client_ca is None:
        return None
    if cert is None:
        raise TlsConfigError("--tls-key and --tls-client-ca need --tls-cert")
    for option, path in (("--tls-cert", cert), ("--tls-key", key), ("--tls-client-ca", client_ca)):
        if path is not None and not os.path.isfile(path):
            raise TlsConfigError(f"{option}: no such file: {path}")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        if key is not None and getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
            raise TlsConfigError(
                f"--tls-key {key} is not the private key of --tls-cert {cert}"
            ) from None
        raise TlsConfigError(
            f"--tls-cert {cert}: cannot load the certificate and key "
            f"({getattr(exc, 'reason', None) or exc}); give the key with --tls-key if it is "
            "not in the certificate file"
        ) from None
    if client_ca is not None:
        try:
            ctx.load_verify_locations(cafile=client_ca)
        except (ssl.SSLError, OSError) as exc:
            raise TlsConfigError(
                f"--tls-client-ca {client_ca}: not a CA certificate ({exc})"
            ) from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
