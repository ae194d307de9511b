"""Pure functions: Bluesky XRPC payloads (``app.bsky.notification.listNotifications``) → Mention, and rich text.

No SDK import, no network. A notification is ``{uri, cid, author{did, handle, displayName}, reason, record,
isRead, indexedAt}``; for ``mention``, ``reply`` and ``quote`` the record is the ``app.bsky.feed.post`` that
notified us: ``{$type, text, createdAt, langs, facets, reply{root{uri,cid}, parent{uri,cid}}, embed}``.
Facets index the UTF-8 bytes of the text (``byteStart``/``byteEnd``), not characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connectors.base import Rejected
from connectors.normalize import MalformedItem
from connectors.normalize import parse_time as iso_time
from connectors.normalize import rejected as reject
from core.models import Author, Mention, Platform

WEB = "https://bsky.app"
REASONS = {"mention": "mention", "reply": "reply", "quote": "mention"}
_URL = re.compile(rb"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]")
_HANDLE = re.compile(rb"(?:^|(?<=[\s(]))@([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                     rb"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+)")


def parse_time(value: Any) -> datetime:
    """An aware UTC datetime from an AT Protocol datetime (``2026-01-05T08:12:00.000Z``)."""
    return iso_time(value, "createdAt")


def split_uri(uri: str) -> tuple[str, str, str]:
    """``at://did/collection/rkey`` → ``(did, collection, rkey)``."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise MalformedItem(f"bad AT URI {uri!r}")
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        raise MalformedItem(f"bad AT URI {uri!r}")
    return parts[0], parts[1], parts[2]


def permalink(uri: str, handle: str | None = None) -> str:
    """The bsky.app link of a post URI."""
    did, _, rkey = split_uri(uri)
    return f"{WEB}/profile/{handle or did}/post/{rkey}"


def _ref(value: Any) -> dict[str, str] | None:
    if isinstance(value, Mapping) and isinstance(value.get("uri"), str) and isinstance(value.get("cid"), str):
        return {"uri": value["uri"], "cid": value["cid"]}
    return None


CDN = "https://cdn.bsky.app/img/feed_fullsize/plain"


def expand_links(text: str, facets: Any) -> str:
    """``text`` with each link facet's shortened display (« example.org/very-lo… ») replaced by its full URI
    (``app.bsky.richtext.facet#link``); facets index the UTF-8 bytes of the text. A facet whose range does not fit
    the text is left alone."""
    data = text.encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in facets if isinstance(facets, list) else ():
        index = facet.get("index") if isinstance(facet, Mapping) else None
        start = index.get("byteStart") if isinstance(index, Mapping) else None
        end = index.get("byteEnd") if isinstance(index, Mapping) else None
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data)):
            continue
        for feature in facet.get("features") or ():
            if isinstance(feature, Mapping) and feature.get("$type") == "app.bsky.richtext.facet#link" and \
                    isinstance(feature.get("uri"), str):
                spans.append((start, end, feature["uri"]))
                break
    last = len(data) + 1
    for start, end, uri in sorted(spans, reverse=True):
        if end > last:
            continue  # overlapping facets: keep the later one
        data = data[:start] + uri.encode("utf-8") + data[end:]
        last = start
    return data.decode("utf-8", errors="replace")


def _blob_url(did: str, image: Any) -> str | None:
    ref = image.get("ref") if isinstance(image, Mapping) else None
    link = ref.get("$link") if isinstance(ref, Mapping) else None
    return f"{CDN}/{did}/{link}@jpeg" if isinstance(link, str) and link and did else None


def embed_media(embed: Any, did: str = "") -> tuple[str, ...]:
    """Image URLs of a post's embed: a view (``app.bsky.embed.images#view``: ``images[].fullsize``) or a record
    (``app.bsky.embed.images``: blobs, served by the CDN under the author's ``did``), also inside
    ``recordWithMedia`` (``media``); a video's thumbnail."""
    if not isinstance(embed, Mapping):
        return ()
    kind = str(embed.get("$type") or "")
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return embed_media(embed.get("media"), did)
    urls: list[str] = []
    if kind.startswith("app.bsky.embed.images"):
        for image in embed.get("images") or ():
            if not isinstance(image, Mapping):
                continue
            url = image.get("fullsize") or image.get("thumb") or _blob_url(did, image.get("image"))
            if isinstance(url, str) and url:
                urls.append(url)
    elif kind.startswith("app.bsky.embed.video"):
        thumb = embed.get("thumbnail")
        if isinstance(thumb, str) and thumb:
            urls.append(thumb)
    return tuple(urls)


