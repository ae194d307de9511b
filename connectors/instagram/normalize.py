"""Pure functions: Instagram Graph API payloads (``/{ig-media-id}/comments`` with ``replies``) → Mention.

No SDK import, no network. A comment is ``{id, text, timestamp, username, from{id, username}, hidden, like_count,
parent_id, replies{data, paging}}``; the ``comments`` edge lists top-level comments, their replies come in the
``replies`` field (Instagram threads are two levels deep and only top-level comments can be answered).
Times look like ``2026-01-05T08:12:00+0000``. What Facebook shares (times, list pages, the ``after`` cursor) comes
from connectors/graph/normalize.py. The ``mentions`` webhook's payload is read in connectors/instagram/mentions.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.base import OwnPost
from connectors.graph import normalize as graph
from connectors.graph.normalize import MalformedItem, parse_time
from core.models import Author, Mention, Platform

MEDIA_FIELDS = "id,caption,timestamp,permalink,comments_count,media_type"
REPLY_FIELDS = "id,text,timestamp,username,from{id,username},user{id},hidden,like_count,parent_id"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies.limit(50){{{REPLY_FIELDS}}}"

# Another account's media (``GET /{ig-user-id}/tags``, ``mentioned_media``); ``username`` is the media owner's.
TAG_FIELDS = "id,caption,timestamp,username,permalink,media_type,media_url,comments_count"
MENTIONED_MEDIA_FIELDS = "id,caption,timestamp,username,media_type,media_url,comments_count,like_count"
# ``mentioned_comment`` gives its writer's ``username`` (recorded on the live API), not their id: the author is
# unknown (an id of its own), shown by username.
MENTIONED_COMMENT_FIELDS = "id,text,timestamp,like_count,media,username"

__all__ = ["COMMENT_FIELDS", "MEDIA_FIELDS", "MENTIONED_COMMENT_FIELDS", "MENTIONED_MEDIA_FIELDS", "TAG_FIELDS",
           "MalformedItem", "author_of", "comment_to_mention", "fingerprint", "flatten", "media_to_mention",
           "mentioned_comment_to_mention", "own_media_post", "parse_time"]


def fingerprint(item: Mapping[str, Any]) -> str:
    """A short hash of the visible text (``text``), to notice edits without keeping the text in the cursor."""
    return graph.fingerprint(item, "text")


def _comment(comment: Any, what: str) -> Mapping[str, Any]:
    """``comment`` if it has an id and a text; raises :class:`MalformedItem` naming ``what`` otherwise."""
    if not isinstance(comment, Mapping) or not isinstance(comment.get("id"), str) or not comment["id"]:
        raise MalformedItem(f"{what} without id")
    if not isinstance(comment.get("text"), str):
        raise MalformedItem(f"{what} {comment['id']}: text missing")
    return comment


def author_of(comment: Mapping[str, Any], *, ids: bool = True) -> Author:
    """The writer of a comment: its id from ``from{id}`` (or ``user{id}``, which Meta returns on the account's own
    comments), never the username (usernames change); without an id the author is unknown (an id of its own for
    this comment, core.models.Author.unknown), its username still shown. ``ids=False``: a request that cannot ask
    for ``from``/``user`` (``mentioned_comment``): the username only."""
    who = found if ids and isinstance(found := comment.get("from"), Mapping) else {}
    user = found if ids and isinstance(found := comment.get("user"), Mapping) else {}
    handle = str(who.get("username") or comment.get("username") or "")
    ident = who.get("id") or user.get("id")
    if not ident:
        return Author.unknown(str(comment["id"]), handle=handle)
    return Author(platform_id=str(ident), handle=handle)


def comment_to_mention(comment: Any, *, media: Mapping[str, Any], account: str = "") -> Mention:
    """A comment on one of the account's media (``comment``) or a reply to one (``reply``)."""
    comment = _comment(comment, "comment")
    parent = comment.get("parent_id")
    media_id = str(media.get("id") or "")
    link = media.get("permalink") if isinstance(media.get("permalink"), str) else None
    raw = {k: v for k, v in comment.items() if k not in ("replies", "paging")}
    raw["media_id"] = media_id
    return Mention(platform=Platform.INSTAGRAM, platform_id=comment["id"], text=comment["text"],
                   author=author_of(comment), created_at=parse_time(comment.get("timestamp")), account=account,
                   conversation_id=media_id, in_reply_to=str(parent) if parent else media_id,
                   permalink=link, kind="reply" if parent else "comment", raw=raw)


