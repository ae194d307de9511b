"""Bluesky chat (direct messages) as private conversations (issue #20).

The chat service is reached through the PDS with the proxy header ``atproto-proxy: did:web:api.bsky.chat#bsky_chat``
(the atproto client's ``with_bsky_chat_proxy()``); the app password must allow direct messages (« Allow access to
your direct messages » when creating it). Calls: ``chat.bsky.convo.listConvos`` (``{"convos": [{"id", "rev",
"members": [{"did", "handle", "displayName"}], "lastMessage", "unreadCount"}], "cursor"}``),
``chat.bsky.convo.getMessages`` (``convoId``, ``cursor``: ``{"messages": [{"$type":
"chat.bsky.convo.defs#messageView", "id", "rev", "text", "sender": {"did"}, "sentAt"}], "cursor"}``, newest first),
``chat.bsky.convo.sendMessage`` (``{"convoId", "message": {"text"}}`` → the messageView). No answer window.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Capability, ConnectorInfo, FetchResult, Health, Rejected
from connectors.normalize import MalformedItem
from connectors.normalize import parse_time as iso_time
from connectors.normalize import rejected as reject
from core.config import Settings
from core.errors import ConnectorError, MalformedPayload
from core.models import PRIVATE_KIND, Author, Mention, Platform, Published
from core.settings_schema import BlueskySettings

LIST_CONVOS, GET_MESSAGES, SEND_MESSAGE = ("chat.bsky.convo.listConvos", "chat.bsky.convo.getMessages",
                                           "chat.bsky.convo.sendMessage")
PROXY_HEADER = "atproto-proxy"
PROXY_VALUE = "did:web:api.bsky.chat#bsky_chat"


def message_to_mention(message: Mapping[str, Any], convo: Mapping[str, Any], *, own_did: str) -> Mention | None:
    """One chat messageView as a private Mention; None for the city's own messages and deleted ones."""
    if message.get("$type", "").endswith("#deletedMessageView"):
        return None
    sender = str((message.get("sender") or {}).get("did") or "")
    if not message.get("id") or not sender:
        raise MalformedItem(f"chat message without id or sender: {str(message.get('id'))[:40]}")
    if sender == own_did:
        return None
    member = next((m for m in convo.get("members") or () if isinstance(m, Mapping) and m.get("did") == sender), {})
    handle = str(member.get("handle") or sender)
    return Mention(platform=Platform.BLUESKY, platform_id=f"chat:{message['id']}", text=str(message.get("text") or ""),
                   kind=PRIVATE_KIND, conversation_id=str(convo.get("id") or ""),
                   author=Author(platform_id=sender, handle=handle, display_name=str(member.get("displayName") or "")),
                   created_at=iso_time(message.get("sentAt"), "sentAt"),
                   raw={"message": dict(message), "convo_id": convo.get("id"), "channel": "bluesky_chat"})


def _chat_call(connector: Any, nsid: str, *, params: dict[str, Any] | None = None,
               data: dict[str, Any] | None = None) -> dict[str, Any]:
    """One chat call through the connector's client with the chat proxy header (errors translated)."""
    from connectors.bluesky.connector import DotDict  # the SDK's model wrapper, imported at the edge

    def call() -> Any:
        client = connector._client.with_bsky_chat_proxy()  # noqa: SLF001
        if data is not None:
            return client.invoke_procedure(nsid, content=json.dumps(data, ensure_ascii=False).encode("utf-8"),
                                           headers={"Content-Type": "application/json"})
        return client.invoke_query(nsid, params=DotDict({k: v for k, v in (params or {}).items() if v is not None}))

    result: dict[str, Any] = connector._call(nsid, call)  # noqa: SLF001
    return result


def send_message(connector: Any, mention: Mention, text: str) -> Published:
    """``chat.bsky.convo.sendMessage`` in the mention's convo."""
    convo = mention.conversation_id or str(mention.raw.get("convo_id") or "")
    if not convo:
        raise MalformedPayload("bluesky chat: the message has no convo id")
    answer = _chat_call(connector, SEND_MESSAGE, data={"convoId": convo, "message": {"text": text}})
    if not answer.get("id"):
        raise MalformedPayload(f"{SEND_MESSAGE}: no id in the answer")
    return Published(platform_id=f"chat:{answer['id']}")


