"""Private conversations of the Facebook Page (Messenger) and of its Instagram account (Instagram Direct), through
Meta's Conversations API and Send API (issue #20), with the Page token of the Facebook connector.

Reading: ``GET /{page-id}/conversations?platform=messenger|instagram&fields=participants,updated_time,
messages{id,message,from,created_time}``: a list (newest ``updated_time`` first, cursor paging) of ``{"id":
"t_…", "updated_time", "participants": {"data": [{"id", "name"|"username"}]}, "messages": {"data": [{"id": "m_…",
"message", "from": {"id", "name"|"username"}, "created_time"}], "paging"}}``. A pass reads conversations updated
since the cursor (an ``updated_time``; time-based paging is not available on this edge, so the walk stops at the
first older conversation), and keeps the residents' messages (the Page's own are the city's, already archived).

Answering: ``POST /{page-id}/messages`` with ``recipient={"id": <PSID or IGSID>}``, ``message={"text"}`` and
``messaging_type=RESPONSE`` within 24 hours of the resident's last message, or ``messaging_type=MESSAGE_TAG`` +
``tag=HUMAN_AGENT`` up to 7 days where the Page has that permission. Parvis checks that window before calling
(services/inbox/private.py); Meta's own refusal (error 10, subcode 2018278, « This message is sent outside of
allowed window ») is mapped to the same reason, ``private_window_closed``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from connectors.base import Capability, ConnectorInfo, FetchResult, Health, Rejected
from connectors.graph.client import DEFAULT_VERSION, GraphClient
from connectors.graph.normalize import MalformedItem, next_after, page_items, parse_time
from connectors.normalize import rejected as reject
from connectors.paging import Walk
from core.clock import Clock, utcnow
from core.config import Settings
from core.errors import ConnectorError, MalformedPayload, PermanentFailure, RateLimited
from core.models import PRIVATE_KIND, Author, Mention, Platform, Published
from core.settings_schema import FacebookSettings, GraphSettings

FIELDS = "participants,updated_time,messages{id,message,from,created_time}"
WINDOW_CODE, WINDOW_SUBCODE = 10, 2018278
WINDOW_REASON = "private_window_closed"
PERMISSION_HINTS = {
    "GET /{page}/conversations": "the Page token needs pages_messaging (Messenger) or instagram_manage_messages "
                                 "(Instagram Direct), with Advanced Access after Meta's app review",
    "POST /{page}/messages": "the Page token needs pages_messaging (Messenger) or instagram_manage_messages",
}
SETTINGS_KEYS = FacebookSettings.all_keys() + GraphSettings.all_keys()


def message_to_mention(message: Mapping[str, Any], conversation: Mapping[str, Any], *, page_id: str,
                       platform: Platform) -> Mention | None:
    """One message of a conversation as a private Mention; None for the Page's own messages."""
    sender = message.get("from")
    if not isinstance(sender, Mapping) or not sender.get("id") or not message.get("id"):
        raise MalformedItem(f"conversation message without id or sender: {str(message.get('id'))[:40]}")
    if str(sender["id"]) == page_id:
        return None
    name = str(sender.get("name") or sender.get("username") or sender["id"])
    return Mention(
        platform=platform, platform_id=str(message["id"]), text=str(message.get("message") or ""),
        kind=PRIVATE_KIND, account=page_id, conversation_id=str(conversation.get("id") or ""),
        author=Author(platform_id=str(sender["id"]), handle=str(sender.get("username") or name), display_name=name),
        created_at=parse_time(message.get("created_time")),
        raw={"message": dict(message), "conversation_id": conversation.get("id"),
             "channel": "instagram" if platform is Platform.INSTAGRAM else "messenger"})


def conversation_mentions(conversation: Mapping[str, Any], *, page_id: str, platform: Platform,
                          since: datetime | None, rejected: list[Rejected] | None = None
                          ) -> tuple[list[Mention], list[str]]:
    """The residents' messages of one conversation newer than ``since``, and the malformed ones skipped (added
    to ``rejected`` when they have an id and it is given: listed on Connexions without their text)."""
    box = conversation.get("messages")
    mentions, skipped = [], []
    for message in page_items(box, "messages") if isinstance(box, Mapping) else []:
        try:
            mention = message_to_mention(message, conversation, page_id=page_id, platform=platform)
        except (MalformedItem, ValueError) as err:
            skipped.append(str(err))
            entry = reject(message.get("id"), err) if isinstance(message, Mapping) else None
            if rejected is not None and entry is not None:
                rejected.append(entry)
            continue
        if mention is not None and (since is None or mention.created_at > since):
            mentions.append(mention)
    return mentions, skipped


