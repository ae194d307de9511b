"""Private conversations in the shared inbox (issue #20, docs/decisions/0140-private-messages.md).

A private message is a mention of kind ``private`` (:data:`core.models.PRIVATE_KIND`) whose ``conversation_id``
is the platform's conversation: a Messenger or Instagram Direct thread, a Mastodon ``direct`` conversation, a
Bluesky chat convo. What is specific to them lives here:

- Meta's answer window (:func:`answer_window`): a standard answer (``messaging_type=RESPONSE``) within 24 hours
  of the resident's last message; after that, only with ``messaging_type=MESSAGE_TAG`` + ``tag=HUMAN_AGENT`` up
  to 7 days, where the Page has that permission (``PARVIS_FB_HUMAN_AGENT``); never after. Parvis refuses before
  any call (:func:`require_window_open`, called by the reply claim), with the same French reason Meta's error 10
  / subcode 2018278 is mapped to. Mastodon and Bluesky have no window.
- the call (:func:`send_private`): a private answer goes through the platform's private channel (the Send API,
  a ``direct`` status addressed only to the participants, a chat message), never a public reply.
- the ``messages`` webhook of Meta (:func:`ingest_messenger_webhook_change`): parse and store.
- the shorter retention of private texts (:func:`purge_private_texts`, ``PARVIS_RETENTION_PRIVATE_DAYS``) and
  their RGPD erasure (:func:`erase_private_of`); the audit chain keeps verifying (texts beside it, decision 0035).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.config import Settings
from core.db import flush_erased, write_transaction
from core.errors import MalformedPayload, Unsupported, ValidationError
from core.models import PRIVATE_KIND, Author, Mention, Platform, Published
from core.repo import private as private_repo

log = logging.getLogger("parvis.private")

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
HUMAN_AGENT = "HUMAN_AGENT"
WINDOW_CHANNELS = frozenset({"messenger", "instagram"})  # Meta's Messenger Platform rules
CLOSED_24H = "private_window_closed"  # past 24 h, no Human Agent permission
CLOSED_7D = "private_window_expired"  # past 7 days: nothing can be sent


def channel_of(mention: Mention) -> str:
    """``messenger``, ``instagram``, ``mastodon``, ``bluesky_chat`` (the demo city says which it imitates)."""
    if mention.platform is Platform.FACEBOOK:
        return "messenger"
    if mention.platform is Platform.INSTAGRAM:
        return "instagram"
    if mention.platform is Platform.BLUESKY:
        return "bluesky_chat"
    if mention.platform is Platform.MASTODON:
        return "mastodon"
    return str(mention.raw.get("channel") or "demo")


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerWindow:
    """Whether a private answer may go out now, and how (the composer shows :meth:`left`).

    ``mode``: ``open`` (no window on this channel), ``standard`` (within 24 h), ``human_agent`` (24 h to 7 days,
    tagged), ``closed``. ``until``: the end of the current mode; ``reason``: why it is closed.
    """

    mode: str
    last_message_at: datetime | None = None
    until: datetime | None = None
    reason: str = ""

    @property
    def tag(self) -> str | None:
        """The Send API tag this answer needs (``HUMAN_AGENT``), or None for a standard answer."""
        return HUMAN_AGENT if self.mode == "human_agent" else None

    @property
    def is_open(self) -> bool:
        """Whether an answer may go out now."""
        return self.mode != "closed"

    def left(self, now: datetime) -> timedelta | None:
        """Time left in the current mode (None when the channel has no window)."""
        if self.until is None:
            return None
        return max(timedelta(0), self.until - now)


def answer_window(channel: str, last_message_at: datetime | None, now: datetime, *,
                  human_agent: bool) -> AnswerWindow:
    """Meta's rule for ``channel`` given the resident's last message (pure)."""
    if channel not in WINDOW_CHANNELS or last_message_at is None:
        return AnswerWindow(mode="open", last_message_at=last_message_at)
    standard_end = last_message_at + STANDARD_WINDOW
    agent_end = last_message_at + HUMAN_AGENT_WINDOW
    if now < standard_end:
        return AnswerWindow(mode="standard", last_message_at=last_message_at, until=standard_end)
    if now < agent_end and human_agent:
        return AnswerWindow(mode="human_agent", last_message_at=last_message_at, until=agent_end)
    return AnswerWindow(mode="closed", last_message_at=last_message_at, until=None,
                        reason=CLOSED_7D if now >= agent_end else CLOSED_24H)


def window_for(db: Database, mention: Mention, now: datetime, *, human_agent: bool) -> AnswerWindow:
    """The answer window of ``mention``'s conversation now (from the resident's last stored message)."""
    if not mention.private:
        return AnswerWindow(mode="open")
    last = private_repo.last_message_at(db, str(mention.platform), mention.conversation_id or "") \
        if mention.conversation_id else None
    return answer_window(channel_of(mention), max(filter(None, (last, mention.created_at))), now,
                         human_agent=human_agent)


class WindowClosed(ValidationError):
    """Meta refuses any answer now (outside the 24-hour window, or past 7 days): refused before any call."""


def window_error(window: AnswerWindow) -> WindowClosed:
    """The refusal for a closed window (the same reason as Meta's error 10 / subcode 2018278 past 24 h)."""
    return WindowClosed(f"outside Meta's answer window ({window.reason})",
                        reason="private_window_expired" if window.reason == CLOSED_7D else "private_window_closed")


def human_agent_of(connector: Connector | None) -> bool:
    """Whether the connector's Page has the Human Agent permission (``PARVIS_FB_HUMAN_AGENT``)."""
    return bool(getattr(connector, "human_agent", False))


def human_agent_for(settings: Settings, mention: Mention) -> bool:
    """Whether the Page answering ``mention`` has the Human Agent permission (``PARVIS_FB_HUMAN_AGENT``; the demo
    city imitates a Page without it)."""
    return mention.platform in (Platform.FACEBOOK, Platform.INSTAGRAM) and settings.fb.human_agent


def require_window_open(db: Database, mention: Mention, draft_id: int, now: datetime, *, human_agent: bool,
                        actor: str, role: str = "") -> AnswerWindow:
    """The window of a private answer; WindowClosed (audited ``private-reply-refused``) when it is closed. Call
    inside the claim's write transaction (before any platform call)."""
    window = window_for(db, mention, now, human_agent=human_agent)
    if not window.is_open:
        audit.record(db, audit.PrivateReplyRefused(
            actor=actor, role=role, subject=mention.uid, draft_id=draft_id, reason=window.reason,
            last_message_at=window.last_message_at.isoformat() if window.last_message_at else ""), at=now)
        raise window_error(window)
    return window


# ---- the call ---------------------------------------------------------------------------------------

def send_private(connector: Connector, mention: Mention, text: str, *, tag: str | None) -> Published:
    """Answer a private message through the platform's private channel, never publicly.

    A connector may offer ``send_private(mention, text, tag=...)`` itself (the demo city); otherwise the
    platform's private-channel module does it with the connector's client.
    """
    own = getattr(connector, "send_private", None)
    if callable(own):
        result: Published = own(mention, text, tag=tag)
        return result
    if mention.platform in (Platform.FACEBOOK, Platform.INSTAGRAM):
        from connectors.facebook import conversations

        return conversations.send_message(connector, mention, text, tag=tag)
    if mention.platform is Platform.MASTODON:
        from connectors.mastodon import direct

        return direct.reply_direct(connector, mention, text)
    if mention.platform is Platform.BLUESKY:
        from connectors.bluesky import chat

        return chat.send_message(connector, mention, text)
    raise Unsupported(f"{mention.platform}: no private answer from Parvis", reason="private_unsupported",
                      platform=str(mention.platform))


# ---- Meta's messages webhook (the route is the real-time issue's: it calls this) -----------------------

def parse_messenger_event(event: Mapping[str, Any], *, page_id: str, platform: Platform = Platform.FACEBOOK
                          ) -> Mention | None:
    """One ``entry[].messaging[]`` event of Meta's ``messages`` webhook as a private Mention, or None when it is
    not a resident's text message (an echo of the Page's own message, a delivery or read receipt, a reaction).

    Shape: ``{"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": ms, "message": {"mid", "text",
    "is_echo"?, "attachments"?}}``. The conversation id is ``<page id>:<sender id>`` (the webhook does not carry the
    Conversations API's ``t_`` id; a synced thread keeps its own id and the window reads both through the sender).
    """
    message = event.get("message")
    sender = (event.get("sender") or {}).get("id")
    if not isinstance(message, Mapping) or message.get("is_echo") or not sender or str(sender) == str(page_id):
        return None
    mid, timestamp = message.get("mid"), event.get("timestamp")
    if not mid or not isinstance(timestamp, int | float):
        raise MalformedPayload("messages webhook: an event without message.mid or timestamp",
                               reason="messenger_webhook_malformed")
    text = str(message.get("text") or "")
    media = tuple(str(a.get("payload", {}).get("url", "")) for a in message.get("attachments") or ()
                  if isinstance(a, Mapping) and a.get("payload", {}).get("url"))
    return Mention(
        platform=platform, platform_id=str(mid), text=text, kind=PRIVATE_KIND, account=str(page_id),
        author=Author(platform_id=str(sender), handle=str(sender)),
        created_at=datetime.fromtimestamp(timestamp / 1000, UTC),
        conversation_id=f"{page_id}:{sender}", media=media,
        raw={"webhook": dict(event), "channel": "instagram" if platform is Platform.INSTAGRAM else "messenger"})


def ingest_messenger_webhook_change(settings: Settings, db: Database, payload: Mapping[str, Any], *,
                                   now: datetime) -> list[str]:
    """Store the resident messages of one Meta ``messages`` webhook delivery (the whole body, ``{"object":
    "page"|"instagram", "entry": [{"id", "time", "messaging": [...]}]}``, or a single ``messaging`` event);
    return the uids stored for the first time. Idempotent (a redelivered event is an upsert).

    A conversation already synced through the Conversations API keeps its ``t_`` id: a webhook message from the
    same sender joins it.
    """
    platform = Platform.INSTAGRAM if payload.get("object") == "instagram" else Platform.FACEBOOK
    page_id = str(settings.fb.page_id or "")
    if "entry" in payload:
        events = [(str(entry.get("id") or page_id), ev) for entry in payload.get("entry") or ()
                  if isinstance(entry, Mapping) for ev in entry.get("messaging") or () if isinstance(ev, Mapping)]
    else:
        events = [(page_id, payload)]
    mentions = []
    for owner, event in events:
        mention = parse_messenger_event(event, page_id=owner, platform=platform)
        if mention is None:
            continue
        known = _conversation_of_sender(db, mention)
        mentions.append(replace(mention, conversation_id=known) if known else mention)
    if not mentions:
        return []
    from services.connections.ingest import store_mentions

    with write_transaction(db):
        result = store_mentions(db, mentions, now=now)
        audit.record(db, audit.SyncCompleted(actor=audit.SYSTEM_WORKER, subject=f"connector:{platform}_webhook",
                                             connector=f"{platform}_webhook", fetched=len(mentions),
                                             inserted=len(result.inserted), updated=len(result.updated)), at=now)
    return list(result.inserted)


def _conversation_of_sender(db: Database, mention: Mention) -> str | None:
    items = repo.author_history(db, str(mention.platform), mention.author.platform_id, limit=1)
    return next((i.mention.conversation_id for i in items if i.private and i.mention.conversation_id), None)


# ---- retention and erasure --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class PrivateErasure:
    """What an erasure of private texts did."""

    messages: int
    audit_texts: int
    held: int
    cutoff: datetime | None = None


def purge_private_texts(db: Database, settings: Settings, *, now: datetime,
                        actor: str = audit.SYSTEM_WORKER) -> PrivateErasure:
    """Erase the texts of private messages older than ``PARVIS_RETENTION_PRIVATE_DAYS`` (0: never), except under
    a legal hold; audited ``private-texts-erased`` when anything was erased."""
    days = settings.retention.private_days
    if days < 0:
        raise ValidationError("retention days cannot be negative", reason="retention_negative", classes=["private"])
    if days == 0:
        return PrivateErasure(messages=0, audit_texts=0, held=0)
    cutoff = now - timedelta(days=days)
    with write_transaction(db):
        uids, held = private_repo.erasable_uids(db, cutoff=cutoff)
        messages, texts = private_repo.erase_texts(db, uids)
        if messages:
            audit.record(db, audit.PrivateTextsErased(actor=actor, role="system", subject="retention:private",
                                                      messages=messages, audit_texts=texts,
                                                      cutoff=cutoff.isoformat(), why="retention"), at=now)
    if messages:
        flush_erased(db)
        log.info("private retention: %d message(s) erased, %d held back", messages, held)
    return PrivateErasure(messages=messages, audit_texts=texts, held=held, cutoff=cutoff)


def erase_private_of(db: Database, authors: Sequence[tuple[str, str]], *, actor: str, role: str, request_id: int,
                     now: datetime) -> PrivateErasure:
    """The RGPD erasure of these authors' private messages (inside the request's write transaction)."""
    uids, held = private_repo.erasable_uids(db, authors=authors) if authors else ([], 0)
    messages, texts = private_repo.erase_texts(db, uids)
    if messages:
        audit.record(db, audit.PrivateTextsErased(actor=actor, role=role, subject=f"rgpd-request:{request_id}",
                                                  messages=messages, audit_texts=texts, why="rgpd"), at=now)
    return PrivateErasure(messages=messages, audit_texts=texts, held=held)
