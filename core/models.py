"""Domain model: frozen dataclasses and enums shared by every layer.

Timestamps are timezone-aware datetimes in UTC; the UI converts them to Europe/Paris for display.
See docs/decisions/0002-stdlib-dataclasses.md for why these are stdlib dataclasses, not pydantic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


class Platform(enum.StrEnum):
    """A social network Parvis talks to. ``DEMO`` is the built-in offline sandbox."""

    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    DEMO = "demo"


class Status(enum.StrEnum):
    """Where a mention stands in the shared inbox."""

    NEW = "new"
    ASSIGNED = "assigned"
    WAITING = "waiting"
    ANSWERED = "answered"
    CLOSED = "closed"
    ESCALATED = "escalated"


PRIVATE_KIND = "private"  # Mention.kind of a private message (issue #20)

OPEN_STATUSES: frozenset[Status] = frozenset({Status.NEW, Status.ASSIGNED, Status.WAITING, Status.ESCALATED})


class Role(enum.StrEnum):
    """What an agent may do; enforced in services, not only hidden in the UI."""

    COMMUNITY_MANAGER = "community_manager"
    DIRECTOR = "director"
    LEGAL = "legal"
    ADMIN = "admin"


class SignatureStyle(enum.StrEnum):
    """How replies are signed (chosen by the director per agent)."""

    FIRST_NAME = "first_name"  # "— Julie"
    INITIALS = "initials"  # "^JD"
    TEAM = "team"  # "L'équipe Propreté"


class DraftState(enum.StrEnum):
    """States of a reply or post in the approval workflow."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TO_VERIFY = "to_verify"


@dataclass(frozen=True, slots=True, kw_only=True)
class Author:
    """The person (or page) who wrote a mention, as the platform describes them.

    An author the platform did not name (a Facebook comment read without the right token, an Instagram @mention)
    is *unknown*: :meth:`unknown` gives it an id of its own, ``unknown:<item id>``, shared with no other item, so
    two unknown residents are never taken for one (author history, marks, bans, erasure by author).
    """

    platform_id: str
    handle: str
    display_name: str = ""
    followers: int | None = None

    @classmethod
    def unknown(cls, item_id: str, *, handle: str = "", display_name: str = "") -> Author:
        """The author of item ``item_id`` when the platform gave no author id (``handle`` may still be shown)."""
        return cls(platform_id=f"{UNKNOWN_AUTHOR}{item_id}", handle=handle, display_name=display_name)

    @property
    def known(self) -> bool:
        """Whether the platform named this author (an id that other items of the same author share)."""
        return is_known_author(self.platform_id)


UNKNOWN_AUTHOR = "unknown:"  # prefix of the per-item id of an author the platform did not name


