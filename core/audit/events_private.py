"""Audit events of private conversations (issue #20): who read one, which answers Parvis refused before any
call (the platform's answer window), and the private texts expired under their shorter retention. No event copies
a private text into the chain (the replies' own events keep theirs beside it: ``private_erasable``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.audit.base import AuditEvent


@dataclass(frozen=True, kw_only=True)
class PrivateConversationRead(AuditEvent):
    """An agent opened a private conversation in the console (once per presence window)."""

    name: ClassVar[str] = "private-conversation-read"
    platform: str
    conversation_id: str


@dataclass(frozen=True, kw_only=True)
class PrivateReplyRefused(AuditEvent):
    """Parvis refused to send a private answer before any platform call (Meta's answer window closed)."""

    name: ClassVar[str] = "private-reply-refused"
    draft_id: int
    reason: str
    last_message_at: str = ""


@dataclass(frozen=True, kw_only=True)
class PrivateTextsErased(AuditEvent):
    """Private messages' texts (and the city's private texts kept beside the chain) were erased: retention of
    private content, or an RGPD erasure request."""

    name: ClassVar[str] = "private-texts-erased"
    messages: int
    audit_texts: int
    cutoff: str = ""
    why: str = "retention"  # retention | rgpd
