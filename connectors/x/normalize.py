"""Pure functions: X API v2 JSON pages (``GET /2/users/:id/mentions``, ``GET /2/tweets/search/recent``) → Mention.

No tweepy import, no network: the connector asks tweepy for ``return_type=dict`` so these functions see exactly
what the recorded fixtures in tests/fixtures/x/ contain.

Identity across edits: an edited post gets a new id, and its ``edit_history_tweet_ids`` starts with the original
id. The mention's ``platform_id`` is that original id, so a new version upserts onto the same mention and the
store records the edit (old text kept); ``raw["id"]`` is the latest version, the one replies and hides target.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import OwnPost
from connectors.normalize import MalformedItem, parse_time
from core.models import Author, Mention, Platform

WEB = "https://x.com"
TWEET_FIELDS = ("attachments", "author_id", "conversation_id", "created_at", "edit_history_tweet_ids", "entities",
                "in_reply_to_user_id", "lang", "note_tweet", "public_metrics", "referenced_tweets")
EXPANSIONS = ("attachments.media_keys", "author_id", "referenced_tweets.id")
USER_FIELDS = ("name", "public_metrics", "username")
MEDIA_FIELDS = ("preview_image_url", "type", "url")
# What X sends without being asked (docs.x.com: "default fields"); with the constants above, all a normaliser reads.
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")
DEFAULT_MEDIA_FIELDS = ("media_key", "type")
_REQUIRED = ("id", "text", "author_id", "created_at")
__all__ = ["MalformedItem", "PageRead", "city_roots", "deleted_references", "expand_links", "is_retweet",
           "mentions_from_page", "parse_time", "permalink", "post_text", "read_page", "refusal", "stable_id",
           "tweet_to_mention", "without_retweets"]


def permalink(tweet_id: str, username: str | None = None) -> str:
    """Public link of a post (``/i/web/status/<id>`` works without the author's handle)."""
    return f"{WEB}/{username}/status/{tweet_id}" if username else f"{WEB}/i/web/status/{tweet_id}"


def stable_id(tweet: Mapping[str, Any]) -> str:
    """The id that stays the same across edits: the first of ``edit_history_tweet_ids`` (else ``id``)."""
    history = tweet.get("edit_history_tweet_ids")
    if isinstance(history, list) and history and isinstance(history[0], str) and history[0]:
        return history[0]
    return str(tweet["id"])


def _replied_to(tweet: Mapping[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or ():
        if isinstance(ref, Mapping) and ref.get("type") == "replied_to" and ref.get("id"):
            return str(ref["id"])
    return None


def _quoted(tweet: Mapping[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or ():
        if isinstance(ref, Mapping) and ref.get("type") == "quoted" and ref.get("id"):
            return str(ref["id"])
    return None


def expand_links(text: str, entities: Any) -> str:
    """``text`` with each ``t.co`` short link replaced by the URL it stands for (``entities.urls[].expanded_url``)."""
    urls = entities.get("urls") if isinstance(entities, Mapping) else None
    for item in urls if isinstance(urls, list) else ():
        if not isinstance(item, Mapping):
            continue
        short, full = item.get("url"), item.get("expanded_url")
        if isinstance(short, str) and short and isinstance(full, str) and full:
            text = text.replace(short, full)
    return text


def post_text(tweet: Mapping[str, Any]) -> str:
    """What the resident wrote: the long-post text when there is one (``note_tweet``), HTML-unescaped (X sends
    ``&amp;``, ``&lt;``, ``&gt;``), its ``t.co`` links expanded."""
    note = tweet.get("note_tweet")
    if isinstance(note, Mapping) and isinstance(note.get("text"), str):
        text, entities = note["text"], note.get("entities")
    else:
        text, entities = str(tweet.get("text") or ""), tweet.get("entities")
    return expand_links(html.unescape(text), entities)


def _author(author_id: str, user: Mapping[str, Any] | None) -> Author:
    if not user:  # author absent from includes.users: keep the mention, with the id as handle
        return Author(platform_id=author_id, handle=author_id)
    metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), Mapping) else {}
    followers = metrics.get("followers_count") if metrics else None
    return Author(platform_id=author_id, handle=str(user.get("username") or author_id),
                  display_name=str(user.get("name") or ""),
                  followers=followers if isinstance(followers, int) else None)


def _media_urls(tweet: Mapping[str, Any], media: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    keys = (tweet.get("attachments") or {}).get("media_keys") or ()
    urls = []
    for key in keys:
        item = media.get(key) or {}
        url = item.get("url") or item.get("preview_image_url")
        if isinstance(url, str) and url:
            urls.append(url)
    return tuple(urls)


def tweet_to_mention(tweet: Any, *, users: Mapping[str, Mapping[str, Any]],
                     media: Mapping[str, Mapping[str, Any]] | None = None, account: str = "",
                     kind: str = "mention") -> Mention:
    """Normalise one post; raises :class:`MalformedItem` when a required field is missing or unreadable."""
    if not isinstance(tweet, Mapping):
        raise MalformedItem(f"post is a {type(tweet).__name__}, not an object")
    missing = [name for name in _REQUIRED if not isinstance(tweet.get(name), str) or
               (name != "text" and not tweet.get(name))]
    if missing:
        raise MalformedItem(f"post {tweet.get('id', '?')}: missing {', '.join(missing)}")
    text = post_text(tweet)
    user = users.get(tweet["author_id"])
    return Mention(
        platform=Platform.X, platform_id=stable_id(tweet), text=text, author=_author(tweet["author_id"], user),
        created_at=parse_time(tweet["created_at"]), account=account,
        conversation_id=tweet.get("conversation_id") or None, in_reply_to=_replied_to(tweet),
        lang=tweet.get("lang") or None, permalink=permalink(tweet["id"], user.get("username") if user else None),
        media=_media_urls(tweet, media or {}), kind=kind, raw=dict(tweet), quote_of=_quoted(tweet))


def is_retweet(tweet: Any) -> bool:
    """A pure retweet (``referenced_tweets[type=retweeted]``): no words of its own, not an inbox item (decision
    0131); a quote (``quoted``) has its own words and is one."""
    refs = tweet.get("referenced_tweets") if isinstance(tweet, Mapping) else None
    return any(isinstance(r, Mapping) and r.get("type") == "retweeted" for r in refs or ())


def without_retweets(query: str) -> str:
    """A search query that leaves pure retweets out (``-is:retweet`` added unless the query says ``is:retweet``)."""
    query = query.strip()
    return query if not query or "is:retweet" in query else f"{query} -is:retweet"


@dataclass(slots=True)
class PageRead:
    """What one page holds: the mentions, the posts that failed validation (reasons, and ``(id, reason,
    permalink)`` to list), and the pure retweets left out."""

    mentions: list[Mention] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str, str | None]] = field(default_factory=list)
    retweets: int = 0


def read_page(page: Mapping[str, Any], *, account: str = "", kind: str = "mention",
              exclude_authors: Iterable[str] = ()) -> PageRead:
    """Normalise every post of a page (see :class:`PageRead`); posts by ``exclude_authors`` (the account itself:
    our own replies) and pure retweets are left out, not skipped."""
    includes = found if isinstance(found := page.get("includes"), Mapping) else {}
    users = _index(includes.get("users"), "id")
    media = _index(includes.get("media"), "media_key")
    excluded = set(exclude_authors)
    out = PageRead()
    for tweet in page.get("data") or ():
        if isinstance(tweet, Mapping) and tweet.get("author_id") in excluded:
            continue
        if is_retweet(tweet):
            out.retweets += 1
            continue
        try:
            out.mentions.append(tweet_to_mention(tweet, users=users, media=media, account=account, kind=kind))
        except MalformedItem as err:
            out.skipped.append(f"x {kind}: {err}")
            ident = str(tweet.get("id") or "") if isinstance(tweet, Mapping) else ""
            if ident:
                out.rejected.append((ident, str(err), permalink(ident)))
    return out


def refusal(page: Mapping[str, Any]) -> str | None:
    """Why X said no, when a 200 answer holds only ``errors[]`` (an unknown or suspended account, a bad query):
    ``"<title>: <detail>"``; None when the page has posts, is plainly empty, or its errors only name referenced
    posts that are gone (:func:`deleted_references`)."""
    errors = page.get("errors")
    if "data" in page or not isinstance(errors, list) or not errors:
        return None
    own = [e for e in errors if isinstance(e, Mapping) and e.get("resource_type") != "tweet"]
    if not own:
        return None
    first = own[0]
    return ": ".join(str(part) for part in (first.get("title"), first.get("detail")) if part) or "unknown error"


def _index(items: Any, key: str) -> dict[str, Mapping[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {str(i[key]): i for i in items if isinstance(i, Mapping) and i.get(key)}


def mentions_from_page(page: Mapping[str, Any], *, account: str = "", kind: str = "mention",
                       exclude_authors: Iterable[str] = ()) -> tuple[list[Mention], list[str]]:
    """Normalise every post of a page; returns ``(mentions, skipped reasons)``.

    Posts written by ``exclude_authors`` (the account itself: our own replies) and pure retweets are left out,
    not skipped (:func:`read_page` says more).
    """
    read = read_page(page, account=account, kind=kind, exclude_authors=exclude_authors)
    return read.mentions, read.skipped


def city_roots(page: Mapping[str, Any], *, user_id: str) -> list[OwnPost]:
    """The city's own posts that start a conversation, as X includes them in a page (``includes.tweets``: the posts
    the page's posts reply to or quote, asked with the ``referenced_tweets.id`` expansion, no extra request): the
    roots « Fil » shows above the residents' replies (decisions 0212, 0285). A post by another account, the city's
    reply inside someone else's conversation, or one without a readable date is left out."""
    includes = found if isinstance(found := page.get("includes"), Mapping) else {}
    users = _index(includes.get("users"), "id")
    handle = users.get(user_id, {}).get("username")
    roots: list[OwnPost] = []
    for tweet in includes.get("tweets") or ():
        if not isinstance(tweet, Mapping) or str(tweet.get("author_id") or "") != user_id or not tweet.get("id"):
            continue
        ident = stable_id(tweet)
        conversation = tweet.get("conversation_id")
        if conversation and str(conversation) not in (ident, str(tweet["id"])):
            continue  # a reply of the city's inside a conversation it did not start
        try:
            published = parse_time(tweet.get("created_at"))
        except MalformedItem:
            continue
        roots.append(OwnPost(platform_id=ident, text=post_text(tweet), published_at=published,
                             permalink=permalink(str(tweet["id"]), str(handle) if handle else None)))
    return roots


def deleted_references(page: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Posts the page reports as gone (``errors[]`` of type resource-not-found): ``[(id, error), ...]``."""
    gone = []
    for error in page.get("errors") or ():
        if not isinstance(error, Mapping):
            continue
        kind = str(error.get("type", ""))
        if kind.endswith("/resource-not-found") and error.get("resource_type") == "tweet" and error.get(
                "resource_id"):
            gone.append((str(error["resource_id"]), dict(error)))
    return gone
