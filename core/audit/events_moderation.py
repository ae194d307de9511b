"""Audit events of the moderation queue: hide, delete, ban, spam, escalation, author marks, and the outbox's
moderation acts (intent before the platform call, uncertain, failed, à vérifier, verified; decision 0051)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from core.audit.base import AuditEvent


@dataclass(frozen=True, kw_only=True)
class MentionHidden(AuditEvent):
    """A mention was hidden on its platform, with its legal ground."""

    name: ClassVar[str] = "mention-hidden"
    ground: str
    connector: str
    confirmed_by: str = ""  # the director who confirmed hiding an elected official's message
    act_id: int | None = None  # the moderation act (outbox row) whose outcome this records
    via: str = "api"  # api (the platform's answer), lookup (seen on the platform), person, api-after-takeover


@dataclass(frozen=True, kw_only=True)
class MentionUnhidden(AuditEvent):
    """A hidden mention was made visible again."""

    name: ClassVar[str] = "mention-unhidden"
    erasable: ClassVar[tuple[str, ...]] = ("note",)
    connector: str
    note: str = ""
    act_id: int | None = None
    via: str = "api"


@dataclass(frozen=True, kw_only=True)
class MentionDeleted(AuditEvent):
    """A comment was deleted on its platform, with its legal ground."""

    name: ClassVar[str] = "mention-deleted"
    ground: str
    connector: str
    confirmed_by: str = ""
    act_id: int | None = None
    via: str = "api"


@dataclass(frozen=True, kw_only=True)
class AuthorBanned(AuditEvent):
    """A mention's author was banned from the page, with its legal ground."""

    name: ClassVar[str] = "author-banned"
    ground: str
    connector: str
    author: str
    confirmed_by: str = ""
    author_id: str = ""  # the platform's id of the author (handles change; Facebook's is a display name)
    act_id: int | None = None
    via: str = "api"


@dataclass(frozen=True, kw_only=True)
class AuthorUnbanned(AuditEvent):
    """A ban was lifted (``subject``: the message that led to the ban)."""

    name: ClassVar[str] = "author-unbanned"
    erasable: ClassVar[tuple[str, ...]] = ("note",)
    connector: str
    author: str
    author_id: str
    ground: str  # the ground of the ban being lifted
    note: str = ""
    act_id: int | None = None
    via: str = "api"


@dataclass(frozen=True, kw_only=True)
class MarkedSpam(AuditEvent):
    """A mention was marked as spam (closed, not hidden)."""

    name: ClassVar[str] = "marked-spam"


@dataclass(frozen=True, kw_only=True)
class Escalated(AuditEvent):
    """A mention was escalated to the communication director or legal, with a note."""

    name: ClassVar[str] = "escalated"
    erasable: ClassVar[tuple[str, ...]] = ("note",)
    to: str
    note: str


@dataclass(frozen=True, kw_only=True)
class ForwardedToService(AuditEvent):
    """An urgent report was forwarded to a municipal service (name and e-mail address)."""

    name: ClassVar[str] = "forwarded-to-service"
    erasable: ClassVar[tuple[str, ...]] = ("note",)
    service: str
    email: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Dismissed(AuditEvent):
    """A flagged mention was dismissed from the moderation queue, with a reason."""

    name: ClassVar[str] = "dismissed"
    reason: str
    flags: tuple[str, ...] = ()  # the risk flags (kinds) the mention carried when it was dismissed (decision 0326)
    risk_model: str = ""  # the models that scored the mention (``risk_model_version``; "" when not recorded)


@dataclass(frozen=True, kw_only=True)
class AuthorMarked(AuditEvent):
    """An author was marked as an elected official or opposition councillor (or unmarked: ``mark`` empty)."""

    name: ClassVar[str] = "author-marked"
    platform: str
    author_id: str
    mark: str
    before: str = ""


@dataclass(frozen=True, kw_only=True)
class ModerationConfirmationRequested(AuditEvent):
    """Hiding, deleting or banning an elected official's message waits for the director's confirmation."""

    name: ClassVar[str] = "moderation-confirmation-requested"
    request_id: int
    action: str
    ground: str


@dataclass(frozen=True, kw_only=True)
class ModerationConfirmationRefused(AuditEvent):
    """The director refused a pending hide/delete/ban of an elected official's message."""

    name: ClassVar[str] = "moderation-confirmation-refused"
    request_id: int
    action: str


@dataclass(frozen=True, kw_only=True)
class SentimentCorrected(AuditEvent):
    """An agent corrected a mention's sentiment label (kept for retraining)."""

    name: ClassVar[str] = "sentiment-corrected"
    before: str | None
    after: str


@dataclass(frozen=True, kw_only=True)
class ModerationActSending(AuditEvent):
    """A person's hide/unhide/delete/ban/unban is about to be sent to the platform (the intent, committed before
    the call; its outcome follows as ``mention-hidden`` ... ``author-unbanned``, or one of the events below)."""

    name: ClassVar[str] = "moderation-act-sending"
    act_id: int
    action: str
    ground: str
    connector: str
    flags: tuple[str, ...] = ()  # the risk flags (kinds) the mention carried when the person acted (decision 0326)
    risk_model: str = ""  # the models that scored the mention (``risk_model_version``; "" when not recorded)


@dataclass(frozen=True, kw_only=True)
class ModerationActUncertain(AuditEvent):
    """The platform's answer to a moderation act was uncertain (timeout, 5xx): it will be looked up there."""

    name: ClassVar[str] = "moderation-act-uncertain"
    act_id: int
    action: str
    error_code: str
    error: str
    next_at: datetime


@dataclass(frozen=True, kw_only=True)
class ModerationActFailed(AuditEvent):
    """A moderation act certainly did not happen on the platform (refused, or looked up and absent)."""

    name: ClassVar[str] = "moderation-act-failed"
    act_id: int
    action: str
    error_code: str
    error: str


@dataclass(frozen=True, kw_only=True)
class ModerationActToVerify(AuditEvent):
    """Nobody can tell whether a moderation act happened on the platform: a person checks (« à vérifier »)."""

    name: ClassVar[str] = "moderation-act-to-verify"
    act_id: int
    action: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ModerationActVerified(AuditEvent):
    """A moderation act left « à vérifier » was settled: by a person who looked on the platform (``via``
    person), or by a later act of the same kind on the same message that succeeded (``via`` later-act)."""

    name: ClassVar[str] = "moderation-act-verified"
    act_id: int
    action: str
    done: bool
    via: str = "person"


@dataclass(frozen=True, kw_only=True)
class AutomationRuleSaved(AuditEvent):
    """An automation rule was created or changed (a change switches it off: it must be tried again)."""

    name: ClassVar[str] = "automation-rule-saved"
    rule_id: int
    rule_name: str
    conditions: str  # JSON
    actions: str  # JSON


@dataclass(frozen=True, kw_only=True)
class AutomationRuleTried(AuditEvent):
    """A rule was tried on the last days of messages (« ce qu'elle aurait fait »)."""

    name: ClassVar[str] = "automation-rule-tried"
    rule_id: int
    days: int
    matches: int


@dataclass(frozen=True, kw_only=True)
class AutomationRuleSwitched(AuditEvent):
    """A rule was switched on or off."""

    name: ClassVar[str] = "automation-rule-switched"
    rule_id: int
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class AutomationApplied(AuditEvent):
    """A switched-on rule acted on a mention: ``actor`` is who switched it on, ``rule_id`` the rule."""

    name: ClassVar[str] = "automation-applied"
    rule_id: int
    rule_name: str
    actions: tuple[str, ...]