def is_known_author(author_id: str | None) -> bool:
    """Whether ``author_id`` names a real author ("" and ``unknown:…`` ids never match another item's author)."""
    return bool(author_id) and not str(author_id).startswith(UNKNOWN_AUTHOR)


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    """One inbound message, normalised across platforms.

    ``uid`` is ``"<platform>:<platform id>"``: the storage key, so re-fetching is an idempotent upsert.
    ``raw`` is the platform payload exactly as received, kept for the audit and the archive.
    """

    platform: Platform
    platform_id: str
    text: str
    author: Author
    created_at: datetime
    account: str = ""
    conversation_id: str | None = None
    in_reply_to: str | None = None
    lang: str | None = None
    permalink: str | None = None
    media: tuple[str, ...] = ()
    kind: str = "mention"  # mention | comment | reply | tag | search | private (PRIVATE_KIND)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    quote_of: str | None = None  # platform id of the post this one quotes (X quote, Bluesky/Mastodon quote post)

    @property
    def uid(self) -> str:
        """Storage key ``"<platform>:<platform id>"``."""
        return f"{self.platform}:{self.platform_id}"

    @property
    def private(self) -> bool:
        """A private message (Messenger, Instagram Direct, Mastodon ``direct``, Bluesky chat): its
        ``conversation_id`` is the platform's conversation; stricter rules apply (docs/decisions/0140)."""
        return self.kind == PRIVATE_KIND


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxItem:
    """A stored mention with the team's work on it (status, assignee, scores, tags)."""

    mention: Mention
    status: Status
    assigned_to: int | None
    ingested_at: datetime
    sentiment: str | None = None
    sentiment_confidence: float | None = None
    risk_score: float = 0.0
    risk_flags: tuple[dict[str, Any], ...] = ()
    priority: float = 0.0
    tags: tuple[str, ...] = ()
    hidden: bool = False
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    model_version: str | None = None  # what gave the stored scores (``rich-…``: the worker's rich tier)
    risk_model_version: str | None = None  # the toxicity model behind the risk flags, or ``lexicon-…`` (decision 0325)

    @property
    def uid(self) -> str:
        """Storage key of the underlying mention."""
        return self.mention.uid

    @property
    def private(self) -> bool:
        """Whether the underlying mention is a private message."""
        return self.mention.private


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    """A thread: the mentions sharing a conversation id, oldest first."""

    platform: Platform
    conversation_id: str
    items: tuple[InboxItem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    """A member of the city's team who signs in to Parvis."""

    id: int
    email: str
    name: str
    initials: str
    role: Role
    signature_style: SignatureStyle = SignatureStyle.FIRST_NAME
    team_signature: str = ""
    needs_approval: bool = False
    active: bool = True

    @property
    def first_name(self) -> str:
        """The first word of the agent's name."""
        return self.name.split()[0] if self.name.strip() else self.initials


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """Who holds a mention, and since when."""

    mention_uid: str
    agent_id: int | None
    assigned_by: int
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Tag:
    """A free label on a mention (e.g. "voirie", "propreté")."""

    mention_uid: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """An internal note on a mention; never published."""

    id: int
    mention_uid: str
    agent_id: int
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """A reply to a mention (``mention_uid`` set) going through writing, approval and sending."""

    id: int
    mention_uid: str | None
    author_id: int
    body: str
    signed_text: str
    platform: Platform
    state: DraftState
    created_at: datetime
    updated_at: datetime
    approver_id: int | None = None
    comment: str = ""
    charter_version: int | None = None
    charter_result: tuple[dict[str, Any], ...] = ()
    needs_approval: bool = False
    platform_post_id: str | None = None
    permalink: str | None = None
    sent_at: datetime | None = None
    scheduled_at: datetime | None = None  # desired publication time (None: as soon as allowed)
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    approved_text: str | None = None  # the signed text a director approved (for the diff after an edit)
    approval_reasons: tuple[str, ...] = ()  # why approval is needed: risk, charter_warnings, reserve, agent
    media: tuple[dict[str, Any], ...] = ()  # attachments: {"kind", "name", "alt"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """A scheduled publication on one or more accounts."""

    id: int
    author_id: int
    text: str
    accounts: tuple[str, ...]
    scheduled_at: datetime
    state: DraftState
    created_at: datetime
    updated_at: datetime
    variants: dict[str, str] = field(default_factory=dict)
    approver_id: int | None = None
    # Publishing calendar (issue #6): ``state`` is the approval state until the worker starts, then the
    # aggregate of the targets' outbox states (see services/publishing/posts.py and docs/publishing.md).
    media: tuple[dict[str, Any], ...] = ()  # images: {"kind", "name", "alt"}; alt text is mandatory
    native_schedule: bool = False  # let platforms that can (Facebook) publish at the time themselves
    content_hash: str = ""  # SHA-256 of what would be published (texts, variants, media, accounts)
    approved_hash: str | None = None  # content_hash at approval: publishing requires the two to match
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    comment: str = ""  # the director's comment when changes are requested
    hold_reason: str = ""  # why an approved post waits for a new time: "late" or "approved_late"
    recurrence_id: int | None = None
    occurrence_date: date | None = None  # local (Paris) date of a recurring occurrence
    charter_version: int | None = None
    charter_result: tuple[dict[str, Any], ...] = ()
    targets: tuple[PostTarget, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """What a platform answered after a reply or post: its id and public link."""

    platform_id: str
    permalink: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorHealth:
    """Last known state of a connector, shown on the "Connexions" page."""

    name: str
    status: str  # ok | error | reconnect_needed | rate_limited | never
    last_sync_at: datetime | None = None
    last_error: str | None = None
    rate_limited_until: datetime | None = None
    cursor: str | None = None
    fetched_total: int = 0


# ---- publishing calendar (issue #6) ---------------------------------------------------------------------

class TargetState(enum.StrEnum):
    """Where one account's copy of a post stands in the outbox (see docs/publishing.md)."""

    PENDING = "pending"  # waiting for its time, or for its next retry
    PUBLISHING = "publishing"  # claimed by a worker: the platform call may be in flight
    HANDED_OFF = "handed_off"  # natively scheduled on the platform; verified after the time
    SENT = "sent"  # published: platform id and permalink recorded
    FAILED = "failed"  # definitely not published; the reason is recorded; a person may retry
    TO_VERIFY = "to_verify"  # Parvis cannot tell whether it was published: a person checks ("à vérifier")
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class PostTarget:
    """One account a post goes to: its outbox row (claim, attempts, platform id once published)."""

    id: int
    post_id: int
    account: str
    platform: Platform
    state: TargetState
    due_at: datetime | None = None  # when it was meant to go out (lateness and deadline are counted from it)
    not_before: datetime | None = None  # next attempt (None: at ``due_at``)
    deadline_at: datetime | None = None  # retries stop here
    attempts: int = 0
    needs_check: bool = False  # the last call ended ambiguously: look on the platform before calling again
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    claim_token: str | None = None
    sent_text: str | None = None  # the exact text sent (or being sent)
    platform_id: str | None = None
    permalink: str | None = None
    published_at: datetime | None = None
    error_code: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recurrence:
    """A recurring post ("every Monday at 9:00"): approved once, materialised as posts ahead of time."""

    id: int
    author_id: int
    text: str
    accounts: tuple[str, ...]
    platforms: dict[str, Platform]
    freq: str  # "daily" | "weekly"
    every: int  # every N days / weeks
    weekdays: tuple[int, ...]  # 0 = Monday (weekly rules)
    local_time: str  # "HH:MM", Europe/Paris wall-clock time
    start_date: date
    state: DraftState
    created_at: datetime
    updated_at: datetime
    until_date: date | None = None
    exceptions: tuple[date, ...] = ()  # local dates skipped
    variants: dict[str, str] = field(default_factory=dict)
    media: tuple[dict[str, Any], ...] = ()
    native_schedule: bool = False
    revision: int = 1
    content_hash: str = ""
    approved_hash: str | None = None
    approver_id: int | None = None
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    comment: str = ""
    materialized_until: date | None = None