def own_media_post(media: Mapping[str, Any]) -> OwnPost | None:
    """One of the account's media (``MEDIA_FIELDS``) as the root of its comments: caption, date and link, no extra
    request (decisions 0212, 0285); None without an id or a readable date. A media without a caption is kept:
    its date and link still say which post the comments answer."""
    ident = media.get("id")
    if not isinstance(ident, str) or not ident:
        return None
    try:
        published = parse_time(media.get("timestamp"))
    except MalformedItem:
        return None
    caption, link = media.get("caption"), media.get("permalink")
    return OwnPost(platform_id=ident, text=caption if isinstance(caption, str) else "", published_at=published,
                   permalink=link if isinstance(link, str) and link.startswith("https://") else "")


def flatten(comments: Any, what: str) -> list[Any]:
    """Top-level comments of a page followed by their embedded replies (``parent_id`` filled in)."""
    if not isinstance(comments, list):
        raise MalformedItem(f"{what}: 'data' is not a list")
    out: list[Any] = []
    for comment in comments:
        out.append(comment)
        replies = comment.get("replies") if isinstance(comment, Mapping) else None
        data = replies.get("data") if isinstance(replies, Mapping) else None
        for reply in data if isinstance(data, list) else ():
            if isinstance(reply, Mapping) and not reply.get("parent_id"):
                reply = {**reply, "parent_id": comment.get("id")}
            out.append(reply)
    return out


def _time(item: Mapping[str, Any]) -> datetime:
    try:
        return parse_time(item.get("timestamp"))
    except MalformedItem as err:
        raise MalformedItem(f"{item.get('id')}: {err}") from err


def media_to_mention(media: Any, *, kind: str, account: str = "") -> Mention:
    """Another account's media where the account is tagged (``tag``) or @mentioned in the caption (``mention``)."""
    if not isinstance(media, Mapping) or not isinstance(media.get("id"), str) or not media["id"]:
        raise MalformedItem("media without id")
    caption = media.get("caption")
    if caption is not None and not isinstance(caption, str):
        raise MalformedItem(f"media {media['id']}: caption is not text")
    # ``username`` only: Meta gives the owner's id (``owner``) only to the media's owner, so the author is unknown
    owner = found if isinstance(found := media.get("username"), str) else ""
    link = found if kind == "tag" and isinstance(found := media.get("permalink"), str) else None  # tags only
    image = found if isinstance(found := media.get("media_url"), str) and found else None
    return Mention(platform=Platform.INSTAGRAM, platform_id=media["id"], text=caption or "",
                   author=Author.unknown(media["id"], handle=owner), created_at=_time(media),
                   media=(image,) if image else (),
                   account=account, conversation_id=media["id"], permalink=link, kind=kind,
                   raw={**media, "media_id": media["id"]})


def mentioned_comment_to_mention(comment: Any, *, media_id: str, account: str = "") -> Mention:
    """A comment on another account's media that @mentions the account (``mentioned_comment``)."""
    comment = _comment(comment, "mentioned comment")
    media = comment.get("media")
    media_id = str(media.get("id") or media_id) if isinstance(media, Mapping) else str(media or media_id)
    return Mention(platform=Platform.INSTAGRAM, platform_id=comment["id"], text=comment["text"],
                   author=author_of(comment, ids=False), created_at=_time(comment),
                   account=account, conversation_id=media_id, in_reply_to=media_id, kind="mention",
                   raw={**comment, "media_id": media_id, "comment_id": comment["id"]})
