from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_update import trust
from tests.firmware.helpers import Repo, make_journal


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    repo = Repo(tmp_path / "publisher")
    repo.publish("1.0.0")
    repo.start()
    yield repo
    repo.stop()


@pytest.fixture
def data_dir(tmp_path: Path, repo: Repo) -> Path:
    """A provisioned terminal with a journal."""
    data = tmp_path / "terminal"
    make_journal(data)
    trust(data, repo.root_json())
    return data
