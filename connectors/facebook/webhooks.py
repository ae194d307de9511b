"""What a Page ``feed`` webhook change points to (Meta's value: ``item``, ``verb``, ``comment_id``, ``post_id``,
``parent_id``, ``from``), read through the Graph API by id: a comment or a visitor's post added or edited is
fetched and normalised like a sync would; ``remove``, ``hide`` and ``unhide`` become :class:`PlatformChange`
(the stored item's state follows). The Page's own posts and comments, reactions and other items are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import FetchResult, PlatformChange
from connectors.facebook import normalize as nz
from connectors.graph.client import GraphClient
from connectors.normalize import rejected as reject
from core.errors import PermanentFailure
from core.models import Mention, Platform

COMMENT_ITEMS = frozenset({"comment"})
POST_ITEMS = frozenset({"post", "status", "photo", "video", "share"})
VERB_CHANGES = {"remove": "deleted", "hide": "hidden", "unhide": "unhidden"}
READ_VERBS = frozenset({"add", "edited"})


def comment_by_id(graph: GraphClient, comment_id: str, *, post_id: str, account: str) -> Mention:
    """One comment (or reply) of the Page's content, read by id."""
    comment = graph.get_object(comment_id, nz.COMMENT_FIELDS)
    return nz.comment_to_mention(comment, post_id=post_id, account=account)


def post_by_id(graph: GraphClient, post_id: str, *, account: str) -> Mention:
    """One visitor post on the Page, read by id."""
    return nz.post_to_mention(graph.get_object(post_id, nz.POST_FIELDS), account=account)


def feed_change(graph: GraphClient, value: Any, *, page_id: str, account: str) -> FetchResult:
    """The mentions and state changes one ``feed`` change means (see the module docstring)."""
    if not isinstance(value, Mapping):
        return FetchResult(mentions=(), cursor=None, skipped=["facebook webhook: feed value is not an object"])
    item, verb = str(value.get("item") or ""), str(value.get("verb") or "")
    author = value.get("from")
    if isinstance(author, Mapping) and str(author.get("id") or "") == page_id:
        return FetchResult(mentions=(), cursor=None, notes=[f"the Page's own {item}"])
    if item in COMMENT_ITEMS:
        item_id, post_id = str(value.get("comment_id") or ""), str(value.get("post_id") or "")
    elif item in POST_ITEMS:
        item_id = post_id = str(value.get("post_id") or "")
    else:
        return FetchResult(mentions=(), cursor=None, notes=[f"feed item {item or '?'} not read"])
    if not item_id:
        return FetchResult(mentions=(), cursor=None, skipped=[f"facebook webhook: {item} {verb} without id"])
    if verb in VERB_CHANGES:
        change = PlatformChange(uid=f"{Platform.FACEBOOK}:{item_id}", change=VERB_CHANGES[verb])
        return FetchResult(mentions=(), cursor=None, changes=[change])
    if verb not in READ_VERBS:
        return FetchResult(mentions=(), cursor=None, notes=[f"feed verb {verb or '?'} not read"])
    try:
        if item in COMMENT_ITEMS:
            mention = comment_by_id(graph, item_id, post_id=post_id, account=account)
        else:
            mention = post_by_id(graph, item_id, account=account)
    except (nz.MalformedItem, PermanentFailure) as err:  # deleted since, or unreadable
        entry = reject(item_id, err, f"{nz.WEB}/{item_id}") if isinstance(err, nz.MalformedItem) else None
        return FetchResult(mentions=(), cursor=None, skipped=[f"facebook {item} {item_id}: {err}"],
                           rejected=[entry] if entry else [])  # malformed: listed (decision 0132)
    if mention.author.platform_id == page_id:
        return FetchResult(mentions=(), cursor=None, notes=[f"the Page's own {item}"])
    changes = [PlatformChange(uid=mention.uid, change="hidden")] if mention.raw.get("is_hidden") else []
    return FetchResult(mentions=[mention], cursor=None, changes=changes)
