"""Moderation actions: hide/unhide, delete, ban, spam, escalate, forward, dismiss, author marks, sentiment.

Each change is written with its audit event in one write transaction. Hide, delete and ban need a ground from
moderation/legal.GROUNDS; on an elected official's message they need the director's confirmation (a community
manager's request waits in ``moderation_requests``). The platform call comes first, outside the transaction:
the mention is marked hidden/deleted (the author banned, core/repo/author_bans.py), and the decision stored, only
once the platform said yes. Lifting a ban: services/moderation/bans.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from connectors.base import Capability, Connector
from core import audit, repo
from core.config import Settings
from core.db import write_transaction
from core.errors import Unsupported, ValidationError
from core.models import Agent, Mention, Status
from core.repo import author_bans as author_bans_repo
from core.repo import author_marks as author_marks_repo
from core.repo import moderation as moderation_repo
from core.repo import moderation_actions as moderation_actions_repo
from moderation import legal
from services.accounts.permissions import Action, can, require
from services.connections import assembly
from services.moderation.queue import is_unlawful, municipal_services

ESCALATION_TARGETS = {"director": "Direction de la communication", "legal": "Service juridique"}
MAX_NOTE_LEN = 2_000
_EVENTS = {"hide": audit.MentionHidden, "delete": audit.MentionDeleted, "ban": audit.AuthorBanned}


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What an action did: ``done`` on the platform, or ``pending`` the director's confirmation (request id)."""

    done: bool
    request_id: int | None = None


def _note(text: str, *, required: bool) -> str:
    body = (text or "").strip()
    if required and not body:
        raise ValidationError("a note is required", reason="note_required")
    if len(body) > MAX_NOTE_LEN:
        raise ValidationError(f"a note has at most {MAX_NOTE_LEN} characters", reason="note_too_long",
                              max=MAX_NOTE_LEN)
    return body


def _decide(db: Database, uid: str, action: str, *, ground: str | None, detail: str, actor: Agent,
            now: datetime) -> None:
    item = repo.get_item(db, uid)
    moderation_actions_repo.add_decision(db, uid, action, ground=ground, detail=detail,
                                         unlawful=is_unlawful(tuple(item.risk_flags)), flagged_at=item.ingested_at,
                                         decided_at=now, agent_id=actor.id)


def can_do(connector: Connector, action: str) -> bool:
    """Whether ``connector`` supports ``action`` (hide, unhide, delete, ban, unban)."""
    if Capability(action) not in connector.info.capabilities:
        return False
    return action not in ("ban", "unban") or callable(getattr(connector, action, None))  # extras, not in Protocol


def platform_call(connector: Connector, action: str, mention: Mention) -> None:
    """Do ``action`` on the platform (ban/unban: on the mention's author); Unsupported where it cannot."""
    if not can_do(connector, action):
        raise Unsupported(f"{connector.name} cannot {action} on {mention.platform}", reason="moderation_unsupported",
                          moderation_action=action, platform=str(mention.platform))
    if action == "hide":
        connector.hide(mention)
    elif action == "unhide":
        connector.unhide(mention)
    elif action == "delete":
        connector.delete(mention.platform_id)
    elif action == "ban":
        connector.ban(mention.author)  # type: ignore[attr-defined]
    else:
        connector.unban(mention.author)  # type: ignore[attr-defined]


