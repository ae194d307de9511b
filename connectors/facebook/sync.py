"""Incremental sync of a Facebook Page: which Graph pages to read, and what is new, edited, hidden or gone.

Graph has no "comments since" for a whole Page, and a comment can arrive on a week-old post. So each pass:

1. walks ``/{page-id}/feed`` newest first, with each post's newest comments embedded (``filter=stream``: replies
   come flat with ``parent``), until the page of posts is older than the *lookback window* (default 7 days);
2. for a post whose embedded comments do not reach back to the cursor, pages through ``/{post-id}/comments``
   newest first until they do;
3. reads ``/{page-id}/tagged`` newest first until it is older than the cursor.

An item is new when it is not among the items remembered in the cursor and its ``created_time`` is after the
cursor's ``since`` minus a minute (Graph may show a comment a moment after a newer one). Items of the window are
remembered as a short fingerprint: a changed text is yielded again (the store records the edit), a changed
``is_hidden`` becomes a ``hidden``/``unhidden`` change, and a remembered comment missing from a post whose
comments were read in full becomes a ``deleted`` change. Comments on posts older than the window are not seen
(documented limit; Page webhooks would lift it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from connectors.base import FetchResult, OwnPost, PlatformChange, Rejected
from connectors.facebook import normalize as nz
from connectors.graph.client import GraphClient
from connectors.normalize import malformed_answer
from connectors.normalize import rejected as reject
from connectors.paging import Walk, load_state
from core.errors import ConnectorError
from core.models import Mention, Platform

log = logging.getLogger(__name__)
MAX_SEEN = 5000
OVERLAP_S = 60


@dataclass(slots=True)
class SyncState:
    """The decoded cursor (JSON): ``since`` (epoch seconds of the newest item taken) and the window's items."""

    since: int | None = None
    seen: dict[str, list[Any]] = field(default_factory=dict)  # id -> [fingerprint, hidden, post id, created]

    @classmethod
    def load(cls, cursor: str | None) -> SyncState:
        """Decode a cursor; anything unreadable starts afresh (the first pass is bounded by the window)."""
        data = load_state(cursor)
        since = data.get("since")
        seen = found if isinstance(found := data.get("seen"), dict) else {}
        return cls(since=int(since) if isinstance(since, int | float) else None,
                   seen={str(k): v for k, v in seen.items() if isinstance(v, list) and len(v) == 4})

    def dump(self, window_start: int) -> str:
        """Encode, forgetting items older than the window (and the oldest beyond :data:`MAX_SEEN`)."""
        kept = sorted(((k, v) for k, v in self.seen.items() if v[3] >= window_start), key=lambda kv: -kv[1][3])
        return json.dumps({"v": 1, "since": self.since, "seen": dict(kept[:MAX_SEEN])}, sort_keys=True,
                          separators=(",", ":"))


