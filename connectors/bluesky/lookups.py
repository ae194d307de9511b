"""Looking for one of our replies on the PDS after an uncertain write (``find_reply``, for the reply outbox).

Our posts are read from the city's own repository (``com.atproto.repo.listRecords`` on ``app.bsky.feed.post``,
100 a page, newest first by record key, older pages through ``cursor``): the PDS answers what was written at
once, where the AppView's ``app.bsky.feed.getAuthorFeed`` may lag behind its indexing and so call a reply absent
that is there. A record matches when its ``reply.parent.uri`` is the mention's post (what ``reply`` put there)
and its ``text`` is the one sent (``reply`` posts it unchanged; spacing at the ends ignored). The walk stops at
the first record created before ``since`` (None: certainly absent) and raises ``Unavailable`` when the page
budget runs out before (cannot tell).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connectors.bluesky import normalize as nz
from connectors.paging import Walk, not_found
from core.errors import MalformedPayload
from core.models import Mention, Published

NSID = "com.atproto.repo.listRecords"
POST = "app.bsky.feed.post"
PAGE = 100  # the lexicon's maximum
Query = Callable[..., dict[str, Any]]


def records(query: Query, repo: str, collection: str, *, max_pages: int) -> Walk[dict[str, Any]]:
    """The pages of ``collection`` in the city's repository (``com.atproto.repo.listRecords``, 100 a page, newest
    first by record key, older pages through ``cursor``); a page without a ``records`` list is a MalformedPayload."""
    def fetch(cursor: str | None) -> dict[str, Any]:
        page = query(NSID, repo=repo, collection=collection, limit=PAGE, cursor=cursor)
        if not isinstance(page.get("records"), list):
            raise MalformedPayload(f"{NSID}: no records in the answer")
        return page

    return Walk(fetch, lambda page: page.get("cursor") if page["records"] else None, max_pages=max_pages)


def parent_uri(mention: Mention) -> str:
    """The URI ``reply`` puts in ``reply.parent`` for this mention."""
    return str(mention.raw.get("uri") or mention.platform_id)


def find_reply(query: Query, repo: str, handle: str, mention: Mention, text: str, since: datetime, *,
               max_pages: int = 3) -> Published | None:
    """Our post replying to ``mention`` with ``text`` created at or after ``since`` (see the module docstring)."""
    parent, wanted = parent_uri(mention), text.strip()
    walk = records(query, repo, POST, max_pages=max_pages)
    for page in walk:
        for record in page["records"]:
            value = record.get("value") if isinstance(record, Mapping) else None
            if not isinstance(value, Mapping) or not isinstance(record.get("uri"), str):
                continue
            try:
                created = nz.parse_time(value.get("createdAt"))
            except nz.MalformedItem:
                continue
            if created < since:
                return None  # newest first: everything further is older
            reply = found if isinstance(found := value.get("reply"), Mapping) else {}
            target = found if isinstance(found := reply.get("parent"), Mapping) else {}
            body = value.get("text")
            if target.get("uri") == parent and isinstance(body, str) and body.strip() == wanted:
                try:
                    link = nz.permalink(record["uri"], handle)
                except nz.MalformedItem:
                    link = None
                return Published(platform_id=record["uri"], permalink=link)
    not_found(walk, NSID)  # Unavailable unless the walk reached the end of the list
    return None
