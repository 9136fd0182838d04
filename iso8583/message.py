"""The message value: an MTI and a dict of field values.

Values are ``str`` for text fields (n, a, an, ans, z, x+n), ``bytes`` for binary fields and
``dict`` for composite fields (subfields, TLV tags). Bitmaps are never stored: they are computed
from the fields present when packing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Message"]


@dataclass(slots=True, eq=True)
class Message:
    mti: str
    fields: dict[int, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, mti: str, fields: Mapping[int | str, Any] | None = None) -> Message:
        """Build from keys given as ints or numeric strings (as in JSON)."""
        return cls(mti, {int(k): v for k, v in (fields or {}).items()})

    def get(self, number: int, default: Any = None) -> Any:
        return self.fields.get(number, default)

    def __contains__(self, number: object) -> bool:
        return number in self.fields

    def __repr__(self) -> str:
        # Values are left out on purpose: a repr ends up in logs and may hold a PAN or PIN block.
        return f"Message(mti={self.mti!r}, fields={sorted(self.fields)})"
