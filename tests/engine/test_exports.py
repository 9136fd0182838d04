"""The curated public API of the engine and network packages."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "terminal.engine",
        "terminal.engine.service",
        "terminal.engine.errors",
        "terminal.core.events",
        "terminal.engine.cardinput",
        "terminal.net",
        "terminal.net.link",
        "terminal.net.errors",
        "terminal.core.transactions",
        "terminal.config",
        "terminal.cli.pay_cmds",
        "terminal.cli.card_cmds",
        "terminal.core.ports",
        "terminal.core.receipting",
        "terminal.runtime",
        "terminal.devices",
        "terminal.devices.emulated",
        "terminal.store.memory",
        "terminal.simulation",
    ],
)
def test_all_is_importable(module):
    mod = importlib.import_module(module)
    names = mod.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(mod, name), name


def test_engine_error_tree():
    from terminal.core.errors import TerminalError
    from terminal.engine import errors
    from terminal.net import errors as net_errors

    for mod in (errors, net_errors):
        for name in mod.__all__:
            assert issubclass(getattr(mod, name), TerminalError), name
