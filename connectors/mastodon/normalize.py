"""Pure functions: Mastodon REST payloads (``GET /api/v1/notifications?types[]=mention``, status context) → Mention.

No SDK import, no network. Mastodon.py hands back dict subclasses whose times are already ``datetime``
objects; the functions accept those or the plain JSON (ISO strings), and :func:`plain` turns either into
JSON-safe data for ``raw``.

Shapes (docs.joinmastodon.org/entities): a Notification is ``{id, type, created_at, account, status}``; a Status
is ``{id, uri, url, created_at, content (HTML), account{id, username, acct, display_name, followers_count, url},
in_reply_to_id, in_reply_to_account_id, language, visibility, spoiler_text, media_attachments[], edited_at}``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from connectors.base import OwnPost, Rejected
from connectors.normalize import MalformedItem
from connectors.normalize import parse_time as iso_time
from connectors.normalize import rejected as reject
from core.models import Author, Mention, Platform

_REQUIRED = ("id", "created_at", "account")
# Notifications read: mentions and, from Mastodon 4.5, quotes of the city's posts (an older instance ignores the
# type it does not know). A quote is a mention like a reply, linked to what it quotes (``quote_of``).
NOTIFICATION_TYPES = ("mention", "quote")


class _Text(HTMLParser):
    """Mastodon ``content`` HTML → plain text (paragraphs and ``<br>`` become line breaks).

    With ``links``, a plain link is its whole ``href`` (its text may be cut: ``<span class="ellipsis">``); with
    ``handles`` (profile URL → ``acct``, from the status's ``mentions[]``), a mention is the full ``@user@domain``
    (the HTML shows ``@user`` only). The ``RE: <link>`` paragraph of a quote post (``class="quote-inline"``) is left
    out: the quoted post is linked, not pasted.
    """

    def __init__(self, *, links: bool = False, handles: Mapping[str, str] | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._links, self._in_link = links, False
        self._handles = handles or {}
        self._quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if self._quote:
            self._quote += tag not in ("br",)
            return
        if tag == "p" and "quote-inline" in classes:
            self._quote = 1
            return
        if tag == "a" and (self._links or self._handles):
            href = found.get("href")
            acct = self._handles.get(href or "")
            if href and "mention" in classes and acct:
                self.parts.append(f"@{acct}")
                self._in_link = True
            elif (href and href.startswith(("http://", "https://")) and self._links and "mention" not in classes
                  and "hashtag" not in classes):
                self.parts.append(href)
                self._in_link = True
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")
        elif tag == "span" and ("class", "invisible") in attrs:
            self._hidden += 1  # link prefixes/suffixes Mastodon hides ("https://", the rest of a long URL)
        elif tag == "span" and self._hidden:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if self._quote:
            self._quote -= 1
            return
        if tag == "span" and self._hidden:
            self._hidden -= 1
        elif tag == "a":
            self._in_link = False

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._in_link and not self._quote:
            self.parts.append(data)


def html_to_text(content: Any, *, links: bool = False, handles: Mapping[str, str] | None = None) -> str:
    """Plain text of a status's HTML ``content``; with ``links``, each plain link is its whole ``href``; with
    ``handles`` (profile URL → acct), each mention its full handle."""
    if not isinstance(content, str):
        raise MalformedItem("content is not text")
    parser = _Text(links=links, handles=handles)
    parser.feed(content)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", html.unescape("".join(parser.parts))).strip()


def parse_time(value: Any) -> datetime:
    """An aware UTC datetime from Mastodon's ``2026-01-05T08:12:00.000Z`` (or an already parsed datetime)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return iso_time(value, "created_at")


def plain(value: Any) -> Any:
    """JSON-safe copy: datetimes as ISO strings, dict subclasses as dicts, tuples as lists."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _author(account: Any) -> Author:
    if not isinstance(account, Mapping) or not account.get("id"):
        raise MalformedItem("status without account id")
    followers = account.get("followers_count")
    return Author(platform_id=str(account["id"]), handle=str(account.get("acct") or account.get("username") or ""),
                  display_name=str(account.get("display_name") or ""),
                  followers=followers if isinstance(followers, int) else None)


def _media(status: Mapping[str, Any]) -> tuple[str, ...]:
    urls = []
    for item in status.get("media_attachments") or ():
        if isinstance(item, Mapping):
            url = item.get("url") or item.get("preview_url")
            if isinstance(url, str) and url:
                urls.append(url)
    return tuple(urls)


def handles(status: Mapping[str, Any]) -> dict[str, str]:
    """Profile URL → full handle ``user@domain`` of the accounts a status mentions (``mentions[]``; an account of
    the city's own instance has no domain in ``acct``: the profile URL's host is added)."""
    out = {}
    for item in status.get("mentions") or ():
        if isinstance(item, Mapping) and isinstance(item.get("url"), str) and item.get("acct"):
            acct, host = str(item["acct"]), urlsplit(item["url"]).hostname
            out[item["url"]] = acct if "@" in acct or not host else f"{acct}@{host}"
    return out


def status_text(status: Mapping[str, Any]) -> str:
    """Plain text of a status or of one version of it: the content warning (if any) then the content, links whole
    (their ``href``, not the cut display) and mentions as full handles."""
    text = html_to_text(status.get("content", ""), links=True, handles=handles(status))
    warning = status.get("spoiler_text")
    return f"[CW: {warning}] {text}" if isinstance(warning, str) and warning else text


def edit_steps(history: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """``(text before, text after, version)`` for each edit of a status history (oldest version first).

    Every edit is kept, also one that changed only the images or the sensitive flag (same text before and after):
    the version's JSON says what changed. Versions that cannot be read are left out.
    """
    if not isinstance(history, list):
        raise MalformedItem("history answer is not a list")
    versions: list[tuple[str, dict[str, Any]]] = []
    for version in history:
        try:
            if isinstance(version, Mapping):
                versions.append((status_text(version), plain(version)))
        except MalformedItem:
            continue
    return [(before[0], after[0], after[1]) for before, after in zip(versions, versions[1:], strict=False)]


def quoted_id(status: Mapping[str, Any]) -> str | None:
    """The id of the status a Mastodon 4.5 quote post quotes (``quote.quoted_status.id``, or the shallow
    ``quote.quoted_status_id``); None when not a quote or the quote is not accepted."""
    quote = status.get("quote")
    if not isinstance(quote, Mapping) or quote.get("state", "accepted") != "accepted":
        return None
    inner = quote.get("quoted_status")
    ident = inner.get("id") if isinstance(inner, Mapping) else quote.get("quoted_status_id")
    return str(ident) if ident else None


def status_to_mention(status: Any, *, account: str = "", kind: str | None = None) -> Mention:
    """Normalise one status; raises :class:`MalformedItem` when a required field is missing or unreadable."""
    if not isinstance(status, Mapping):
        raise MalformedItem(f"status is a {type(status).__name__}, not an object")
    missing = [name for name in _REQUIRED if not status.get(name)]
    if missing:
        raise MalformedItem(f"status {status.get('id', '?')}: missing {', '.join(missing)}")
    text = status_text(status)
    reply_to = status.get("in_reply_to_id")
    lang = status.get("language")
    return Mention(
        platform=Platform.MASTODON, platform_id=str(status["id"]), text=text, author=_author(status["account"]),
        created_at=parse_time(status["created_at"]), account=account,
        conversation_id=str(reply_to) if reply_to else str(status["id"]),
        in_reply_to=str(reply_to) if reply_to else None, lang=lang if isinstance(lang, str) and lang else None,
        permalink=str(status.get("url") or status.get("uri") or "") or None, media=_media(status),
        kind=kind or ("reply" if reply_to else "mention"), raw=plain(status), quote_of=quoted_id(status))


def status_to_own_post(status: Any) -> OwnPost:
    """One of the city's own statuses as the root of the residents' replies under it (decisions 0212, 0285): its
    plain text, date and link; raises :class:`MalformedItem` when it has no id or no readable date."""
    if not isinstance(status, Mapping) or not status.get("id"):
        raise MalformedItem("status without id")
    link = status.get("url") or status.get("uri")
    return OwnPost(platform_id=str(status["id"]), text=status_text(status), published_at=parse_time(
        status.get("created_at")), permalink=link if isinstance(link, str) and link.startswith("https://") else "")


def mentions_from_notifications(page: Any, *, account: str = "", ignored: dict[str, int] | None = None,
                                rejected: list[Rejected] | None = None) -> tuple[list[Mention], list[str]]:
    """Normalise the statuses of a page of ``mention`` notifications; returns ``(mentions, skipped reasons)``.

    Nothing to read is not malformed: a notification of another type (follow, favourite…) counts as
    ``not_mention``, a mention whose ``status`` is null (deleted since, or not visible to the account: 39 of 40 in
    a real mastodon.social page) as ``status_gone``, in ``ignored`` when given. A malformed status with an id is
    added to ``rejected`` when given (listed on Connexions, decision 0132).
    """
    if not isinstance(page, list):
        raise MalformedItem("notifications answer is not a list")
    mentions: list[Mention] = []
    skipped: list[str] = []
    counts = ignored if ignored is not None else {}
    for item in page:
        try:
            if not isinstance(item, Mapping):
                raise MalformedItem(f"notification is a {type(item).__name__}, not an object")
            if item.get("type") not in NOTIFICATION_TYPES or item.get("status") is None:
                key = "not_mention" if item.get("type") not in NOTIFICATION_TYPES else "status_gone"
                counts[key] = counts.get(key, 0) + 1
                continue
            mentions.append(status_to_mention(item.get("status"), account=account,
                                              kind="mention" if item.get("type") == "quote" else None))
        except MalformedItem as err:
            ident = item.get("id", "?") if isinstance(item, Mapping) else "?"
            skipped.append(f"mastodon notification {ident}: {err}")
            status = item.get("status") if isinstance(item, Mapping) else None
            entry = reject(status.get("id"), err, status.get("url") or status.get("uri")) \
                if isinstance(status, Mapping) else None
            if rejected is not None and entry is not None:
                rejected.append(entry)
    return mentions, skipped


def thread_from_context(context: Any, *, account: str = "") -> tuple[list[Mention], list[str]]:
    """Ancestors then descendants of a status (``GET /api/v1/statuses/:id/context``), oldest first."""
    if not isinstance(context, Mapping):
        raise MalformedItem("context answer is not an object")
    found: list[Mention] = []
    skipped: list[str] = []
    for status in [*(context.get("ancestors") or ()), *(context.get("descendants") or ())]:
        try:
            found.append(status_to_mention(status, account=account))
        except MalformedItem as err:
            skipped.append(f"mastodon context: {err}")
    return sorted(found, key=lambda m: m.created_at), skipped
