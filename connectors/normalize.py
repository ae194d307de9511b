"""What the platforms' ``normalize.py`` modules share: the error for one unreadable item, and reading a time.

A malformed item raises :class:`MalformedItem` and the caller skips it with the reason and, when the item has an id,
lists it (:func:`rejected`, ``FetchResult.rejected``, decision 0132); a malformed whole answer is a
``MalformedPayload`` (:func:`malformed_answer`). Pure: no SDK import, no network
(tests/connectors/test_layout.py checks every ``normalize.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from connectors.base import Rejected
from core.errors import MalformedPayload


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


@contextmanager
def malformed_answer(label: str) -> Iterator[None]:
    """Inside, a :class:`MalformedItem` means the whole answer cannot be read: raised again as
    ``MalformedPayload("<label>: <reason>")`` (``from`` the item's error)."""
    try:
        yield
    except MalformedItem as err:
        raise MalformedPayload(f"{label}: {err}") from err


def rejected(item_id: Any, reason: object, permalink: Any = None) -> Rejected | None:
    """The :class:`~connectors.base.Rejected` entry for an item that failed validation, to list on Connexions; None
    when the item has no usable id (nothing to point at: its reason is still in ``FetchResult.skipped``)."""
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    if not isinstance(item_id, str) or not item_id.strip() or len(item_id) > 300:
        return None
    link = permalink if isinstance(permalink, str) and permalink.startswith("https://") else None
    return Rejected(item_id=item_id, reason=str(reason)[:500], permalink=link)