def quoted_uri(embed: Any) -> str | None:
    """The AT URI of the post a quote embeds (``app.bsky.embed.record``, or the ``record`` of
    ``recordWithMedia``), view or record shape; None for a non-post record (a feed, a list)."""
    if not isinstance(embed, Mapping):
        return None
    kind = str(embed.get("$type") or "")
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return quoted_uri({**(embed.get("record") or {}), "$type": "app.bsky.embed.record"}) \
            if isinstance(embed.get("record"), Mapping) else None
    if not kind.startswith("app.bsky.embed.record"):
        return None
    record = embed.get("record")
    uri = record.get("uri") if isinstance(record, Mapping) else None
    return uri if isinstance(uri, str) and "/app.bsky.feed.post/" in uri else None


def notification_to_mention(item: Any, *, account: str = "") -> Mention:
    """Normalise one ``mention``/``reply``/``quote`` notification; raises :class:`MalformedItem`."""
    if not isinstance(item, Mapping):
        raise MalformedItem(f"notification is a {type(item).__name__}, not an object")
    author, record = item.get("author"), item.get("record")
    if not isinstance(item.get("uri"), str) or not isinstance(item.get("cid"), str):
        raise MalformedItem("notification without uri/cid")
    if not isinstance(author, Mapping) or not author.get("did"):
        raise MalformedItem(f"notification {item['uri']}: missing author")
    if not isinstance(record, Mapping) or not isinstance(record.get("text"), str):
        raise MalformedItem(f"notification {item['uri']}: missing post record")
    split_uri(item["uri"])
    reply = found if isinstance(found := record.get("reply"), Mapping) else {}
    parent, root = _ref(reply.get("parent")), _ref(reply.get("root"))
    langs = record.get("langs")
    handle = str(author.get("handle") or author["did"])
    raw = {"uri": item["uri"], "cid": item["cid"], "reason": item.get("reason"), "record": dict(record),
           "root": root or {"uri": item["uri"], "cid": item["cid"]}, "parent": parent}
    return Mention(
        platform=Platform.BLUESKY, platform_id=item["uri"], text=expand_links(record["text"], record.get("facets")),
        media=embed_media(record.get("embed"), str(author["did"])), quote_of=quoted_uri(record.get("embed")),
        author=Author(platform_id=str(author["did"]), handle=handle,
                      display_name=str(author.get("displayName") or "")),
        created_at=parse_time(record.get("createdAt") or item.get("indexedAt")), account=account,
        conversation_id=(root or {}).get("uri") or item["uri"], in_reply_to=(parent or {}).get("uri"),
        lang=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        permalink=permalink(item["uri"], handle), kind=REASONS.get(str(item.get("reason")), "mention"), raw=raw)


def mentions_from_page(page: Any, *, account: str = "", exclude_did: str = "",
                       rejected: list[Rejected] | None = None) -> tuple[list[Mention], list[str]]:
    """Normalise the mention/reply/quote notifications of a page; returns ``(mentions, skipped reasons)``; a
    malformed one with an AT URI is added to ``rejected`` when given (listed on Connexions, decision 0132)."""
    if not isinstance(page, Mapping) or not isinstance(page.get("notifications"), list):
        raise MalformedItem("listNotifications answer has no 'notifications' list")
    found: list[Mention] = []
    skipped: list[str] = []
    for item in page["notifications"]:
        if isinstance(item, Mapping) and item.get("reason") not in REASONS:
            continue  # likes, reposts, follows
        if isinstance(item, Mapping) and isinstance(item.get("author"), Mapping) and \
                item["author"].get("did") == exclude_did:
            continue
        try:
            found.append(notification_to_mention(item, account=account))
        except MalformedItem as err:
            skipped.append(f"bluesky: {err}")
            uri = item.get("uri") if isinstance(item, Mapping) else None
            entry = reject(uri, err, _safe_permalink(uri)) if isinstance(uri, str) and uri.startswith("at://") else None
            if rejected is not None and entry is not None:
                rejected.append(entry)
    return found, skipped


