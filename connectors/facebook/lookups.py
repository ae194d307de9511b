"""Finding what an uncertain write did on a Page: one of our replies (``find_reply``, for the reply outbox) and
whether a moderation act is in effect (``act_applied``, for the moderation acts' outbox, decision 0051).

``reply`` comments on :func:`reply_target`: the mention itself (a comment, a visitor post, a post the Page is
tagged in), or for a reply to a comment the thread's first comment (Facebook nests two levels). The lookup reads
that object's ``comments`` edge (``GET /{object-id}/comments``, default ``filter=toplevel``: the post's own
comments, or the comment's replies; ``order=reverse_chronological``, newest first, 100 a page, older pages through
``paging.cursors.after`` while ``paging.next`` is there) with the connector's Graph client (its error mapping:
190 → ``AuthFailed``, 4/17/32/613 → ``RateLimited``, 5xx → ``Unavailable``). A comment matches when its
``from.id`` is the Page and its ``message`` is the text sent (spacing ignored). The walk stops at the first
comment created before ``since`` (None: certainly absent). It raises ``Unavailable`` (cannot tell) when the page
budget runs out first, when a comment on the way cannot be read (no id or time, or our text with no author: it
might have been ours), or when Graph does not answer newest first (the order is what makes "absent" certain); an
answer that is not a list of comments is a ``MalformedPayload``.

``act_applied`` reads a ban or its lifting from the Page's blocked list (``GET /{page}/blocked?user=``) and a
hide or unhide from the comment's ``is_hidden`` (``GET /{comment}?fields=id,is_hidden``). It raises when it cannot
tell, and always for ``delete``: Graph answers the same error for a deleted comment and for one the token may not
read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.facebook import normalize as nz
from connectors.graph.client import GraphClient
from connectors.normalize import malformed_answer
from connectors.paging import Walk, not_found
from core.errors import ConnectorError, MalformedPayload, Unavailable, Unsupported
from core.models import Mention, Published

ENDPOINT = "GET /{id}/comments"
FIELDS = "id,message,created_time,from{id,name},permalink_url"
PAGE = 100


def reply_target(mention: Mention) -> str:
    """The object ``reply`` comments on: the mention, or for a reply to a comment its thread's first comment."""
    return mention.in_reply_to if mention.kind == "reply" and mention.in_reply_to else mention.platform_id


def comparable(text: str) -> str:
    """``text`` with single spaces: what Facebook keeps of a comment's message."""
    return " ".join(text.split())


def find_reply(graph: GraphClient, mention: Mention, text: str, since: datetime, *,
               max_pages: int = 3) -> Published | None:
    """Our comment answering ``mention`` with ``text`` created at or after ``since`` (see the module docstring)."""
    target, wanted, page_id = reply_target(mention), comparable(text), graph.owner_id
    params: dict[str, Any] = {"fields": FIELDS, "order": "reverse_chronological", "limit": PAGE}
    unreadable, newest_seen = 0, None
    walk = graph.pages(target, "comments", params, max_pages=max_pages)
    for page in walk:
        if "data" not in page:
            raise MalformedPayload(f"{ENDPOINT}: no data in the answer")
        with malformed_answer(ENDPOINT):
            comments = nz.page_items(page, ENDPOINT)
        for comment in comments:
            if not isinstance(comment, Mapping) or not isinstance(comment.get("id"), str):
                unreadable += 1
                continue
            try:
                created = nz.item_time(comment)
            except nz.MalformedItem:
                unreadable += 1
                continue
            if newest_seen is not None and created > newest_seen:
                raise Unavailable(f"{ENDPOINT}: the comments are not newest first; cannot tell")
            newest_seen = created
            if created < since:
                _absent(walk, unreadable)  # newest first: everything further is older
                return None
            message = comment.get("message")
            same = isinstance(message, str) and comparable(message) == wanted
            author = nz.author_id(comment)
            if same and author == page_id:
                return Published(platform_id=comment["id"],
                                 permalink=str(comment.get("permalink_url") or f"{nz.WEB}/{comment['id']}"))
            if same and not author:
                unreadable += 1  # our text, author not shown: it might be ours
        if not comments or walk.done:
            _absent(walk, unreadable)
            return None
    not_found(walk, ENDPOINT)  # the page budget ran out: cannot tell (raises)
    return None


def _absent(walk: Walk[Any], unreadable: int) -> None:
    """A check: returns when the reply is certainly absent; Unavailable when a comment could not be read (it
    might have been the one: cannot tell)."""
    not_found(walk, ENDPOINT, reached=True, unreadable=unreadable, what="comment(s)")


def is_blocked(graph: GraphClient, user: str) -> bool | None:
    """Whether ``user`` is on the Page's blocked list (``GET /{page}/blocked?user=``); None if it cannot tell."""
    try:
        data = graph.get(graph.owner_id, "blocked", {"user": user, "fields": "id"}).get("data")
    except ConnectorError:
        return None
    return bool(data) if isinstance(data, list) else None


def act_applied(graph: GraphClient, action: str, mention: Mention, user: str) -> bool:
    """Whether moderation ``action`` is in effect now on ``mention`` (``user``: its author's id, for bans); see the
    module docstring."""
    if action in ("ban", "unban"):
        blocked = is_blocked(graph, user)
        if blocked is None:
            raise Unavailable("GET /{page}/blocked: cannot tell whether the author is blocked")
        return blocked is (action == "ban")
    if action in ("hide", "unhide"):
        hidden = graph.get_object(mention.platform_id, "id,is_hidden").get("is_hidden")
        if not isinstance(hidden, bool):
            raise MalformedPayload("GET /{id}?fields=is_hidden: no is_hidden in the answer")
        return hidden is (action == "hide")
    raise Unsupported(f"Facebook cannot tell whether a {action} happened")