def restrict(db: Database, settings: Settings, uid: str, action: str, ground: str | None, *, actor: Agent,
             now: datetime, confirm_elected: bool = False, note: str = "") -> Outcome:
    """Hide, delete or ban (``action``) with a legal ground; an elected author needs the director's confirmation."""
    require(actor, Action.MODERATE)
    if action not in legal.RESTRICTIVE_ACTIONS:
        raise ValidationError(f"unknown moderation action {action!r}", reason="moderation_action_unknown",
                              moderation_action=action)
    if not ground:
        raise ValidationError(f"a legal ground is required to {action} a message", reason="ground_required",
                              moderation_action=action)
    code = legal.ground(ground).code.value
    item = repo.get_item(db, uid)
    m = item.mention
    if item.deleted_at is not None or (action == "hide" and item.hidden):
        raise ValidationError(f"{uid} is already {'deleted' if item.deleted_at else 'hidden'}",
                              reason="already_deleted" if item.deleted_at else "already_hidden")
    if action == "ban" and author_bans_repo.ban_of(db, str(m.platform), m.author.platform_id) is not None:
        raise ValidationError(f"{m.author.handle or m.author.platform_id} is already banned",
                              reason="already_banned", author=m.author.handle or m.author.platform_id)
    elected = author_marks_repo.mark_of(db, str(m.platform), m.author.platform_id) is not None
    confirmed_by = ""
    if legal.needs_director_confirmation(action, author_is_elected=elected):
        if not can(actor, Action.MODERATE_CONFIRM):
            waiting = [r for r in moderation_actions_repo.pending_requests(db)
                       if r.mention_uid == uid and r.action == action]
            if waiting:  # already asked: do not ask the director twice
                return Outcome(done=False, request_id=waiting[0].id)
            with write_transaction(db):
                rid = moderation_actions_repo.add_request(db, uid, action, code, note=_note(note, required=False),
                                                          agent_id=actor.id, now=now)
                audit.record(db, audit.ModerationConfirmationRequested(
                    actor=actor.email, role=actor.role, subject=uid, request_id=rid, action=action, ground=code),
                    at=now)
            return Outcome(done=False, request_id=rid)
        if not confirm_elected:
            raise ValidationError("the author is an elected official: a director must confirm",
                                  reason="elected_needs_confirmation")
        confirmed_by = actor.email
    connector = assembly.connector_for(settings, m)
    platform_call(connector, action, m)  # raises ConnectorError: nothing is marked
    with write_transaction(db):
        if action == "hide":
            repo.set_hidden(db, uid, True, now=now)
        elif action == "delete":
            repo.record_platform_change(db, uid, "deleted", now=now, raw={"by": actor.email, "ground": code})
        elif action == "ban":
            author_bans_repo.add_ban(db, author_bans_repo.Ban(
                platform=str(m.platform), author_platform_id=m.author.platform_id, handle=m.author.handle,
                mention_uid=uid, ground=code, connector=connector.name, banned_by=actor.id, banned_at=now))
        extra = {"author": m.author.handle, "author_id": m.author.platform_id} if action == "ban" else {}
        audit.record(db, _EVENTS[action](actor=actor.email, role=actor.role, subject=uid, ground=code,
                                         connector=connector.name, confirmed_by=confirmed_by, **extra), at=now)
        _decide(db, uid, action, ground=code, detail=_note(note, required=False), actor=actor, now=now)
    return Outcome(done=True)


def hide(db: Database, settings: Settings, uid: str, ground: str | None, *, actor: Agent, now: datetime,
         confirm_elected: bool = False) -> Outcome:
    """Hide a mention on its platform (see :func:`restrict`)."""
    return restrict(db, settings, uid, "hide", ground, actor=actor, now=now, confirm_elected=confirm_elected)


def unhide(db: Database, settings: Settings, uid: str, *, actor: Agent, now: datetime, note: str = "") -> None:
    """Make a hidden mention visible again (no ground needed)."""
    require(actor, Action.MODERATE)
    item = repo.get_item(db, uid)
    if not item.hidden:
        raise ValidationError(f"{uid} is not hidden", reason="not_hidden")
    connector = assembly.connector_for(settings, item.mention)
    platform_call(connector, "unhide", item.mention)
    with write_transaction(db):
        repo.set_hidden(db, uid, False, now=now)
        audit.record(db, audit.MentionUnhidden(actor=actor.email, role=actor.role, subject=uid,
                                               connector=connector.name, note=_note(note, required=False)), at=now)
        _decide(db, uid, "unhide", ground=None, detail=note, actor=actor, now=now)


def confirm_request(db: Database, settings: Settings, request_id: int, *, actor: Agent, now: datetime) -> Outcome:
    """The director confirms a pending hide/delete/ban of an elected official's message (and it is done)."""
    require(actor, Action.MODERATE_CONFIRM)
    req = moderation_actions_repo.get_request(db, request_id)
    if req.state != "pending":
        raise ValidationError(f"request {request_id} is already {req.state}", reason="request_closed",
                              request_id=request_id, request_state=req.state)
    outcome = restrict(db, settings, req.mention_uid, req.action, req.ground, actor=actor, now=now,
                       confirm_elected=True, note=req.note)
    with write_transaction(db):
        moderation_actions_repo.close_request(db, request_id, "confirmed", agent_id=actor.id, now=now)
    return outcome


def refuse_request(db: Database, request_id: int, *, actor: Agent, now: datetime) -> None:
    """The director refuses a pending request: nothing happens on the platform."""
    require(actor, Action.MODERATE_CONFIRM)
    with write_transaction(db):
        req = moderation_actions_repo.get_request(db, request_id)
        if req.state != "pending":
            raise ValidationError(f"request {request_id} is already {req.state}", reason="request_closed",
                                  request_id=request_id, request_state=req.state)
        moderation_actions_repo.close_request(db, request_id, "refused", agent_id=actor.id, now=now)
        audit.record(db, audit.ModerationConfirmationRefused(actor=actor.email, role=actor.role,
                                                             subject=req.mention_uid, request_id=request_id,
                                                             action=req.action), at=now)


def _close(db: Database, uid: str, status: Status, *, actor: Agent, now: datetime) -> None:
    before = repo.get_item(db, uid).status
    if before is not status:
        repo.set_status(db, uid, status, now=now)
        audit.record(db, audit.StatusChanged(actor=actor.email, role=actor.role, subject=uid, before=str(before),
                                             after=str(status)), at=now)


