"""Looking for one of our posts on Instagram after an uncertain publish (``find_published``, for the publisher).

Instagram has no idempotency key: if the answer of ``media_publish`` is lost, the publisher asks whether the post
went out before trying again. The lookup reads the account's media (``GET /{ig-user-id}/media``,
``fields=id,caption,timestamp,permalink``, newest first, 25 a page, older pages through ``paging.cursors.after``
while ``paging.next`` is there) with the connector's Graph client, and answers the media whose caption is
exactly the text sent (spacing at the ends ignored), None when it reaches media older than ``since`` or the end
of the list (certainly absent), or raises ``Unavailable`` when the page budget runs out first (cannot tell); an
answer that is not a list is a ``MalformedPayload``.

No ``find_reply``: Instagram shows the account's replies only under each comment, and the reply outbox sends an
uncertain Instagram reply to « à vérifier » for a person (docs/decisions/0050).
"""

from __future__ import annotations

from datetime import datetime

from connectors.graph.client import GraphClient
from connectors.instagram import normalize as nz
from connectors.paging import not_found
from core.errors import MalformedPayload
from core.models import Published

ENDPOINT = "GET /{page}/media"
FIELDS = "id,caption,timestamp,permalink"
PAGE = 25


def find_published(graph: GraphClient, text: str, since: datetime, *, max_pages: int = 3) -> Published | None:
    """Our post (on ``graph``'s owner account) whose caption is exactly ``text``, published at or after ``since``."""
    walk = graph.pages(graph.owner_id, "media", {"fields": FIELDS, "limit": PAGE}, max_pages=max_pages)
    for page in walk:
        items = page.get("data")
        if not isinstance(items, list):
            raise MalformedPayload(f"{ENDPOINT}: 'data' is not a list")
        for item in items:
            try:
                when = nz.parse_time(item.get("timestamp"))
            except (nz.MalformedItem, AttributeError):
                continue
            if when < since:
                return None  # newest first: everything further is older
            if str(item.get("caption") or "").strip() == text.strip():
                link = item.get("permalink")
                return Published(platform_id=str(item["id"]), permalink=link if isinstance(link, str) else None)
    not_found(walk, ENDPOINT)  # Unavailable unless the walk reached the end of the list
    return None