class PageSync:
    """One fetch pass over a Page (see module docstring) through the connector's Graph client."""

    def __init__(self, *, graph: GraphClient, page_id: str, account: str, now: datetime, lookback: timedelta,
                 post_limit: int, comment_limit: int, max_pages: int, include_tagged: bool = True,
                 on_tagged_error: Callable[[ConnectorError], bool] | None = None) -> None:
        self.graph, self.page_id, self.account = graph, page_id, account
        self.window_start = int((now - lookback).timestamp())
        self.post_limit, self.comment_limit, self.max_pages = post_limit, comment_limit, max_pages
        self.include_tagged = include_tagged
        self.on_tagged_error = on_tagged_error or (lambda err: False)
        self.mentions: dict[str, Mention] = {}
        self.changes: list[PlatformChange] = []
        self.skipped: list[str] = []
        self.rejected: list[Rejected] = []
        self.own_posts: list[OwnPost] = []

    def _reject(self, item: Any, err: Exception) -> None:
        """Skip a malformed item with its reason; list it when it has an id (decision 0132)."""
        self.skipped.append(f"facebook: {err}")
        if isinstance(item, Mapping) and (entry := reject(item.get("id"), err, item.get("permalink_url") or
                                                          f"{nz.WEB}/{item.get('id')}")):
            self.rejected.append(entry)

    # ---- one item ----------------------------------------------------------------------------------

    def _uid(self, item_id: str) -> str:
        return f"{Platform.FACEBOOK}:{item_id}"

    def _consider(self, state: SyncState, item: Any, make: Callable[[], Mention], *, post_id: str) -> str | None:
        """Yield ``item`` if new or edited, note hide/unhide; returns its id (None if malformed)."""
        try:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                raise nz.MalformedItem(f"item without id in {post_id}")
            created = int(nz.item_time(item).timestamp())
            item_id, fp, hidden = item["id"], nz.fingerprint(item), int(bool(item.get("is_hidden")))
            since = state.since if state.since is not None else self.window_start
            old = state.seen.get(item_id)
            is_new = old is None and created > since - OVERLAP_S
            if is_new or (old is not None and old[0] != fp):
                self.mentions[self._uid(item_id)] = make()
            if is_new and hidden:
                self.changes.append(PlatformChange(uid=self._uid(item_id), change="hidden"))
            elif old is not None and old[1] != hidden:
                self.changes.append(PlatformChange(uid=self._uid(item_id), change="hidden" if hidden else "unhidden"))
        except nz.MalformedItem as err:
            self._reject(item, err)
            return None
        if is_new or old is not None:
            state.seen[item_id] = [fp, hidden, post_id, created]
        return item_id

    # ---- the pass ----------------------------------------------------------------------------------

    def _comments(self, state: SyncState, post: Mapping[str, Any], cutoff: int) -> None:
        post_id = str(post["id"])
        block = found if isinstance(found := post.get("comments"), Mapping) else {"data": []}
        try:
            batch = nz.page_items(block, f"comments of {post_id}")
        except nz.MalformedItem as err:
            self.skipped.append(f"facebook: {err}")
            return
        params = {"fields": nz.COMMENT_FIELDS, "filter": "stream", "order": "reverse_chronological", "limit": 100}
        # The embedded comments first, then up to max_pages more pages of /{post-id}/comments.
        walk = Walk(lambda after: self.graph.get(post_id, "comments", {**params, "after": after}) if after else block,
                    nz.next_after, max_pages=self.max_pages + 1)
        seen_ids: set[str] = set()
        for page in walk:
            if walk.pages > 1:
                batch = _data(page, f"comments of {post_id}")
            oldest: int | None = None
            for comment in batch:
                if isinstance(comment, Mapping) and nz.author_id(comment) == self.page_id:
                    seen_ids.add(str(comment.get("id")))
                    continue  # the Page's own replies are not mentions
                cid = self._consider(state, comment, partial(nz.comment_to_mention,
                    comment, post_id=post_id, account=self.account), post_id=post_id)
                if cid:
                    seen_ids.add(cid)
                    created = state.seen[cid][3] if cid in state.seen else _epoch(comment.get("created_time"))
                    oldest = created if oldest is None or (created is not None and created < oldest) else oldest
            if walk.done or (oldest is not None and oldest < cutoff):
                break  # read from the newest to the very first comment, or back to the cursor
        else:
            log.warning("facebook: post %s has more new comments than one pass reads", post_id)
        if walk.done:  # read from the newest to the very first comment
            for cid, (_, _, pid, _) in list(state.seen.items()):
                if pid == post_id and cid != post_id and cid not in seen_ids:  # read in full: it is gone
                    self.changes.append(PlatformChange(uid=self._uid(cid), change="deleted"))
                    del state.seen[cid]

    def run(self, cursor: str | None) -> FetchResult:
        """Read the Page once; returns new/edited mentions, changes and the next cursor."""
        state = SyncState.load(cursor)
        cutoff = (state.since if state.since is not None else self.window_start) - OVERLAP_S
        fields = nz.feed_fields(self.comment_limit)
        feed_ids: set[str] = set()
        covered = False  # True when the walk reached past the window: every recent post was seen
        walk = self.graph.pages(self.page_id, "feed", {"fields": fields, "limit": self.post_limit},
                                max_pages=self.max_pages)
        for page in walk:
            times = []
            for post in _data(page, "feed"):
                if not isinstance(post, Mapping) or not isinstance(post.get("id"), str):
                    self.skipped.append("facebook: feed post without id")
                    continue
                feed_ids.add(post["id"])
                if nz.author_id(post) not in ("", self.page_id):  # a visitor's post on the Page
                    self._consider(state, post, partial(nz.post_to_mention, post, account=self.account),
                                   post_id=post["id"])
                elif post.get("comments"):  # the Page's own post, root of its comments' thread (decision 0212)
                    self._own_post(post)
                self._comments(state, post, cutoff)
                times.append(_epoch(post.get("created_time")) or 0)
            if not times or times[-1] < self.window_start:  # the last post (the first may be pinned)
                covered = True
                break
            if walk.done:
                covered = True
        if covered:
            self._gone_posts(state, feed_ids)
        if self.include_tagged:
            self._tagged(state, cutoff)
        self._advance(state)
        return FetchResult(mentions=list(self.mentions.values()), cursor=state.dump(self.window_start),
                           skipped=self.skipped, changes=self.changes, rejected=self.rejected,
                           own_posts=self.own_posts)

    def _own_post(self, post: Mapping[str, Any]) -> None:
        """The Page's post as the root of its comments: its text, date and link (no extra request)."""
        text = post.get("message") or post.get("story")
        try:
            published = nz.item_time(post)
        except nz.MalformedItem:
            return
        if isinstance(text, str) and text.strip():
            link = post.get("permalink_url")
            self.own_posts.append(OwnPost(platform_id=str(post["id"]), text=text, published_at=published,
                                          permalink=link if isinstance(link, str) and link.startswith("https://")
                                          else nz.post_permalink(str(post["id"]))))

    def _gone_posts(self, state: SyncState, feed_ids: set[str]) -> None:
        """Visitor posts of the window missing from a full walk were deleted, and their comments with them."""
        gone = {i for i, (_, _, pid, created) in state.seen.items()
                if pid == i and created >= self.window_start and i not in feed_ids}
        for item_id, (_, _, pid, _) in list(state.seen.items()):
            if pid in gone:
                self.changes.append(PlatformChange(uid=self._uid(item_id), change="deleted"))
                del state.seen[item_id]

    def _tagged(self, state: SyncState, cutoff: int) -> None:
        try:
            params = {"fields": nz.POST_FIELDS, "limit": self.post_limit}
            for page in self.graph.pages(self.page_id, "tagged", params, max_pages=self.max_pages):
                times = []
                for post in _data(page, "tagged"):
                    self._consider(state, post, partial(nz.post_to_mention, post, account=self.account, kind="tag"),
                                   post_id="tagged")
                    times.append((_epoch(post.get("created_time")) if isinstance(post, Mapping) else None) or 0)
                if not times or times[-1] < cutoff:
                    break
        except ConnectorError as err:
            if not self.on_tagged_error(err):
                raise

    def _advance(self, state: SyncState) -> None:
        """Move ``since`` to the newest item taken (never backwards)."""
        start = state.since if state.since is not None else self.window_start
        state.since = max([start, *(int(m.created_at.timestamp()) for m in self.mentions.values())])


def _epoch(value: Any) -> int | None:
    try:
        return int(nz.parse_time(value).timestamp())
    except nz.MalformedItem:
        return None


def _data(page: Mapping[str, Any], what: str) -> list[Any]:
    with malformed_answer(f"facebook {what}"):
        return nz.page_items(page, what)