def window_error(err: ConnectorError) -> ConnectorError:
    """Meta's refusal outside the answer window (error 10 / subcode 2018278) as ``private_window_closed``."""
    text = str(err)
    if isinstance(err, PermanentFailure) and f"(#{WINDOW_CODE})" in text and "window" in text.lower():
        return PermanentFailure(text, reason="private_window_closed")
    return err


def _graph_of(connector: Any) -> tuple[GraphClient, str]:
    graph = getattr(connector, "graph", None) or getattr(connector, "_graph", None)
    if not isinstance(graph, GraphClient):
        raise ConnectorError(f"{connector!r} has no Graph client for the Send API")
    return graph, str(connector.page_id)


def send_message(connector: Any, mention: Mention, text: str, *, tag: str | None) -> Published:
    """``POST /{page-id}/messages`` to the mention's author: ``RESPONSE``, or ``MESSAGE_TAG`` + ``tag``."""
    graph, page_id = _graph_of(connector)
    data: dict[str, Any] = {"recipient": json.dumps({"id": mention.author.platform_id}),
                            "message": json.dumps({"text": text}, ensure_ascii=False),
                            "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE"}
    if tag:
        data["tag"] = tag
    try:
        answer = graph.post("POST /{page}/messages", page_id, "messages", data)
    except ConnectorError as err:
        raise window_error(err) from err
    message_id = answer.get("message_id")
    if not message_id:
        raise MalformedPayload("POST /{page}/messages: no message_id in the answer")
    return Published(platform_id=str(message_id))


