"""Demo records → :class:`core.models.Mention`, with ``raw`` in the platform's real JSON shape
(X API v2 tweet lookup with ``includes.users``; Graph API post or comment) so the archive looks real.

Pure: no SDK import, no network (the demo city's texts come from the TOML files beside this module)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connectors.demo.data import city_authors, texts
from connectors.demo.timeline import utc
from core.models import Author, Mention, Platform

ACCOUNT = "demo"
BASE_URL = "https://demo.parvis.invalid"
_MENTION = re.compile(r"@(\w{1,15})")
_HASHTAG = re.compile(r"#(\w+)")
_URL = re.compile(r"https?://\S+")


@dataclass(slots=True)
class Rec:
    """One generated message before it becomes a Mention (cheap to build, filtered by time first)."""

    ts: int
    platform: str  # "x" | "facebook"
    pid: str
    kind: str  # mention | reply | comment | tag | post (the city's own post, never emitted as a mention)
    text: str
    author: Author
    category: str
    conv: str
    parent: str | None = None
    parent_author: Author | None = None
    media: tuple[str, ...] = ()
    replies: int = 0
    likes: int = 0


def x_permalink(handle: str, pid: str) -> str:
    """Where a demo tweet "lives"."""
    return f"{BASE_URL}/x/{handle}/status/{pid}"


def fb_permalink(post_id: str, comment_id: str | None = None) -> str:
    """Where a demo Facebook post or comment "lives"."""
    page = texts().city["x_handle"]
    url = f"{BASE_URL}/facebook/{page}/posts/{post_id}"
    return f"{url}?comment_id={comment_id}" if comment_id else url


def _x_time(ts: int) -> str:
    return utc(ts).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _fb_time(ts: int) -> str:
    return utc(ts).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _user(a: Author) -> dict[str, Any]:
    return {"id": a.platform_id, "name": a.display_name, "username": a.handle,
            "public_metrics": {"followers_count": a.followers or 0, "following_count": 180, "tweet_count": 1200,
                               "listed_count": 0}}


def x_raw(r: Rec) -> dict[str, Any]:
    """An X API v2 ``GET /2/tweets/:id?expansions=author_id,attachments.media_keys`` response."""
    text = r.text
    city_x = city_authors()[0]
    ids = {city_x.handle: city_x.platform_id}
    if r.parent_author is not None:
        ids[r.parent_author.handle] = r.parent_author.platform_id
    tweet: dict[str, Any] = {
        "id": r.pid, "text": text, "author_id": r.author.platform_id, "conversation_id": r.conv,
        "created_at": _x_time(r.ts), "lang": "fr", "edit_history_tweet_ids": [r.pid],
        "public_metrics": {"retweet_count": r.likes // 7, "reply_count": r.replies, "like_count": r.likes,
                           "quote_count": 0, "bookmark_count": 0, "impression_count": 40 + r.likes * 23},
    }
    entities: dict[str, Any] = {}
    mentions = [{"start": m.start(), "end": m.end(), "username": m.group(1),
                 **({"id": ids[m.group(1)]} if m.group(1) in ids else {})} for m in _MENTION.finditer(text)]
    hashtags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(text)]
    urls = [{"start": m.start(), "end": m.end(), "url": m.group(0), "expanded_url": m.group(0),
             "display_url": m.group(0).split("//", 1)[-1][:24]} for m in _URL.finditer(text)]
    for key, val in (("mentions", mentions), ("hashtags", hashtags), ("urls", urls)):
        if val:
            entities[key] = val
    if entities:
        tweet["entities"] = entities
    if r.parent is not None:
        tweet["in_reply_to_user_id"] = r.parent_author.platform_id if r.parent_author else city_x.platform_id
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": r.parent}]
    includes: dict[str, Any] = {"users": [_user(r.author)]}
    if r.media:
        keys = [f"3_{r.pid.rsplit('-', 1)[-1]}{i}" for i in range(len(r.media))]
        tweet["attachments"] = {"media_keys": keys}
        includes["media"] = [{"media_key": k, "type": "photo", "url": u, "width": 1200, "height": 900}
                             for k, u in zip(keys, r.media, strict=True)]
    return {"data": tweet, "includes": includes}


def fb_raw(r: Rec) -> dict[str, Any]:
    """A Graph API object: a comment (``kind`` comment/reply) or a post (``kind`` mention/tag)."""
    obj: dict[str, Any] = {"id": r.pid, "message": r.text, "created_time": _fb_time(r.ts),
                           "from": {"id": r.author.platform_id, "name": r.author.display_name}}
    if r.kind in ("comment", "reply"):
        obj.update(permalink_url=fb_permalink(r.conv, r.pid), like_count=r.likes, comment_count=r.replies,
                   is_hidden=False, can_hide=True, can_remove=True)
        if r.kind == "reply" and r.parent:
            obj["parent"] = {"id": r.parent}
        if r.media:
            obj["attachment"] = {"type": "photo", "url": r.media[0],
                                 "media": {"image": {"src": r.media[0], "width": 1200, "height": 900}}}
    else:
        obj.update(permalink_url=fb_permalink(r.pid), status_type="mobile_status_update")
        if r.kind == "tag":
            page = city_authors()[1]
            at = r.text.find(page.display_name)
            obj["message_tags"] = [{"id": page.platform_id, "name": page.display_name, "type": "page",
                                    "offset": max(at, 0), "length": len(page.display_name)}]
        if r.media:
            obj["full_picture"] = r.media[0]
    return obj


def to_mention(r: Rec) -> Mention:
    """The normalised mention of a demo record."""
    if r.platform == "x":
        return Mention(platform=Platform.X, platform_id=r.pid, text=r.text, author=r.author, created_at=utc(r.ts),
                       account=ACCOUNT, conversation_id=r.conv, in_reply_to=r.parent, lang="fr",
                       permalink=x_permalink(r.author.handle, r.pid), media=r.media, kind=r.kind, raw=x_raw(r))
    link = fb_permalink(r.conv, r.pid) if r.kind in ("comment", "reply") else fb_permalink(r.pid)
    return Mention(platform=Platform.FACEBOOK, platform_id=r.pid, text=r.text, author=r.author,
                   created_at=utc(r.ts), account=ACCOUNT, conversation_id=r.conv, in_reply_to=r.parent, lang="fr",
                   permalink=link, media=r.media, kind=r.kind, raw=fb_raw(r))
