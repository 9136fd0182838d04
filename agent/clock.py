"""Report IDs and timestamps: one format on the wire (ISO 8601 UTC with milliseconds, ``Z``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

__all__ = ["format_time", "new_id", "parse_time", "utc_now"]


def new_id() -> str:
    """A report or command ID; random (UUID4) so agents never need to coordinate."""
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(at: datetime | None = None) -> str:
    at = (at or utc_now()).astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time; a time without zone is taken as UTC. Raises ``ValueError``."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)
