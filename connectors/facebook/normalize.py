"""Pure functions: Graph API Page payloads (``/{page-id}/feed`` with comments, ``/{post-id}/comments``,
``/{page-id}/tagged``) → Mention. No SDK import, no network.

Shapes: a post is ``{id, message, created_time, updated_time, from{id,name}, permalink_url, comments{data,
paging}}``; a comment read with ``filter=stream`` is flat, and a reply to a comment carries ``parent{id}``
(Facebook threads are two levels deep). Times look like ``2026-01-05T08:12:00+0000``.
``raw`` keeps the item without its nested ``comments``/``paging``: Graph paging links embed the access token,
which must never reach the database. What Instagram shares (times, list pages, the ``after`` cursor) is in
connectors/graph/normalize.py and re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.graph import normalize as graph
from connectors.graph.normalize import MalformedItem, next_after, page_items, parse_time
from core.models import Author, Mention, Platform

__all__ = ["COMMENT_FIELDS", "POST_FIELDS", "WEB", "MalformedItem", "author_id", "comment_to_mention", "feed_fields",
           "fingerprint", "item_time", "next_after", "page_items", "parse_time", "post_permalink", "post_to_mention"]

WEB = "https://www.facebook.com"
POST_FIELDS = ("id,message,story,created_time,updated_time,from{id,name},permalink_url,"
               "attachments{media,type,url,subattachments}")
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},is_hidden,permalink_url,attachment{type,url,media}"


def feed_fields(comment_limit: int) -> str:
    """``fields=`` for the feed: posts with the newest comments (replies included, flat) embedded."""
    return (f"{POST_FIELDS},comments.filter(stream).order(reverse_chronological).limit({comment_limit})"
            f"{{{COMMENT_FIELDS}}}")


def item_time(item: Mapping[str, Any]) -> datetime:
    """``created_time`` of a post or comment; raises :class:`MalformedItem` when absent or unreadable."""
    return parse_time(item.get("created_time"))


def fingerprint(item: Mapping[str, Any]) -> str:
    """A short hash of the visible text (``message``), to notice edits without keeping the text in the cursor."""
    return graph.fingerprint(item, "message")


def author_id(item: Mapping[str, Any]) -> str:
    """The ``from.id`` of an item ("" when Graph did not return the author)."""
    author = item.get("from")
    return str(author.get("id") or "") if isinstance(author, Mapping) else ""


def _author(item: Mapping[str, Any]) -> Author:
    """``from{id,name}``; without ``from.id`` (a token lacking the permission, a deleted profile) the author is
    unknown: an id of its own for this item (core.models.Author.unknown), never one shared with other items."""
    author = found if isinstance(found := item.get("from"), Mapping) else {}
    name = str(author.get("name") or "")
    if not author.get("id"):
        return Author.unknown(str(item["id"]), handle=name, display_name=name)
    return Author(platform_id=str(author["id"]), handle=name, display_name=name)


def _clean(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("comments", "paging")}


def _attachment_urls(attachment: Any, *, subs: bool = True) -> list[str]:
    """The image of one attachment (``media.image.src``; else, for a photo or sticker, its ``url``), then those of
    its subattachments (an album's photos). A shared link's ``url`` is the article, not an image: left out."""
    if not isinstance(attachment, Mapping):
        return []
    media = found if isinstance(found := attachment.get("media"), Mapping) else {}
    image = found if isinstance(found := media.get("image"), Mapping) else {}
    kind = str(attachment.get("type") or "")
    url = image.get("src") or (attachment.get("url") if kind.startswith(("photo", "sticker", "animated")) else None)
    urls = [url] if isinstance(url, str) and url else []
    album = attachment.get("subattachments") if subs else None
    for sub in (album.get("data") if isinstance(album, Mapping) else None) or ():
        urls.extend(_attachment_urls(sub))
    return urls


def _post_media(post: Mapping[str, Any]) -> tuple[str, ...]:
    """Images of a post: ``attachments.data[]`` and their subattachments."""
    urls: list[str] = []
    many = post.get("attachments")
    for attachment in (many.get("data") if isinstance(many, Mapping) else None) or ():
        urls.extend(_attachment_urls(attachment))
    return tuple(dict.fromkeys(urls))


def _comment_media(comment: Mapping[str, Any]) -> tuple[str, ...]:
    """The image of a comment (its one ``attachment``)."""
    return tuple(_attachment_urls(comment.get("attachment"), subs=False))


def _check(item: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise MalformedItem(f"{what} is a {type(item).__name__}, not an object")
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise MalformedItem(f"{what} without id")
    if item.get("message") is not None and not isinstance(item.get("message"), str):
        raise MalformedItem(f"{what} {item['id']}: message is not text")
    return item


def post_permalink(post_id: str) -> str:
    """Public link of a Page post id ``<page>_<post>``."""
    page, _, post = post_id.partition("_")
    return f"{WEB}/{page}/posts/{post}" if post else f"{WEB}/{post_id}"


def post_to_mention(post: Any, *, account: str = "", kind: str = "mention") -> Mention:
    """A visitor post on the Page (``kind="mention"``) or a post the Page is tagged in (``kind="tag"``)."""
    post = _check(post, "post")
    text = post.get("message") or post.get("story") or ""
    return Mention(platform=Platform.FACEBOOK, platform_id=post["id"], text=str(text), author=_author(post),
                   created_at=item_time(post), account=account, conversation_id=post["id"],
                   permalink=post.get("permalink_url") or post_permalink(post["id"]), kind=kind,
                   media=_post_media(post), raw=_clean(post))


def comment_to_mention(comment: Any, *, post_id: str, account: str = "") -> Mention:
    """A comment on a Page post (``kind="comment"``) or a reply to a comment (``kind="reply"``)."""
    comment = _check(comment, "comment")
    parent = comment.get("parent")
    parent_id = str(parent.get("id")) if isinstance(parent, Mapping) and parent.get("id") else None
    return Mention(platform=Platform.FACEBOOK, platform_id=comment["id"], text=str(comment.get("message") or ""),
                   author=_author(comment), created_at=item_time(comment), account=account,
                   conversation_id=post_id, in_reply_to=parent_id or post_id,
                   permalink=comment.get("permalink_url") or f"{WEB}/{comment['id']}", media=_comment_media(comment),
                   kind="reply" if parent_id else "comment", raw=_clean(comment))

