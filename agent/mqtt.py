"""Broker addresses and MQTT clients: ``mqtt://[USER:PASS@]HOST[:PORT]`` or ``mqtts://...``.

URL query options: ``version=5`` or ``version=3.1.1`` (default 3.1.1, which every broker
speaks; 5 adds shared subscriptions and session expiry), ``prefix=`` (topic prefix, default
``posemu``). TLS files come from options (``--tms-ca``, ``--tms-cert``, ``--tms-cert-key``),
not the URL, so they never end up in logs.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, unquote, urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.errors import BrokerUrlError
from agent.topics import DEFAULT_PREFIX, check_prefix

__all__ = ["Backoff", "BrokerSettings", "make_client", "settle"]

_VERSIONS = {"3.1.1": aiomqtt.ProtocolVersion.V311, "5": aiomqtt.ProtocolVersion.V5}
#: aiomqtt's own log: its "N pending publish calls" warnings are normal back-pressure while
#: a fleet's outboxes drain into a slow broker, not something to print; errors still show.
_CLIENT_LOG = logging.getLogger("agent.mqtt.client")
_CLIENT_LOG.setLevel(logging.ERROR)
#: How long the broker keeps an agent's session (its subscription and queued commands).
SESSION_EXPIRY = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    version: str = "3.1.1"
    prefix: str = DEFAULT_PREFIX
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        version: str | None = None,
        prefix: str | None = None,
    ) -> BrokerSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise BrokerUrlError(f"{_safe(url)}: use mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        if not parts.hostname:
            raise BrokerUrlError(f"{_safe(url)}: no broker host")
        try:
            port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        except ValueError:
            raise BrokerUrlError(f"{_safe(url)}: port must be 1-65535") from None
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = set(query) - {"version", "prefix"}
        if unknown:
            raise BrokerUrlError(f"{_safe(url)}: unknown option {sorted(unknown)[0]!r}")
        version = version or query.get("version", "3.1.1")
        if version not in _VERSIONS:
            raise BrokerUrlError(f"MQTT version {version!r}: use 3.1.1 or 5")
        tls = parts.scheme == "mqtts"
        if not tls and (ca_file or cert_file or key_file):
            raise BrokerUrlError("TLS files given for a plain mqtt:// broker; use mqtts://")
        if (cert_file is None) != (key_file is None):
            raise BrokerUrlError("a client certificate needs both --tms-cert and --tms-cert-key")
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            version=version,
            prefix=check_prefix(prefix or query.get("prefix", DEFAULT_PREFIX)),
            ca_file=ca_file,
            cert_file=cert_file,
            key_file=key_file,
        )

    @property
    def url(self) -> str:
        """The address without credentials (safe to show and log)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def with_version(self, version: str) -> BrokerSettings:
        return replace(self, version=version)

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if self.cert_file and self.key_file:
                context.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise BrokerUrlError(f"TLS files for {self.url}: {exc}") from exc
        return context


def _safe(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def make_client(
    settings: BrokerSettings,
    identifier: str,
    *,
    will: aiomqtt.Will | None = None,
    persistent: bool = False,
    keepalive: int = 30,
    timeout: float = 10.0,
) -> aiomqtt.Client:
    """One connection. ``persistent`` keeps the session (subscriptions and queued QoS 1
    messages) at the broker across reconnects, so commands sent while offline arrive."""
    v5 = settings.version == "5"
    properties = None
    kwargs: dict[str, object] = {}
    if v5:
        if persistent:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = SESSION_EXPIRY
        kwargs["clean_start"] = not persistent
    else:
        kwargs["clean_session"] = not persistent
    return aiomqtt.Client(
        settings.host,
        settings.port,
        logger=_CLIENT_LOG,
        username=settings.username,
        password=settings.password,
        identifier=identifier,
        protocol=_VERSIONS[settings.version],
        will=will,
        keepalive=keepalive,
        timeout=timeout,
        tls_context=settings.tls_context(),
        properties=properties,
        **kwargs,  # type: ignore[arg-type]
    )


class Backoff:
    """Exponential back-off with full jitter: a fleet reconnecting after a broker restart
    spreads out instead of arriving at once."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0

    def next_delay(self) -> float:
        delay = random.uniform(0, min(self.cap, self.base * 2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        return delay

    def reset(self) -> None:
        self.attempt = 0


def settle(client: aiomqtt.Client) -> None:
    """Mark a broken connection's error as seen. aiomqtt leaves it unretrieved when the
    connection broke before ``__aexit__``, and asyncio would then log "Future exception was
    never retrieved" for every reconnect (and the crash hook would count it)."""
    future = getattr(client, "_disconnected", None)
    if isinstance(future, asyncio.Future) and future.done() and not future.cancelled():
        future.exception()