class ConversationsConnector:
    """Messenger (``platform=messenger``) or Instagram Direct (``platform=instagram``) conversations of the Page:
    private messages in, private answers out (Send API)."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        platform=Platform.FACEBOOK, name="Facebook Messenger (messages privés)",
        capabilities=frozenset({Capability.REPLY}), settings_keys=SETTINGS_KEYS)

    def __init__(self, *, page_id: str, page_token: str, channel: str = "messenger", version: str = DEFAULT_VERSION,
                 base_url: str | None = None, name: str = "", human_agent: bool = False, limit: int = 25,
                 max_pages: int = 10, retries: int = 2, backoff: float = 1.0, timeout: float = 20.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Clock = utcnow) -> None:
        if channel not in ("messenger", "instagram"):
            raise ValueError(f"unknown channel {channel!r}")
        self.channel = channel
        self.platform = Platform.INSTAGRAM if channel == "instagram" else Platform.FACEBOOK
        self.name = name or ("instagram_direct" if channel == "instagram" else "facebook_messages")
        self.page_id, self.human_agent = str(page_id), human_agent
        self.limit, self.max_pages = limit, max(1, max_pages)
        self.graph = GraphClient(owner_id=self.page_id, token=page_token, version=version, base_url=base_url,
                                 hints=PERMISSION_HINTS, retries=retries, backoff=backoff, timeout=timeout,
                                 sleep=sleep, clock=clock)

    def __repr__(self) -> str:
        return f"ConversationsConnector(name={self.name!r}, page_id={self.page_id!r}, channel={self.channel!r})"

    def fetch(self, cursor: str | None) -> FetchResult:
        """Residents' messages of the conversations updated since ``cursor`` (an ``updated_time``)."""
        since = parse_time(cursor) if cursor else None
        params = {"platform": self.channel, "fields": FIELDS, "limit": self.limit}
        walk = Walk(lambda after: self.graph.get(self.page_id, "conversations",
                                                 {**params, **({"after": after} if after else {})}),
                    next_after, max_pages=self.max_pages)
        mentions: list[Mention] = []
        skipped: list[str] = []
        rejected: list[Rejected] = []
        newest = since
        for page in walk:
            older = False
            for conversation in page_items(page, "conversations"):
                try:
                    updated = parse_time(conversation.get("updated_time"))
                except (MalformedItem, ValueError) as err:
                    skipped.append(str(err))
                    continue
                if since is not None and updated <= since:
                    older = True
                    break
                newest = max(filter(None, (newest, updated)))
                found, bad = conversation_mentions(conversation, page_id=self.page_id, platform=self.platform,
                                                   since=since, rejected=rejected)
                mentions += found
                skipped += bad
            if older:
                break
        next_cursor = newest.strftime("%Y-%m-%dT%H:%M:%S+0000") if newest else cursor
        return FetchResult(mentions=mentions, cursor=next_cursor, skipped=skipped, rejected=rejected)

    def reply(self, mention: Mention, text: str) -> Published:
        """A private answer (standard, within 24 h); the reply path passes the tag through ``send_private``."""
        return send_message(self, mention, text, tag=None)

    def send_private(self, mention: Mention, text: str, *, tag: str | None) -> Published:
        """The Send API answer to ``mention``'s author (``tag``: ``HUMAN_AGENT`` between 24 h and 7 days)."""
        return send_message(self, mention, text, tag=tag)

    def find_private_reply(self, mention: Mention, text: str, since: datetime | None) -> Published | None:
        """The Page's message with exactly ``text`` in the mention's conversation since ``since`` (after an
        uncertain send); None when it is certainly absent from the newest messages."""
        if not mention.conversation_id or not mention.conversation_id.startswith("t_"):
            return None
        answer = self.graph.get(mention.conversation_id, "messages", {"fields": "id,message,from,created_time"})
        for message in page_items(answer, "messages"):
            sender = message.get("from") or {}
            mine = str(sender.get("id")) == self.page_id and message.get("message") == text
            if mine and (since is None or parse_time(message.get("created_time")) >= since):
                return Published(platform_id=str(message.get("id")))
        return None

    def publish(self, text: str, *, scheduled_at: datetime | None = None,
                media: Any = ()) -> Published:  # pragma: no cover - not offered (no PUBLISH capability)
        """Not offered: the private channel does not publish."""
        raise PermanentFailure("private conversations do not publish posts")

    def hide(self, mention: Mention) -> None:  # pragma: no cover - not offered
        """Not offered."""
        raise PermanentFailure("private messages cannot be hidden")

    def unhide(self, mention: Mention) -> None:  # pragma: no cover - not offered
        """Not offered."""
        raise PermanentFailure("private messages cannot be hidden")

    def delete(self, platform_id: str) -> None:  # pragma: no cover - not offered
        """Not offered."""
        raise PermanentFailure("private messages cannot be deleted from Parvis")

    def health(self) -> Health:
        """One page of conversations with the token; never raises."""
        try:
            self.graph.get(self.page_id, "conversations", {"platform": self.channel, "fields": "id", "limit": 1})
        except RateLimited:
            return Health(ok=True, account=self.page_id, detail="rate limited",
                          rate_limited_until=self.graph.rate_limited_until())
        except ConnectorError as err:
            return Health(ok=False, account=self.page_id, detail=f"{err.code}: {err}")
        window = "Human Agent (7 jours)" if self.human_agent else "fenêtre de 24 h"
        return Health(ok=True, account=self.page_id, detail=f"{self.channel}; {window}")


class InstagramDirectConnector(ConversationsConnector):
    """Instagram Direct conversations of the Page's Instagram account (``platform=instagram``)."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        platform=Platform.INSTAGRAM, name="Instagram Direct (messages privés)",
        capabilities=frozenset({Capability.REPLY}), settings_keys=SETTINGS_KEYS)


def from_settings(source: Settings | Callable[[str], Any], *, channel: str = "messenger") -> ConversationsConnector:
    """Build from settings: the Facebook Page's id and token (``PARVIS_FB_*``) and ``PARVIS_FB_HUMAN_AGENT``."""
    settings = Settings.coerce(source)
    fb, graph = settings.fb, settings.graph
    cls = InstagramDirectConnector if channel == "instagram" else ConversationsConnector
    return cls(page_id=str(fb.page_id), page_token=str(fb.page_token), channel=channel, version=graph.api_version,
               base_url=graph.api_base, human_agent=fb.human_agent, **settings.transport.connector_kwargs())
