"""Property tests of what the agent reads from outside: commands, reports, broker URLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from agent.commands import CATALOG, check_command, new_command, open_envelope
from agent.errors import BrokerUrlError, CommandRefused
from agent.mqtt import BrokerSettings
from agent.reports import decode
from agent.topics import TopicError, parse_topic

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def check(payload: bytes) -> None:
    reason = "accepted"
    try:
        check_command(open_envelope(payload), now=NOW)
    except CommandRefused as exc:
        reason = exc.reason
    assert reason  # a refusal always has a reason to send back


@given(st.binary(max_size=300))
def test_any_bytes_are_refused_with_a_reason_or_accepted(payload: bytes) -> None:
    check(payload)
    assert decode(payload) is None or isinstance(decode(payload), dict)


@given(JSON)
def test_any_json_is_refused_with_a_reason_or_accepted(value: object) -> None:
    check(json.dumps(value).encode())


@given(
    st.sampled_from(sorted(CATALOG)),
    st.dictionaries(
        st.sampled_from(["stan", "rrn", "lines", "copy", "x", "test_print"]),
        st.text(max_size=12) | st.integers(),
        max_size=3,
    ),
)
def test_catalogue_commands_with_arbitrary_arguments(name: str, args: dict) -> None:
    body = new_command(name, args, ttl=60)
    body["issued_at"] = body["expires_at"] = "2030-01-01T00:00:00Z"
    check(json.dumps(body).encode())


@given(st.text(max_size=80))
def test_broker_urls_are_parsed_or_refused_in_the_users_terms(url: str) -> None:
    message = ""
    try:
        settings = BrokerSettings.from_url(url)
    except (BrokerUrlError, TopicError) as exc:
        message = str(exc)
    else:
        assert settings.url.startswith(("mqtt://", "mqtts://"))
        assert settings.password is None or settings.password not in settings.url
        return
    assert message


@given(st.text(max_size=60))
def test_topics_outside_the_scheme_are_ignored(topic: str) -> None:
    parsed = parse_topic("posemu", topic)
    assert parsed is None or topic == f"posemu/{parsed[0]}/{parsed[1]}"
