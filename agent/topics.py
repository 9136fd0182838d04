"""The topic scheme (docs/tms-protocol.md): ``{prefix}/{terminal id}/{kind}``.

Terminal → TMS: ``status`` (retained; last will "offline"), ``heartbeat``, ``fault``,
``result``, ``repair``. TMS → terminal: ``cmd``. A terminal ID is one topic level of
letters, digits, ``_ . -`` so it can never widen a subscription.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.errors import AgentError

__all__ = [
    "DEFAULT_PREFIX",
    "REPORT_KINDS",
    "TopicError",
    "Topics",
    "check_prefix",
    "check_terminal_id",
    "fleet_filter",
    "parse_topic",
]

DEFAULT_PREFIX = "posemu"
REPORT_KINDS = ("status", "heartbeat", "fault", "result", "repair")
COMMAND_KIND = "cmd"

_TID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_PREFIX_LEVEL = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class TopicError(AgentError, ValueError):
    """A terminal ID or prefix that cannot be used as MQTT topic levels."""


def check_terminal_id(tid: str) -> str:
    if not _TID.match(tid):
        raise TopicError(
            f"terminal ID {tid!r}: use 1-64 letters, digits, '_', '.' or '-' (one topic level)"
        )
    return tid


def check_prefix(prefix: str) -> str:
    if not all(_PREFIX_LEVEL.match(level) for level in prefix.split("/")):
        raise TopicError(
            f"topic prefix {prefix!r}: levels of letters, digits, '_', '.' or '-' separated by '/'"
        )
    return prefix


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one terminal."""

    prefix: str
    terminal_id: str

    def __post_init__(self) -> None:
        check_prefix(self.prefix)
        check_terminal_id(self.terminal_id)

    def of(self, kind: str) -> str:
        return f"{self.prefix}/{self.terminal_id}/{kind}"

    @property
    def status(self) -> str:
        return self.of("status")

    @property
    def command(self) -> str:
        return self.of(COMMAND_KIND)


def fleet_filter(prefix: str, kind: str, terminal_id: str | None = None) -> str:
    """The subscription filter for one report kind of one terminal or (``+``) all of them."""
    return f"{check_prefix(prefix)}/{terminal_id or '+'}/{kind}"


def parse_topic(prefix: str, topic: str) -> tuple[str, str] | None:
    """``(terminal id, kind)`` of a topic under ``prefix``, or None if it is not one of ours."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    rest = topic[len(head) :].split("/")
    if len(rest) != 2 or not _TID.match(rest[0]):
        return None
    return rest[0], rest[1]
