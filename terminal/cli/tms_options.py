"""Broker options shared by ``posemu tms``, ``posemu agent``, ``posemu fleet`` and the terminal
commands that take ``--tms``. Only argparse here: building a parser imports no MQTT code."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.mqtt import BrokerSettings

__all__ = ["add_broker_options", "broker_settings", "broker_url"]


def add_broker_options(
    p: argparse.ArgumentParser, *, flag: str, required: bool, dest_prefix: str = ""
) -> None:
    """``flag`` (``--broker`` or ``--tms``) takes the URL; the TLS/version options go with it.
    ``dest_prefix``: the top-level parser's names (``global_``), merged by ``merge_global``."""
    pre = dest_prefix
    p.add_argument(
        flag,
        dest=pre + flag.lstrip("-"),  # tms or broker: errors name the flag the user knows
        required=required,
        metavar="URL",
        help="MQTT broker: mqtt://[USER:PASS@]HOST[:PORT] or mqtts://... "
        "(options in the URL: ?version=5, ?prefix=NAME)",
    )
    p.add_argument(
        "--mqtt-version",
        dest=f"{pre}mqtt_version",
        choices=("3.1.1", "5"),
        help="MQTT protocol version",
    )
    p.add_argument(
        "--tms-prefix",
        dest=f"{pre}tms_prefix",
        metavar="PREFIX",
        help="topic prefix (default: posemu)",
    )
    p.add_argument(
        "--tms-ca", dest=f"{pre}tms_ca", metavar="FILE", help="CA file to verify an mqtts:// broker"
    )
    p.add_argument(
        "--tms-cert", dest=f"{pre}tms_cert", metavar="FILE", help="client certificate for mqtts://"
    )
    p.add_argument(
        "--tms-cert-key",
        dest=f"{pre}tms_cert_key",
        metavar="FILE",
        help="private key of --tms-cert",
    )


def broker_settings(args: argparse.Namespace, url: str | None = None) -> BrokerSettings:
    from agent.mqtt import BrokerSettings

    return BrokerSettings.from_url(
        url or broker_url(args) or "",
        ca_file=args.tms_ca,
        cert_file=args.tms_cert,
        key_file=args.tms_cert_key,
        version=args.mqtt_version,
        prefix=args.tms_prefix,
    )


def broker_url(args: argparse.Namespace) -> str | None:
    """The URL given with ``--tms`` (terminal commands) or ``--broker`` (``posemu tms``)."""
    return getattr(args, "tms", None) or getattr(args, "broker", None)
