"""Audit events of the audit trail, legal archive, retention and RGPD (issue #7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from core.audit.base import AuditEvent


@dataclass(frozen=True, kw_only=True)
class MessageArchived(AuditEvent):
    """A published reply or post was stored in the legal archive; ``record_sha256`` seals the archived record."""

    name: ClassVar[str] = "message-archived"
    archive_id: int
    kind: str
    platform: str
    platform_id: str
    record_sha256: str
    payload_sha256: str


@dataclass(frozen=True, kw_only=True)
class ArchivedMessageChanged(AuditEvent):
    """The platform shows an archived message edited, deleted, hidden or unhidden (appended to its history)."""

    name: ClassVar[str] = "archived-message-changed"
    archive_id: int
    change_id: int
    change: str
    record_sha256: str


@dataclass(frozen=True, kw_only=True)
class LegalHoldSet(AuditEvent):
    """A legal hold was put on a conversation or an author: excluded from retention purges until lifted."""

    name: ClassVar[str] = "legal-hold-set"
    hold_id: int
    scope: str
    platform: str
    key: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class LegalHoldLifted(AuditEvent):
    """A legal hold was lifted; the data it protected is purged again by the next retention run."""

    name: ClassVar[str] = "legal-hold-lifted"
    hold_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class RetentionPurged(AuditEvent):
    """The retention job removed expired working data (counts per data class; held items skipped)."""

    name: ClassVar[str] = "retention-purged"
    run_id: int
    counts: dict[str, int]
    held: dict[str, int]
    cutoffs: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class ExportCreated(AuditEvent):
    """Data left Parvis as files: an audit or archive export, or an archival transfer package."""

    name: ClassVar[str] = "export-created"
    kind: str
    selection: dict[str, Any]
    files: dict[str, str]
    manifest_sha256: str
    items: int


@dataclass(frozen=True, kw_only=True)
class AuditHeadExported(AuditEvent):
    """The chain head (id and hash) was printed for countersigning outside Parvis."""

    name: ClassVar[str] = "audit-head-exported"
    head_id: int
    head_hash: str


@dataclass(frozen=True, kw_only=True)
class RgpdAccess(AuditEvent):
    """A resident's access request (RGPD art. 15) was answered with an export of their data."""

    name: ClassVar[str] = "rgpd-access"
    request_id: int
    query: str
    authors: tuple[str, ...]
    file_sha256: str
    items: int


@dataclass(frozen=True, kw_only=True)
class RgpdErasure(AuditEvent):
    """A resident's erasure request (RGPD art. 17): what was erased, what was kept and why."""

    name: ClassVar[str] = "rgpd-erasure"
    request_id: int
    query: str
    authors: tuple[str, ...]
    erased: dict[str, int]
    kept: str
    held: int
