"""Audit events of the publishing calendar: posts, their outbox states, recurrences, the lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from core.audit.base import AuditEvent

# Subjects are "post:<id>" and "recurrence:<id>"; times are UTC ISO text.

@dataclass(frozen=True, kw_only=True)
class PostCreated(AuditEvent):
    """A post was written (or materialised from a recurring rule, or duplicated)."""

    name: ClassVar[str] = "post-created"
    post_id: int
    text: str
    accounts: tuple[str, ...]
    scheduled_at: datetime
    variants: dict[str, str]
    media: tuple[dict[str, Any], ...] = ()
    recurrence_id: int | None = None
    source_post_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class PostEdited(AuditEvent):
    """A post's content changed; ``reopened`` says it went back to approval; ``revision`` is its number in the
    editorial record (the actor is its editor); ``in_review``: it waits for approval, charter checked again
    (``charter_version``, ``warnings``)."""

    name: ClassVar[str] = "post-edited"
    post_id: int
    text: str
    accounts: tuple[str, ...]
    variants: dict[str, str]
    media: tuple[dict[str, Any], ...] = ()
    reopened: bool = False
    revision: int | None = None
    in_review: bool = False
    charter_version: int | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PostSubmitted(AuditEvent):
    """A post was submitted for approval (charter version and warnings at that moment)."""

    name: ClassVar[str] = "post-submitted"
    post_id: int
    content_hash: str
    charter_version: int | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PostApproved(AuditEvent):
    """A director approved a post; ``scheduled`` is False when approved after its time (it waits); ``editors``:
    everyone who wrote or edited the content (none of them is the approver)."""

    name: ClassVar[str] = "post-approved"
    post_id: int
    approver: str
    content_hash: str
    scheduled: bool
    editors: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PostChangesRequested(AuditEvent):
    """A director sent a post back to its author with a comment."""

    name: ClassVar[str] = "post-changes-requested"
    post_id: int
    comment: str


@dataclass(frozen=True, kw_only=True)
class PostScheduled(AuditEvent):
    """An approved post is in the queue for its time."""

    name: ClassVar[str] = "post-scheduled"
    post_id: int
    scheduled_at: datetime


@dataclass(frozen=True, kw_only=True)
class PostRescheduled(AuditEvent):
    """A post's time changed."""

    name: ClassVar[str] = "post-rescheduled"
    post_id: int
    before: datetime
    after: datetime


@dataclass(frozen=True, kw_only=True)
class PostHeld(AuditEvent):
    """An approved post was not published and waits for a new time (worker down past the grace period...)."""

    name: ClassVar[str] = "post-held"
    post_id: int
    reason: str
    scheduled_at: datetime


@dataclass(frozen=True, kw_only=True)
class PostPublishing(AuditEvent):
    """The worker claimed a post for one account: the platform call is about to start."""

    name: ClassVar[str] = "post-publishing"
    post_id: int
    account: str
    attempt: int
    worker: str
    text: str
    native: bool = False


@dataclass(frozen=True, kw_only=True)
class PostPublished(AuditEvent):
    """A post is on the platform: exact text sent, platform id, permalink, and how we know (api/lookup/person)."""

    name: ClassVar[str] = "post-published"
    post_id: int
    account: str
    platform: str
    text: str
    platform_id: str
    permalink: str | None = None
    attempt: int = 0
    via: str = "api"


@dataclass(frozen=True, kw_only=True)
class PostHandedOff(AuditEvent):
    """A post was natively scheduled on the platform (Facebook); publication is verified after its time."""

    name: ClassVar[str] = "post-handed-off"
    post_id: int
    account: str
    platform: str
    text: str
    platform_id: str
    scheduled_at: datetime


@dataclass(frozen=True, kw_only=True)
class PostRetryScheduled(AuditEvent):
    """A transient failure (timeout, 5xx, rate limit): the worker tries again at ``next_at``."""

    name: ClassVar[str] = "post-retry-scheduled"
    post_id: int
    account: str
    attempt: int
    error_code: str
    error: str
    next_at: datetime
    check_first: bool = False


@dataclass(frozen=True, kw_only=True)
class PostFailed(AuditEvent):
    """A post was definitely not published on one account: the reason (a person may retry)."""

    name: ClassVar[str] = "post-failed"
    post_id: int
    account: str
    error_code: str
    error: str
    attempts: int


@dataclass(frozen=True, kw_only=True)
class PostToVerify(AuditEvent):
    """Parvis cannot tell whether a post went out on one account: a person must check ("à vérifier")."""

    name: ClassVar[str] = "post-to-verify"
    post_id: int
    account: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PostVerified(AuditEvent):
    """A person checked a post "à vérifier" on the platform: published (with its link) or not."""

    name: ClassVar[str] = "post-verified"
    post_id: int
    account: str
    published: bool
    platform_id: str | None = None
    permalink: str | None = None


@dataclass(frozen=True, kw_only=True)
class PostRetried(AuditEvent):
    """A person asked to publish again on the accounts where a post failed."""

    name: ClassVar[str] = "post-retried"
    post_id: int
    accounts: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PostCancelled(AuditEvent):
    """A post was cancelled (nothing more will be published; what went out stays out)."""

    name: ClassVar[str] = "post-cancelled"
    post_id: int
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RecurrenceCreated(AuditEvent):
    """A recurring post rule was written (text, accounts, rule, local time)."""

    name: ClassVar[str] = "recurrence-created"
    recurrence_id: int
    text: str
    accounts: tuple[str, ...]
    rule: str


@dataclass(frozen=True, kw_only=True)
class RecurrenceEdited(AuditEvent):
    """A recurring rule changed; future occurrences not yet published are replaced after approval."""

    name: ClassVar[str] = "recurrence-edited"
    recurrence_id: int
    text: str
    rule: str
    revision: int


@dataclass(frozen=True, kw_only=True)
class RecurrenceSubmitted(AuditEvent):
    """A recurring rule was submitted for approval."""

    name: ClassVar[str] = "recurrence-submitted"
    recurrence_id: int
    content_hash: str


@dataclass(frozen=True, kw_only=True)
class RecurrenceApproved(AuditEvent):
    """A director approved a recurring rule: its occurrences are scheduled ahead of time; ``editors``: everyone
    who wrote or edited the rule (none of them is the approver)."""

    name: ClassVar[str] = "recurrence-approved"
    recurrence_id: int
    approver: str
    content_hash: str
    editors: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RecurrenceCancelled(AuditEvent):
    """A recurring rule was stopped; its future occurrences were cancelled."""

    name: ClassVar[str] = "recurrence-cancelled"
    recurrence_id: int
    cancelled_posts: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RecurrenceExceptionAdded(AuditEvent):
    """One date of a recurring rule was skipped (e.g. a public holiday)."""

    name: ClassVar[str] = "recurrence-exception-added"
    recurrence_id: int
    day: str
    cancelled_post_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class PublisherLeaseTaken(AuditEvent):
    """A worker became the (only) publisher of this database; ``previous`` is the holder whose lease expired."""

    name: ClassVar[str] = "publisher-lease-taken"
    holder: str
    token: int
    previous: str | None = None
