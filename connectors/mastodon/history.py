"""Edit histories of Mastodon statuses as ``edited`` platform changes (stored as revisions of the mention)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.base import PlatformChange
from connectors.mastodon import normalize as nz
from core.errors import MalformedPayload, PermanentFailure, RateLimited, Unavailable
from core.models import Platform


def edit_changes(history: Callable[[str], list[dict[str, Any]]], ids: list[str], *,
                 limit: int) -> tuple[list[PlatformChange], list[str]]:
    """Each edit of the statuses ``ids`` (``GET /api/v1/statuses/:id/history``: one call per edited status, at most
    ``limit``) as ``edited`` changes; returns them and the ids left for the next fetch."""
    changes: list[PlatformChange] = []
    for n, status_id in enumerate(ids[:limit]):
        try:
            versions = history(status_id)
        except (RateLimited, Unavailable):
            return changes, ids[n:]  # try again at the next fetch
        except (PermanentFailure, MalformedPayload):
            continue  # deleted since, or unreadable: the mention keeps the text it has
        uid = f"{Platform.MASTODON}:{status_id}"
        try:
            steps = nz.edit_steps(versions)
        except nz.MalformedItem:
            continue
        changes.extend(PlatformChange(uid=uid, change="edited", old_text=old, new_text=new, raw=version)
                       for old, new, version in steps)
    return changes, ids[limit:]
