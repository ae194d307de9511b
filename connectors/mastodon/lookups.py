"""Looking for one of our statuses on the instance after an uncertain write: a post (``find_published``, for the
publisher's reconciliation) or a reply to a mention (``find_reply``, for the reply outbox).

Both walk our account's statuses (``GET /api/v1/accounts/:id/statuses``, newest first, 40 a page, older pages
through the ``Link`` header's ``max_id``, read as plain JSON: Mastodon.py would turn any answer, an object
too, into a list) and answer the status found, None when the walk reached statuses older than ``since``
(certainly absent), or raise ``Unavailable`` when the page budget ran out first or a status on the way could
not be read (cannot tell); an answer that is not a list is a ``MalformedPayload``.

A reply matches when its ``in_reply_to_id`` is the mention's status and its text is the one sent. The instance
shows the text as HTML: ``reply`` put the author's ``@handle`` first, which the instance renders as ``@user`` (no
domain), and a long link is cut in the content (``<span class="ellipsis">``); so the comparison leaves out the
leading @-mentions on both sides, takes each plain link from its ``href``, and ignores the spacing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.mastodon import normalize as nz
from connectors.paging import Walk, not_found
from core.errors import MalformedPayload
from core.models import Mention, Published

if TYPE_CHECKING:
    from connectors.mastodon.connector import MastodonConnector

ENDPOINT = "GET /api/v1/accounts/:id/statuses"
PAGE = 40  # the endpoint's maximum
_LEADING_MENTIONS = re.compile(r"^(?:@[\w.-]+(?:@[\w.-]+)?\s+)+")


def comparable(text: str) -> str:
    """``text`` without its leading @-mentions, with single spaces: what two versions of a reply share."""
    return _LEADING_MENTIONS.sub("", " ".join(text.split()) + " ").strip()


def _walk(connector: MastodonConnector, since: datetime, max_pages: int,
          match: Callable[[dict[str, Any], Mention], bool]) -> Published | None:
    """The first of our statuses (newest first) for which ``match`` holds, down to ``since``."""
    account = connector._account_id()  # noqa: SLF001 - the connector's own helpers
    path = f"/api/v1/accounts/{quote(account, safe='')}/statuses"
    unreadable = 0

    def fetch(max_id: str | None) -> tuple[Any, str | None]:
        params: dict[str, Any] = {"limit": PAGE, **({"max_id": max_id} if max_id else {})}
        return connector._read(ENDPOINT, connector._listing, path, params)  # noqa: SLF001

    walk = Walk(fetch, lambda answer: answer[1] if answer[0] else None, max_pages=max_pages)
    for page, _ in walk:
        if not isinstance(page, list):
            raise MalformedPayload(f"{ENDPOINT}: expected a list")
        for status in page:
            try:
                mention = nz.status_to_mention(status)
            except nz.MalformedItem:
                unreadable += 1
                continue
            if mention.created_at < since:
                _absent(walk, unreadable)  # newest first: everything further is older
                return None
            if match(status, mention):
                return Published(platform_id=mention.platform_id, permalink=mention.permalink)
        if walk.done:
            _absent(walk, unreadable)
            return None
    not_found(walk, ENDPOINT)  # the page budget ran out: cannot tell (raises)
    return None


def _absent(walk: Walk[Any], unreadable: int) -> None:
    """A check: returns when the reply is certainly absent; Unavailable when a status could not be read (it
    might have been the one: cannot tell)."""
    not_found(walk, ENDPOINT, reached=True, unreadable=unreadable, what="status(es)")


def find_published(connector: MastodonConnector, text: str, since: datetime, *,
                   max_pages: int = 3) -> Published | None:
    """Our status with exactly ``text`` created at or after ``since``."""
    wanted = text.strip()
    return _walk(connector, since, max_pages, lambda _status, mention: mention.text == wanted)


def find_reply(connector: MastodonConnector, mention: Mention, text: str, since: datetime, *,
               max_pages: int = 3) -> Published | None:
    """Our status replying to ``mention`` with ``text`` (see the module docstring) created at or after ``since``."""
    wanted = comparable(text)

    def match(status: dict[str, Any], _ours: Mention) -> bool:
        if str(status.get("in_reply_to_id") or "") != mention.platform_id:
            return False
        try:
            shown = nz.html_to_text(status.get("content", ""), links=True)
        except nz.MalformedItem:
            return False
        return comparable(shown) == wanted

    return _walk(connector, since, max_pages, match)
