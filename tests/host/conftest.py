"""Fixtures: an in-process host on a real loopback port and a signed-on test terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iso8583.host import EmbeddedHost, Rules, rules_from_mapping
from tests.host.client import HostClient

#: Short delays so that late answers and MPM payments fit in a fast test run.
FAST_RULES: Rules = rules_from_mapping({"late_delay": 0.6, "mpm_pay_delay": 0.3})


@pytest.fixture
def host() -> Iterator[EmbeddedHost]:
    with EmbeddedHost("iso87ascii", FAST_RULES) as h:
        yield h


@pytest.fixture
def client(host: EmbeddedHost) -> Iterator[HostClient]:
    with HostClient(host.address, host.spec) as c:
        c.signon()
        yield c
