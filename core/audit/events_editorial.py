"""Audit events of the editorial workflow: review and sending of replies, charter, sign-in, roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from core.audit.base import AuditEvent


@dataclass(frozen=True, kw_only=True)
class ReplySubmitted(AuditEvent):
    """A reply was submitted for a director's approval, with the charter result and why approval is needed."""

    name: ClassVar[str] = "reply-submitted"
    private_erasable: ClassVar[tuple[str, ...]] = ("text",)
    draft_id: int
    text: str
    charter_version: int | None
    findings: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReplyApproved(AuditEvent):
    """A director approved a reply (the exact text approved; never the author)."""

    name: ClassVar[str] = "reply-approved"
    private_erasable: ClassVar[tuple[str, ...]] = ("text",)
    draft_id: int
    text: str
    author_id: int
    charter_version: int | None
    warnings: tuple[str, ...] = ()
    schedule_missed: bool = False


@dataclass(frozen=True, kw_only=True)
class ChangesRequested(AuditEvent):
    """A director sent a reply back to its author with a comment."""

    name: ClassVar[str] = "changes-requested"
    erasable: ClassVar[tuple[str, ...]] = ("comment",)
    draft_id: int
    comment: str


@dataclass(frozen=True, kw_only=True)
class ReplyEdited(AuditEvent):
    """A reply was edited after submission (an approved one goes back to approval)."""

    name: ClassVar[str] = "reply-edited"
    private_erasable: ClassVar[tuple[str, ...]] = ("text",)
    draft_id: int
    before_state: str
    after_state: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ReplyScheduled(AuditEvent):
    """A reply was scheduled for a later time."""

    name: ClassVar[str] = "reply-scheduled"
    draft_id: int
    scheduled_at: datetime


@dataclass(frozen=True, kw_only=True)
class ReplyCancelled(AuditEvent):
    """A reply was abandoned before being sent."""

    name: ClassVar[str] = "reply-cancelled"
    draft_id: int
    before_state: str


@dataclass(frozen=True, kw_only=True)
class ReplyBlocked(AuditEvent):
    """Sending was refused at publish time (charter block or election-eve blackout); nothing went out."""

    name: ClassVar[str] = "reply-blocked"
    draft_id: int
    findings: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ReplySending(AuditEvent):
    """A reply was claimed for sending (by a person or the worker): the platform call is about to start."""

    name: ClassVar[str] = "reply-sending"
    private_erasable: ClassVar[tuple[str, ...]] = ("text",)
    draft_id: int
    attempt: int
    by: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ReplyRetryScheduled(AuditEvent):
    """A scheduled reply was not sent yet (rate limit, interrupted or uncertain call): next try at ``next_at``."""

    name: ClassVar[str] = "reply-retry-scheduled"
    draft_id: int
    attempt: int
    error_code: str
    error: str
    next_at: datetime
    check_first: bool = False


@dataclass(frozen=True, kw_only=True)
class ReplyToVerify(AuditEvent):
    """Parvis cannot tell whether a reply went out: a person must check ("à vérifier"); never resent by itself."""

    name: ClassVar[str] = "reply-to-verify"
    draft_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReplyVerified(AuditEvent):
    """A person checked a reply left "à vérifier" on the platform: published (with its id) or not."""

    name: ClassVar[str] = "reply-verified"
    draft_id: int
    published: bool
    platform_id: str = ""


@dataclass(frozen=True, kw_only=True)
class CharterChanged(AuditEvent):
    """A new charter version was saved (edited in the UI or imported from YAML)."""

    name: ClassVar[str] = "charter-changed"
    version: int
    sha256: str
    source: str
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class RoleChanged(AuditEvent):
    """An agent's role changed."""

    name: ClassVar[str] = "role-changed"
    agent_id: int
    before: str
    after: str


@dataclass(frozen=True, kw_only=True)
class AgentUpdated(AuditEvent):
    """An agent's profile changed (signature style, team signature, needs-approval flag, active)."""

    name: ClassVar[str] = "agent-updated"
    agent_id: int
    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class SignedIn(AuditEvent):
    """An agent signed in (``method``: password, sso, or break-glass: the local password allowed under
    ``PARVIS_AUTH=sso``)."""

    name: ClassVar[str] = "signed-in"
    method: str


@dataclass(frozen=True, kw_only=True)
class SignInFailed(AuditEvent):
    """A sign-in attempt failed (``reason``: bad_password, unknown_account, inactive, no_password, sso_only, or
    for single sign-on sso_issuer_not_allowed, sso_identity_incomplete, sso_email_unverified, sso_unknown_account,
    sso_inactive, sso_subject_mismatch, sso_login_too_old, sso_login_idle, sso_login_signed_out; ``locked`` in
    logs written before sign-in throttling). ``failures``: failed password sign-ins in a row on the account."""

    name: ClassVar[str] = "sign-in-failed"
    reason: str
    failures: int = 0


@dataclass(frozen=True, kw_only=True)
class AccountLocked(AuditEvent):
    """Too many failed sign-ins locked the account until ``until`` (logs written before sign-in throttling
    replaced the lockout; no longer recorded)."""

    name: ClassVar[str] = "account-locked"
    until: datetime
    failures: int


@dataclass(frozen=True, kw_only=True)
class SsoSubjectBound(AuditEvent):
    """An account signed in by single sign-on for the first time: it is now bound to the provider's subject
    (``issuer`` + ``sso_subject``); later sign-ins must come from that subject."""

    name: ClassVar[str] = "sso-subject-bound"
    issuer: str
    sso_subject: str


@dataclass(frozen=True, kw_only=True)
class SsoSubjectUnbound(AuditEvent):
    """An administrator unbound an account from its single sign-on subject (the next verified e-mail binds it)."""

    name: ClassVar[str] = "sso-subject-unbound"
    issuer: str
    sso_subject: str


@dataclass(frozen=True, kw_only=True)
class SignedOut(AuditEvent):
    """An agent signed out (their session was revoked)."""

    name: ClassVar[str] = "signed-out"


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(AuditEvent):
    """An agent's password was set or changed (all their sessions are revoked)."""

    name: ClassVar[str] = "password-changed"
    agent_id: int


@dataclass(frozen=True, kw_only=True)
class AccountCodeIssued(AuditEvent):
    """An administrator issued a one-time code for an agent to choose a password (invitation or reset)."""

    name: ClassVar[str] = "account-code-issued"
    agent_id: int
    purpose: str


@dataclass(frozen=True, kw_only=True)
class SavedReplyChanged(AuditEvent):
    """A saved reply (modèle de réponse) was created, edited or removed."""

    name: ClassVar[str] = "saved-reply-changed"
    saved_reply_id: int
    action: str
    title: str
    body: str = ""
