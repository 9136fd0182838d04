"""Broker options shared by ``posemu tms``, ``posemu agent``, ``posemu fleet`` and the terminal
commands that take ``--tms``. Only argparse here: building a parser imports no MQTT code."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.mqtt import BrokerSettings

__all__ = ["add_broker_options", "broker_settings"]


def add_broker_options(p: argparse.ArgumentParser, *, flag: str, required: bool) -> None:
    """``flag`` (``--broker`` or ``--tms``) takes the URL; the TLS/version options go with it."""
    p.add_argument(
        flag,
        dest="broker_url",
        required=required,
        metavar="URL",
        help="MQTT broker: mqtt://[USER:PASS@]HOST[:PORT] or mqtts://... "
        "(options in the URL: ?version=5, ?prefix=NAME)",
    )
    p.add_argument("--mqtt-version", choices=("3.1.1", "5"), help="MQTT protocol version")
    p.add_argument("--tms-prefix", metavar="PREFIX", help="topic prefix (default: posemu)")
    p.add_argument("--tms-ca", metavar="FILE", help="CA file to verify an mqtts:// broker")
    p.add_argument("--tms-cert", metavar="FILE", help="client certificate for mqtts://")
    p.add_argument("--tms-cert-key", metavar="FILE", help="private key of --tms-cert")


def broker_settings(args: argparse.Namespace, url: str | None = None) -> BrokerSettings:
    from agent.mqtt import BrokerSettings

    return BrokerSettings.from_url(
        url or args.broker_url,
        ca_file=args.tms_ca,
        cert_file=args.tms_cert,
        key_file=args.tms_cert_key,
        version=args.mqtt_version,
        prefix=args.tms_prefix,
    )
