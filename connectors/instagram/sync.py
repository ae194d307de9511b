"""One fetch pass over an Instagram professional account: comments on its recent media, and photo tags.

Comments: ``GET /{ig-user-id}/media`` newest first (``media_limit`` a page, at most ``max_pages``) until a page
ends before the lookback window; for each media with comments, ``GET /{ig-media-id}/comments`` (top-level
comments with their ``replies`` embedded, flattened). A comment is new when it is not in ``seen``; a changed text
(fingerprint) comes back as a revision, a changed ``hidden`` as a ``hidden``/``unhidden`` change. The account's
own replies are left out.

Photo tags: ``GET /{ig-user-id}/tags`` lists the media where the account is tagged, newest first, with cursor
paging; each becomes a Mention of kind ``tag`` (author: the media owner's ``username``; text: the caption). The
walk stops at the first media older than the window or already read. A refusal (e.g. a permission missing)
leaves the comments synced and says so in ``notes``. With Instagram Login there is no ``tags`` edge: the pass
does not ask (``read_tags=False``), and the connector declares photo tags unavailable (shown on Connexions).

The account's media that have comments come back in ``FetchResult.own_posts`` (caption, date, link: the fields
the media page already holds), the roots « Fil » shows above their comments (decisions 0212, 0285).

The cursor is JSON: ``seen`` maps each comment of the window to ``[fingerprint, hidden, created]``; ``tags`` maps
each tagged media already read to its time. Both keep 30 days beyond the window, the newest first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.base import FetchResult, OwnPost, PlatformChange, Rejected
from connectors.graph.client import GraphClient
from connectors.instagram import normalize as nz
from connectors.normalize import rejected as reject
from connectors.paging import load_state
from core.errors import MalformedPayload, PermanentFailure
from core.models import Mention

MAX_SEEN = 5000
MAX_TAGS_SEEN = 2000
KEEP_S = 30 * 86400  # how long beyond the window an item stays in the cursor


def load(cursor: str | None, key: str) -> dict[str, Any]:
    """The ``key`` part of a cursor (``seen`` or ``tags``); anything unreadable starts afresh."""
    part = load_state(cursor).get(key)
    return part if isinstance(part, dict) else {}


class AccountSync:
    """One fetch pass (see the module docstring) through the connector's Graph client."""

    def __init__(self, *, graph: GraphClient, ig_user_id: str, account: str, username: str, now: datetime,
                 lookback: timedelta, media_limit: int, max_pages: int, read_tags: bool = True) -> None:
        self.graph, self.ig_user_id, self.account, self.username = graph, ig_user_id, account, username
        self.read_tags = read_tags  # False with Instagram Login: Meta has no ``tags`` edge there
        self.window_start = int((now - lookback).timestamp())
        self.media_limit, self.max_pages = media_limit, max_pages
        self.mentions: dict[str, Mention] = {}
        self.changes: list[PlatformChange] = []
        self.skipped: list[str] = []
        self.rejected: list[Rejected] = []
        self.own_posts: list[OwnPost] = []
        self.tags_note = ""

    def _reject(self, item: Any, err: Exception, what: str, link: Any = None) -> None:
        """Skip a malformed item with its reason; list it when it has an id (decision 0132)."""
        self.skipped.append(f"{what}: {err}")
        if isinstance(item, Mapping) and (entry := reject(item.get("id"), err, link or item.get("permalink"))):
            self.rejected.append(entry)

    def _own(self, mention: Mention) -> bool:
        """The account's own comment: by id (``from{id}``/``user{id}``); by username only when Meta gave no id."""
        if mention.author.known:
            return mention.author.platform_id == self.ig_user_id
        return bool(self.username and mention.author.handle == self.username)

    def run(self, cursor: str | None) -> FetchResult:
        """New, edited, hidden or unhidden comments on the media of the lookback window, and new photo tags."""
        seen = load(cursor, "seen")
        params = {"fields": nz.MEDIA_FIELDS, "limit": self.media_limit}
        for page in self.graph.pages(self.ig_user_id, "media", params, max_pages=self.max_pages):
            items = page.get("data")
            if not isinstance(items, list):
                raise MalformedPayload("instagram media: 'data' is not a list")
            oldest = None
            for media in items:
                if not isinstance(media, Mapping) or not isinstance(media.get("id"), str):
                    self.skipped.append("instagram: media without id")
                    continue
                try:
                    oldest = int(nz.parse_time(media.get("timestamp")).timestamp())
                except nz.MalformedItem:
                    oldest = oldest or self.window_start
                if media.get("comments_count") == 0:
                    continue
                self._comments(media, seen)
                if (root := nz.own_media_post(media)) is not None:
                    self.own_posts.append(root)  # the root « Fil » shows above the comments (decision 0285)
            if oldest is None or oldest < self.window_start:
                break
        tags = load(cursor, "tags")
        try:
            tags = self._tags(tags) if self.read_tags else tags
        except PermanentFailure as err:  # e.g. a permission missing: the comments still sync
            self.tags_note = f"photo tags not read ({err.code}: {err}); comments are synced"
        kept = sorted(((k, v) for k, v in seen.items() if isinstance(v, list) and len(v) == 3 and
                       v[2] >= self.window_start - KEEP_S), key=lambda kv: kv[1][2])[-MAX_SEEN:]
        return FetchResult(mentions=list(self.mentions.values()), skipped=self.skipped, changes=self.changes,
                           rejected=self.rejected, own_posts=self.own_posts,
                           cursor=json.dumps({"v": 1, "seen": dict(kept), "tags": tags}),
                           notes=(self.tags_note,) if self.tags_note else ())

    def _comments(self, media: Mapping[str, Any], seen: dict[str, list[Any]]) -> None:
        params = {"fields": nz.COMMENT_FIELDS, "limit": 50}
        for page in self.graph.pages(media["id"], "comments", params, max_pages=self.max_pages):
            try:
                items = nz.flatten(page.get("data"), f"comments of {media['id']}")
            except nz.MalformedItem as err:
                raise MalformedPayload(f"instagram {err}") from err
            for item in items:
                try:
                    mention = nz.comment_to_mention(item, media=media, account=self.account)
                except nz.MalformedItem as err:
                    self._reject(item, err, "instagram", media.get("permalink"))
                    continue
                if self._own(mention):
                    continue  # the account's own replies
                fp, hidden = nz.fingerprint(item), int(bool(item.get("hidden")))
                old = seen.get(mention.platform_id)
                if old is None or old[0] != fp:
                    self.mentions[mention.uid] = mention  # new, or its text was edited
                if (old is None and hidden) or (old is not None and old[1] != hidden):
                    self.changes.append(PlatformChange(uid=mention.uid, change="hidden" if hidden else "unhidden"))
                seen[mention.platform_id] = [fp, hidden, int(mention.created_at.timestamp())]

    def _tags(self, seen: dict[str, int]) -> dict[str, int]:
        """Add the tags not in ``seen`` (media id → time) to the mentions; returns the pruned new ``seen``."""
        params = {"fields": nz.TAG_FIELDS, "limit": self.media_limit}
        for page in self.graph.pages(self.ig_user_id, "tags", params, max_pages=self.max_pages):
            items = page.get("data")
            if not isinstance(items, list):
                raise MalformedPayload("instagram tags: 'data' is not a list")
            stop = not items
            for item in items:
                try:
                    mention = nz.media_to_mention(item, kind="tag", account=self.account)
                except nz.MalformedItem as err:
                    self._reject(item, err, "instagram tag")
                    continue
                when = int(mention.created_at.timestamp())
                if when < self.window_start or mention.platform_id in seen:
                    stop = True  # newest first: what follows is older or already read
                    continue
                if self.username and mention.author.handle == self.username:
                    continue
                self.mentions[mention.uid] = mention
                seen[mention.platform_id] = when
            if stop:
                break
        keep = sorted(((k, v) for k, v in seen.items() if isinstance(v, int) and v >= self.window_start - KEEP_S),
                      key=lambda kv: kv[1])[-MAX_TAGS_SEEN:]
        return dict(keep)
