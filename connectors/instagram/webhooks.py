"""What an Instagram ``comments`` webhook change points to (Meta's value: ``id``, ``text``, ``from``,
``media{id}``, ``parent_id``): the comment is read by id through the Graph API and normalised like a sync would
(Instagram sends this field for new comments only; edits, hides and deletions come back through polling).
``mentions`` changes are read by connectors/instagram/mentions.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import FetchResult, PlatformChange
from connectors.graph.client import GraphClient
from connectors.instagram import normalize as nz
from connectors.normalize import rejected as reject
from core.errors import PermanentFailure
from core.models import Mention

COMMENT_BY_ID_FIELDS = nz.REPLY_FIELDS


def comment_by_id(graph: GraphClient, comment_id: str, *, media_id: str, account: str) -> Mention:
    """One comment (or reply) on the account's media, read by id."""
    comment = graph.get_object(comment_id, COMMENT_BY_ID_FIELDS)
    return nz.comment_to_mention(comment, media={"id": media_id}, account=account)


def comments_change(graph: GraphClient, value: Any, *, account: str) -> FetchResult:
    """The comment one ``comments`` change points to (none for the account's own comments)."""
    if not isinstance(value, Mapping) or not value.get("id"):
        return FetchResult(mentions=(), cursor=None, skipped=["instagram webhook: comments change without id"])
    author = value.get("from")
    if isinstance(author, Mapping) and str(author.get("id") or "") == graph.owner_id:
        return FetchResult(mentions=(), cursor=None, notes=["the account's own comment"])
    media = value.get("media")
    media_id = str(media.get("id") or "") if isinstance(media, Mapping) else ""
    comment_id = str(value["id"])
    try:
        mention = comment_by_id(graph, comment_id, media_id=media_id, account=account)
    except (nz.MalformedItem, PermanentFailure) as err:  # malformed: listed (decision 0132); gone: only skipped
        entry = reject(comment_id, err) if isinstance(err, nz.MalformedItem) else None
        return FetchResult(mentions=(), cursor=None, skipped=[f"instagram comment {comment_id}: {err}"],
                           rejected=[entry] if entry else [])
    changes = [PlatformChange(uid=mention.uid, change="hidden")] if mention.raw.get("hidden") else []
    return FetchResult(mentions=[mention], cursor=None, changes=changes)
