"""Audit events of the shared inbox: sync, import, platform changes, assignment, status, tags, notes, replies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.audit.base import AuditEvent


@dataclass(frozen=True, kw_only=True)
class SyncCompleted(AuditEvent):
    """A connector sync pass finished (counts only; mentions themselves are in the record)."""

    name: ClassVar[str] = "sync-completed"
    connector: str
    fetched: int
    inserted: int
    updated: int
    revised: int = 0
    skipped: int = 0
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class SyncRequested(AuditEvent):
    """An agent asked for an immediate sync of a connector ("synchroniser maintenant")."""

    name: ClassVar[str] = "sync-requested"
    connector: str


@dataclass(frozen=True, kw_only=True)
class ConnectorRetried(AuditEvent):
    """An admin lifted the « reconnexion nécessaire » block of a connector (« Réessayer »)."""

    name: ClassVar[str] = "connector-retried"
    connector: str


@dataclass(frozen=True, kw_only=True)
class TokenRefreshed(AuditEvent):
    """The worker refreshed a connector's long-lived token (never the token itself: its new expiry only)."""

    name: ClassVar[str] = "token-refreshed"
    connector: str
    expires_at: str = ""


@dataclass(frozen=True, kw_only=True)
class ImportStarted(AuditEvent):
    """An import longer than one batch started (committed with its first batch); ``mentions-imported`` ends it."""

    name: ClassVar[str] = "import-started"
    file: str
    sha256: str


@dataclass(frozen=True, kw_only=True)
class MentionsImported(AuditEvent):
    """Mentions loaded from a JSONL/CSV export with ``python -m console import`` (the import finished).

    Committed with the last batch; ``started_id`` is the ``import-started`` event of a longer import.
    """

    name: ClassVar[str] = "mentions-imported"
    file: str
    sha256: str
    inserted: int
    updated: int
    rejected_lines: tuple[int, ...] = ()
    started_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class MentionRevised(AuditEvent):
    """The platform shows a mention edited, deleted or hidden since we first saw it (texts kept apart)."""

    name: ClassVar[str] = "mention-revised"
    erasable: ClassVar[tuple[str, ...]] = ("old_text", "new_text")
    text_kind: ClassVar[str] = "message"
    change: str
    old_text: str | None = None
    new_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class CityPostRevised(AuditEvent):
    """The platform shows a city post read as a thread root edited (one per edit-history step) or deleted since
    Parvis recorded it (decision 0305). The city's own public text: kept in the chain, not erasable."""

    name: ClassVar[str] = "city-post-revised"
    change: str
    old_text: str | None = None
    new_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class MentionAssigned(AuditEvent):
    """A mention was assigned (or unassigned: ``after`` is None)."""

    name: ClassVar[str] = "mention-assigned"
    before: int | None
    after: int | None


@dataclass(frozen=True, kw_only=True)
class StatusChanged(AuditEvent):
    """A mention's inbox status changed."""

    name: ClassVar[str] = "status-changed"
    before: str
    after: str


@dataclass(frozen=True, kw_only=True)
class TagAdded(AuditEvent):
    """A tag was put on a mention."""

    name: ClassVar[str] = "tag-added"
    tag: str


@dataclass(frozen=True, kw_only=True)
class TagRemoved(AuditEvent):
    """A tag was taken off a mention."""

    name: ClassVar[str] = "tag-removed"
    tag: str


@dataclass(frozen=True, kw_only=True)
class NoteAdded(AuditEvent):
    """An internal note was written on a mention (its text kept apart, erased with the note)."""

    name: ClassVar[str] = "note-added"
    erasable: ClassVar[tuple[str, ...]] = ("text",)
    text_kind: ClassVar[str] = "note"
    note_id: int
    text: str

    def text_owner(self) -> str:
        """The note: its text goes when the note is deleted (retention, RGPD erasure)."""
        return f"note:{self.note_id}"


@dataclass(frozen=True, kw_only=True)
class ReplyDrafted(AuditEvent):
    """A reply draft was created or edited."""

    name: ClassVar[str] = "reply-drafted"
    private_erasable: ClassVar[tuple[str, ...]] = ("body",)
    draft_id: int
    body: str


@dataclass(frozen=True, kw_only=True)
class ReplySent(AuditEvent):
    """A reply went out: the exact text sent, the platform id and permalink."""

    name: ClassVar[str] = "reply-sent"
    private_erasable: ClassVar[tuple[str, ...]] = ("text",)
    draft_id: int
    text: str
    platform: str
    platform_id: str
    permalink: str | None = None
    via: str = "api"  # api | lookup (found on the platform after an interruption) | person | api-after-takeover


@dataclass(frozen=True, kw_only=True)
class ReplyFailed(AuditEvent):
    """Sending a reply failed; nothing was published."""

    name: ClassVar[str] = "reply-failed"
    draft_id: int
    error_code: str
    error: str


@dataclass(frozen=True, kw_only=True)
class AgentCreated(AuditEvent):
    """An agent account was created."""

    name: ClassVar[str] = "agent-created"
    email: str
    agent_role: str
