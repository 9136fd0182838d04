"""Terminal settings: defined in the core (:mod:`terminal.core.config`), re-exported here.

Kept so ``from terminal.config import TerminalConfig`` goes on working; new code in
``terminal.core`` must import :mod:`terminal.core.config` (the core imports nothing above it).
"""

from __future__ import annotations

from terminal.core.config import DEFAULT_HOST, ConfigError, TerminalConfig

__all__ = ["DEFAULT_HOST", "ConfigError", "TerminalConfig"]
