"""Firmware versions: strict ``X.Y.Z`` with numeric parts, ordered numerically.

Why not PEP 440 or full semver: a terminal compares versions to refuse downgrades, so the rule
must be obvious to a support engineer reading two version strings; pre-release tags would make
"is 2.0.0-rc1 older than 2.0.0?" a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Self

__all__ = ["FACTORY_VERSION", "Version"]

_PATTERN: Final = re.compile(r"(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})")


@dataclass(frozen=True, order=True, slots=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Self:
        """``X.Y.Z``; ValueError naming the text otherwise."""
        match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"bad version {text!r}: expected X.Y.Z, e.g. 1.4.0")
        return cls(*(int(part) for part in match.groups()))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


#: What an emulated terminal runs before its first update: no package, built-in parameters.
FACTORY_VERSION: Final = Version(0, 0, 0)
