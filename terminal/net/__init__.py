"""The terminal's network adapter: the acquirer link and its error tree."""

from __future__ import annotations

from terminal.net.errors import (
    ConnectError,
    InvalidEndpointError,
    LinkClosed,
    LinkError,
    LinkProtocolError,
    LinkTimeout,
)
from terminal.net.link import Endpoint, HostLink, Link, TlsSettings, link_for, parse_endpoint

__all__ = [
    "ConnectError",
    "Endpoint",
    "HostLink",
    "InvalidEndpointError",
    "Link",
    "LinkClosed",
    "LinkError",
    "LinkProtocolError",
    "LinkTimeout",
    "TlsSettings",
    "link_for",
    "parse_endpoint",
]
