"""What the platforms' ``normalize.py`` modules share: the error for one unreadable item, and reading a time.

Pure: no SDK import, no network (tests/connectors/test_layout.py checks every ``normalize.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class MalformedItem(ValueError):
    """One item of a page cannot be read; the rest of the page is kept."""


def parse_time(value: Any, field: str = "created_at") -> datetime:
    """An aware UTC datetime from an ISO 8601 text (``2026-01-05T08:12:00.000Z``, ``…+0000``); ``field`` names the
    value in the :class:`MalformedItem` raised when it is missing or unreadable."""
    if not isinstance(value, str) or not value:
        raise MalformedItem(f"bad {field} {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise MalformedItem(f"bad {field} {value!r}") from err
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
