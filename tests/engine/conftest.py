"""Fixtures for the engine tests: a real host on loopback, a real store, short timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from iso8583.host import EmbeddedHost, Rules, rules_from_mapping
from terminal.config import TerminalConfig
from terminal.engine import TerminalEvent, TerminalService
from terminal.store import TerminalStore

#: The host answers "late" after 1.5 s, beyond the terminal's 0.5 s; MPM pays after 0.3 s.
FAST_RULES: Rules = rules_from_mapping({"late_delay": 1.5, "mpm_pay_delay": 0.3})


def fast_config(url: str, **changes: object) -> TerminalConfig:
    values: dict[str, object] = {
        "host": url,
        "connect_timeout": 0.5,
        "response_timeout": 0.5,
        "qr_poll_interval": 0.05,
        "qr_timeout": 2.0,
    }
    values.update(changes)
    return TerminalConfig(**values)  # type: ignore[arg-type]


def url_of(host: EmbeddedHost) -> str:
    address, port = host.address
    return f"tcp://{address}:{port}"


@pytest.fixture
def host() -> Iterator[EmbeddedHost]:
    with EmbeddedHost("iso87ascii", FAST_RULES) as h:
        yield h


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "terminal"


@pytest.fixture
def store(data_dir: Path) -> Iterator[TerminalStore]:
    with TerminalStore(data_dir) as s:
        yield s


@pytest.fixture
def events() -> list[TerminalEvent]:
    return []


@pytest.fixture
async def terminal(host, store, events) -> AsyncIterator[TerminalService]:
    service = TerminalService(fast_config(url_of(host)), store, on_event=events.append)
    await service.start()
    yield service
    await service.stop()