class BlueskyChatConnector:
    """The account's Bluesky chat convos: private messages in, private answers out. Built on the Bluesky
    connector (same session, same app password, which must allow direct messages)."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        platform=Platform.BLUESKY, name="Bluesky (messages privés)", capabilities=frozenset({Capability.REPLY}),
        settings_keys=BlueskySettings.all_keys())

    def __init__(self, base: Any, *, name: str = "bluesky_chat", max_convos: int = 50, max_pages: int = 5) -> None:
        self.base, self.name = base, name
        self.max_convos, self.max_pages = max_convos, max(1, max_pages)

    def __repr__(self) -> str:
        return f"BlueskyChatConnector(name={self.name!r})"

    def _call(self, endpoint: str, fn: Callable[[], Any]) -> Any:
        return self.base._call(endpoint, fn)  # noqa: SLF001

    @property
    def _client(self) -> Any:
        return self.base._client  # noqa: SLF001

    def _own_did(self) -> str:
        session = getattr(self._client, "me", None)
        return str(getattr(session, "did", "") or "")

    def fetch(self, cursor: str | None) -> FetchResult:
        """Messages of the convos whose ``rev`` changed since the last pass, newer than the rev read then (cursor:
    ``{convo id: rev}`` JSON; revs are time-ordered ids)."""
        seen: dict[str, str] = json.loads(cursor) if cursor else {}
        mentions: list[Mention] = []
        skipped: list[str] = []
        rejected: list[Rejected] = []  # malformed messages with an id: listed without their text (decision 0132)
        convos: list[Mapping[str, Any]] = []
        page_cursor = None
        for _ in range(self.max_pages):
            page = _chat_call(self, LIST_CONVOS, params={"limit": self.max_convos, "cursor": page_cursor})
            convos += [c for c in page.get("convos") or () if isinstance(c, Mapping)]
            page_cursor = page.get("cursor")
            if not page_cursor:
                break
        own = self._own_did()
        for convo in convos:
            cid, rev = str(convo.get("id") or ""), str(convo.get("rev") or "")
            if not cid or seen.get(cid) == rev:
                continue
            msg_cursor = None
            for _ in range(self.max_pages):
                page = _chat_call(self, GET_MESSAGES, params={"convoId": cid, "cursor": msg_cursor, "limit": 50})
                fresh = 0
                for message in page.get("messages") or ():
                    if cid in seen and str(message.get("rev") or "") <= seen[cid]:
                        continue  # revs are time-ordered ids: already read in an earlier pass
                    try:
                        mention = message_to_mention(message, convo, own_did=own)
                    except (MalformedItem, ValueError) as err:
                        skipped.append(str(err))
                        if entry := reject(message.get("id") if isinstance(message, Mapping) else None, err):
                            rejected.append(entry)
                        continue
                    if mention is not None:
                        mentions.append(mention)
                        fresh += 1
                msg_cursor = page.get("cursor")
                if not msg_cursor or (cid in seen and not fresh):  # a known convo: stop at what was read
                    break
            seen[cid] = rev
        return FetchResult(mentions=mentions, cursor=json.dumps(seen, sort_keys=True), skipped=skipped,
                           rejected=rejected)

    def reply(self, mention: Mention, text: str) -> Published:
        """A private answer in the convo."""
        return send_message(self, mention, text)

    def send_private(self, mention: Mention, text: str, *, tag: str | None = None) -> Published:
        """A private answer in the convo (no window on Bluesky: ``tag`` is ignored)."""
        return send_message(self, mention, text)

    def find_private_reply(self, mention: Mention, text: str, since: datetime | None) -> Published | None:
        """Our message with exactly ``text`` among the convo's newest (after an uncertain send)."""
        page = _chat_call(self, GET_MESSAGES, params={"convoId": mention.conversation_id, "limit": 50})
        own = self._own_did()
        for message in page.get("messages") or ():
            if (message.get("sender") or {}).get("did") == own and message.get("text") == text:
                return Published(platform_id=f"chat:{message['id']}")
        return None

    def publish(self, text: str, *, scheduled_at: datetime | None = None, media: Any = ()) -> Published:
        """Not offered."""
        raise ConnectorError("the chat does not publish posts")

    def hide(self, mention: Mention) -> None:
        """Not offered."""
        raise ConnectorError("chat messages cannot be hidden")

    def unhide(self, mention: Mention) -> None:
        """Not offered."""
        raise ConnectorError("chat messages cannot be hidden")

    def delete(self, platform_id: str) -> None:
        """Not offered."""
        raise ConnectorError("chat messages cannot be deleted from Parvis")

    def health(self) -> Health:
        """List one convo; never raises (an app password without DM access answers an auth error)."""
        try:
            _chat_call(self, LIST_CONVOS, params={"limit": 1})
        except ConnectorError as err:
            return Health(ok=False, detail=f"{err.code}: {err} (le mot de passe d'application doit autoriser les "
                                           "messages privés)")
        return Health(ok=True, detail="chat.bsky.convo")


def from_settings(settings: Settings, *, data_dir: Path | None = None) -> BlueskyChatConnector:
    """The chat connector over a Bluesky connector built from the same settings (its own session file)."""
    from connectors.bluesky.connector import from_settings as base_from_settings

    return BlueskyChatConnector(base_from_settings(settings, data_dir=data_dir, name="bluesky_chat"))