def mark_spam(db: Database, uid: str, *, actor: Agent, now: datetime) -> None:
    """Mark a mention as spam: tagged ``spam`` and closed (hide it too with the ``spam`` ground if needed)."""
    require(actor, Action.MODERATE)
    with write_transaction(db):
        repo.get_item(db, uid)
        repo.add_tag(db, uid, "spam")
        audit.record(db, audit.MarkedSpam(actor=actor.email, role=actor.role, subject=uid), at=now)
        _close(db, uid, Status.CLOSED, actor=actor, now=now)
        _decide(db, uid, "spam", ground="spam", detail="", actor=actor, now=now)


def escalate(db: Database, uid: str, to: str, note: str, *, actor: Agent, now: datetime) -> None:
    """Escalate to the communication director (``director``) or legal (``legal``) with a note (status: escalated)."""
    require(actor, Action.MODERATE)
    if to not in ESCALATION_TARGETS:
        raise ValidationError(f"escalate to one of {', '.join(ESCALATION_TARGETS)}, not {to!r}",
                              reason="escalation_target_unknown", target=to)
    body = _note(note, required=True)
    with write_transaction(db):
        repo.get_item(db, uid)
        repo.add_note(db, uid, actor.id, f"Escalade ({ESCALATION_TARGETS[to]}) : {body}", now=now)
        audit.record(db, audit.Escalated(actor=actor.email, role=actor.role, subject=uid, to=to, note=body), at=now)
        _close(db, uid, Status.ESCALATED, actor=actor, now=now)
        _decide(db, uid, "escalate", ground=None, detail=f"{to}: {body}", actor=actor, now=now)


def forward(db: Database, settings: Settings, uid: str, service: str, *, actor: Agent, now: datetime,
            note: str = "") -> str:
    """Record that an urgent report was forwarded to a municipal service; return the service's e-mail address."""
    require(actor, Action.MODERATE)
    services = municipal_services(settings)
    if service not in services:
        raise ValidationError(f"unknown municipal service {service!r}: {', '.join(services) or 'none'}",
                              reason="municipal_service_unknown" if services else "municipal_services_unset",
                              service=service, known=list(services))
    email = services[service]
    with write_transaction(db):
        repo.get_item(db, uid)
        audit.record(db, audit.ForwardedToService(actor=actor.email, role=actor.role, subject=uid, service=service,
                                                  email=email, note=_note(note, required=False)), at=now)
        _decide(db, uid, "forward", ground=None, detail=f"{service} <{email}>", actor=actor, now=now)
    return email


def dismiss(db: Database, uid: str, reason: str, *, actor: Agent, now: datetime) -> None:
    """Take a flagged mention out of the queue with a reason from ``legal.DISMISS_REASONS_FR``."""
    require(actor, Action.MODERATE)
    if reason not in legal.DISMISS_REASONS_FR:
        raise ValidationError(f"dismiss reason must be one of {', '.join(legal.DISMISS_REASONS_FR)}",
                              reason="dismiss_reason_unknown", given=reason)
    with write_transaction(db):
        repo.get_item(db, uid)
        audit.record(db, audit.Dismissed(actor=actor.email, role=actor.role, subject=uid, reason=reason), at=now)
        _decide(db, uid, "dismiss", ground=None, detail=reason, actor=actor, now=now)


def mark_author(db: Database, uid: str, mark: str | None, *, actor: Agent, now: datetime) -> None:
    """Mark the author of ``uid`` as ``elected`` or ``opposition`` (None: unmark). Both marks are elected
    officials, whose messages only a director may hide or ban; taking the mark off needs
    ``moderation.unmark_elected`` (the director), else a community manager could unmark, then ban alone."""
    require(actor, Action.MODERATE)
    with write_transaction(db):
        m = repo.get_item(db, uid).mention
        if mark is None and author_marks_repo.mark_of(db, str(m.platform), m.author.platform_id) is not None:
            require(actor, Action.UNMARK_ELECTED)
        before = author_marks_repo.set_mark(db, str(m.platform), m.author.platform_id, mark, handle=m.author.handle,
                                            agent_id=actor.id, now=now)
        if before != mark:
            audit.record(db, audit.AuthorMarked(actor=actor.email, role=actor.role, subject=uid,
                                                platform=str(m.platform), author_id=m.author.platform_id,
                                                mark=mark or "", before=before or ""), at=now)


def correct_sentiment(db: Database, uid: str, label: str, *, actor: Agent, now: datetime) -> str | None:
    """An agent corrects the sentiment label (stored for retraining); return the previous label."""
    require(actor, Action.INBOX_TRIAGE)
    with write_transaction(db):
        before = moderation_repo.record_sentiment_feedback(db, uid, label, agent_id=actor.id, now=now)
        if before != label:
            audit.record(db, audit.SentimentCorrected(actor=actor.email, role=actor.role, subject=uid,
                                                      before=before, after=label), at=now)
    return before