def _safe_permalink(uri: str) -> str | None:
    try:
        return permalink(uri)
    except MalformedItem:
        return None


def facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Link and mention facets of ``text`` (UTF-8 byte offsets); ``resolve`` maps a handle to a DID or None."""
    data = text.encode("utf-8")
    out: list[dict[str, Any]] = []
    for match in _URL.finditer(data):
        out.append({"$type": "app.bsky.richtext.facet",
                    "index": {"byteStart": match.start(), "byteEnd": match.end()},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group().decode("utf-8")}]})
    for match in _HANDLE.finditer(data):
        did = resolve(match.group(1).decode("utf-8"))
        if did:
            out.append({"$type": "app.bsky.richtext.facet",
                        "index": {"byteStart": match.start(), "byteEnd": match.end()},
                        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]})
    return sorted(out, key=lambda f: f["index"]["byteStart"])


THREAD_VIEW, NOT_FOUND, BLOCKED = ("app.bsky.feed.defs#threadViewPost", "app.bsky.feed.defs#notFoundPost",
                                   "app.bsky.feed.defs#blockedPost")


def _context_post(node: Mapping[str, Any], own_did: str) -> dict[str, Any] | None:
    """One ancestor of a thread (``app.bsky.feed.defs`` union member) as a context entry; None if unreadable."""
    kind = node.get("$type")
    uri = node.get("uri") if kind != THREAD_VIEW else (node.get("post") or {}).get("uri") \
        if isinstance(node.get("post"), Mapping) else None
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    if kind == NOT_FOUND or node.get("notFound") is True:
        return {"uri": uri, "state": "not_found"}
    if kind == BLOCKED or node.get("blocked") is True:
        author = found if isinstance(found := node.get("author"), Mapping) else {}
        return {"uri": uri, "state": "blocked", "author_did": str(author.get("did") or "")}
    post = node["post"]
    author, record = post.get("author"), post.get("record")
    if not isinstance(author, Mapping) or not isinstance(record, Mapping) or not isinstance(record.get("text"), str):
        return None
    did = str(author.get("did") or "")
    handle = str(author.get("handle") or did)
    try:
        created = parse_time(record.get("createdAt") or post.get("indexedAt")).isoformat()
        link = permalink(uri, handle)
    except MalformedItem:
        return None
    return {"uri": uri, "state": "post", "author_did": did, "handle": handle,
            "display_name": str(author.get("displayName") or ""), "own": bool(own_did) and did == own_did,
            "text": expand_links(record["text"], record.get("facets")), "created_at": created, "permalink": link,
            "labels": sorted({str(lab.get("val")) for lab in post.get("labels") or ()
                              if isinstance(lab, Mapping) and lab.get("val")})}


def thread_context(answer: Any, *, own_did: str = "") -> list[dict[str, Any]]:
    """The ancestors of the anchor post of a ``getPostThread`` answer (``{thread, threadgate?}``), root first: each
    ``{uri, state}`` with ``state`` ``post`` (author, text with links expanded, time, permalink, ``own`` for the
    city's posts, labels), ``not_found`` (deleted, e.g. a deleted root) or ``blocked`` (the lexicon's
    ``notFoundPost``/``blockedPost``: no text). The chain stops where the answer stops (``parentHeight``, or a
    not-found/blocked post, which has no parent). Raises :class:`MalformedItem` when ``thread`` is not a thread
    view (e.g. the anchor itself is gone)."""
    thread = answer.get("thread") if isinstance(answer, Mapping) else None
    if not isinstance(thread, Mapping) or not isinstance(thread.get("post"), Mapping):
        kind = thread.get("$type") if isinstance(thread, Mapping) else type(thread).__name__
        raise MalformedItem(f"getPostThread: the anchor is not a thread view ({kind})")
    chain: list[dict[str, Any]] = []
    node = thread.get("parent")
    seen: set[str] = set()
    while isinstance(node, Mapping) and len(chain) < 1000:
        entry = _context_post(node, own_did)
        if entry is None or entry["uri"] in seen:
            break
        seen.add(entry["uri"])
        chain.append(entry)
        node = node.get("parent") if entry["state"] == "post" else None
    return list(reversed(chain))
