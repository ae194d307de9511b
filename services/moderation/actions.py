"""Moderation actions: hide/unhide, delete, ban, spam, escalate, forward, dismiss, author marks, sentiment.

Each change is written with its audit event in one write transaction. Hide, delete and ban need a ground from
moderation/legal.GROUNDS; on an elected official's message they need the director's confirmation (a community
manager's request waits in ``moderation_requests``). Acts on the platform (hide, unhide, delete, ban; lifting a
ban: services/moderation/bans.py) go through the outbox (:mod:`services.moderation.acts`, decision 0051): the
intent and ``moderation-act-sending`` are committed before the platform call, and the mention is marked
hidden/deleted (the author banned, core/repo/author_bans.py) and the decision stored once the platform said yes.
If that record cannot be written at once (database locked, disk full), the act is reported as sent and being
recorded (:attr:`Outcome.recorded` False), never as "nothing changed".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.config import Settings
from core.db import write_transaction
from core.errors import Unavailable, Unsupported, ValidationError
from core.models import Agent, Mention, Status
from core.repo import author_bans as author_bans_repo
from core.repo import author_marks as author_marks_repo
from core.repo import moderation as moderation_repo
from core.repo import moderation_actions as moderation_actions_repo
from moderation import legal
from services.accounts.permissions import Action, can, require
from services.connections import assembly
from services.integrations import kind as integrations_kind
from services.integrations import notices
from services.moderation import acts
from services.moderation.acts import can_do, platform_call
from services.moderation.queue import QueueFilter, is_unlawful, matching_uids, municipal_services, threshold
from services.outbox.engine import Hook, classify

ESCALATION_TARGETS = {"director": "Direction de la communication", "legal": "Service juridique"}
MAX_NOTE_LEN = 2_000
SENT_NOT_RECORDED = "act_sent_not_recorded"  # Outcome.notice: the sentence is in console/messages/notices.py
__all__ = ["ESCALATION_TARGETS", "MAX_BULK", "MAX_NOTE_LEN", "Outcome", "act", "can_do", "confirm_request",
           "correct_sentiment", "dismiss", "dismiss_many", "dismiss_matching", "escalate", "finish_records", "forward",
           "hide", "mark_author", "mark_spam", "platform_call", "refuse_request", "restrict", "unhide", "verify_act"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What an action did: ``done`` on the platform, or ``pending`` the director's confirmation (request id).

    ``recorded`` is False when the platform did it but its record is still being written (``notice`` says so: a
    key of the text catalogue, console/messages/notices.py); ``act_id`` is the outbox row of the act.
    """

    done: bool
    request_id: int | None = None
    recorded: bool = True
    act_id: int | None = None
    notice: str = ""


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


def act(db: Database, connector: Connector, mention: Mention, request: acts.ActRequest, *, actor: Agent,
        now: datetime, hook: Hook | None = None) -> Outcome:
    """Send a moderation act through the outbox and say what happened (used by every act on the platform).

    Done (or done but still being recorded): an :class:`Outcome`. Refused by the platform: its error is raised
    (nothing changed). Uncertain: ``Unavailable`` saying it will be checked or is « à vérifier ».
    """
    if not can_do(connector, request.action):
        raise Unsupported(f"{connector.name} cannot {request.action} on {mention.platform}",
                          reason="moderation_unsupported", moderation_action=request.action,
                          platform=str(mention.platform))
    act_id, delivery = acts.perform(db, connector, mention, request, agent=actor, now=now, hook=hook)
    err = delivery.error
    if err is None:
        if delivery.recorded:
            return Outcome(done=True, act_id=act_id)
        return Outcome(done=True, recorded=False, act_id=act_id, notice=SENT_NOT_RECORDED)
    outcome = delivery.outcome
    if outcome == "unrecorded" and classify(err) == "ambiguous":
        outcome = "check" if acts.can_look_up(connector) else "to_verify"
    if outcome in ("check", "to_verify"):
        raise Unavailable(f"{err} (act uncertain: {outcome})", cause=err,
                          reason="moderation_act_uncertain_lookup" if outcome == "check"
                          else "moderation_act_uncertain_verify") from err
    raise err  # certainly not done (refused, rate limited): nothing changed


def restrict(db: Database, settings: Settings, uid: str, action: str, ground: str | None, *, actor: Agent,
             now: datetime, confirm_elected: bool = False, note: str = "", request_id: int | None = None,
             hook: Hook | None = None) -> Outcome:
    """Hide, delete or ban (``action``) with a legal ground; an elected author needs the director's confirmation
    (``request_id``: the confirmed request this carries out, closed once the act is done)."""
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
    if action == "ban" and not m.author.known:  # no author id to send to the platform (decision 0130)
        raise ValidationError(f"{uid}: the platform did not say who wrote it", reason="author_unknown")
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
    request = acts.ActRequest(action=action, mention_uid=uid, ground=code, note=_note(note, required=False),
                              confirmed_by=confirmed_by, request_id=request_id)
    return act(db, connector, m, request, actor=actor, now=now, hook=hook)


def hide(db: Database, settings: Settings, uid: str, ground: str | None, *, actor: Agent, now: datetime,
         confirm_elected: bool = False) -> Outcome:
    """Hide a mention on its platform (see :func:`restrict`)."""
    return restrict(db, settings, uid, "hide", ground, actor=actor, now=now, confirm_elected=confirm_elected)


def unhide(db: Database, settings: Settings, uid: str, *, actor: Agent, now: datetime, note: str = "",
           hook: Hook | None = None) -> Outcome:
    """Make a hidden mention visible again (no ground needed)."""
    require(actor, Action.MODERATE)
    item = repo.get_item(db, uid)
    if not item.hidden:
        raise ValidationError(f"{uid} is not hidden", reason="not_hidden")
    connector = assembly.connector_for(settings, item.mention)
    request = acts.ActRequest(action="unhide", mention_uid=uid, note=_note(note, required=False))
    return act(db, connector, item.mention, request, actor=actor, now=now, hook=hook)


def finish_records(db: Database, *, now: datetime) -> int:
    """Write the outcomes of this process's acts whose record could not be written at once (database locked past
    the busy timeout, disk full): the platform did them. Run by every act, and by the moderation page."""
    engine, _kind = acts.engine_for(db, lambda _mention: None, clock=lambda: now)
    return engine.flush_unrecorded()


def verify_act(db: Database, act_id: int, *, actor: Agent, now: datetime, done: bool) -> acts.Act:
    """Settle an act left « à vérifier »: the person looked on the platform (``done``: it is in effect there)."""
    require(actor, Action.MODERATE)
    return acts.verify(db, actor, act_id, done=done, now=now)


def confirm_request(db: Database, settings: Settings, request_id: int, *, actor: Agent, now: datetime) -> Outcome:
    """The director confirms a pending hide/delete/ban of an elected official's message (and it is done; the
    request is closed with the act's record)."""
    require(actor, Action.MODERATE_CONFIRM)
    req = moderation_actions_repo.get_request(db, request_id)
    if req.state != "pending":
        raise ValidationError(f"request {request_id} is already {req.state}", reason="request_closed",
                              request_id=request_id, request_state=req.state)
    return restrict(db, settings, req.mention_uid, req.action, req.ground, actor=actor, now=now,
                    confirm_elected=True, note=req.note, request_id=request_id)


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
    """Forward an urgent report to a municipal service: recorded, and, when e-mail is configured, the report is
    e-mailed to the service's address through the outbox (services/integrations/notices.py: the message, its
    link, photos as links, the location if known, the agent, a reference); return the service's address."""
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
        decision = moderation_actions_repo.decisions_for(db, uid)[-1].id
        message = notices.queue_forward(db, settings, uid, service, email, agent=actor,
                                        note=_note(note, required=False), now=now, decision_id=decision)
    if message is not None:
        integrations_kind.send_soon(db, settings, message, agent=actor, now=now)
    return email


def dismiss(db: Database, uid: str, reason: str, *, actor: Agent, now: datetime) -> None:
    """Take a flagged mention out of the queue with a reason from ``legal.DISMISS_REASONS_FR``."""
    require(actor, Action.MODERATE)
    if reason not in legal.DISMISS_REASONS_FR:
        raise ValidationError(f"dismiss reason must be one of {', '.join(legal.DISMISS_REASONS_FR)}",
                              reason="dismiss_reason_unknown", given=reason)
    with write_transaction(db):
        _dismiss_one(db, uid, reason, actor=actor, now=now)


def _dismiss_one(db: Database, uid: str, reason: str, *, actor: Agent, now: datetime, detail: str = "") -> None:
    """Dismiss ``uid`` inside the caller's transaction: audited, decided, and closed in the inbox if it was
    « Nouveau » (the shared state, docs/moderation-queue.md)."""
    item = repo.get_item(db, uid)
    audit.record(db, audit.Dismissed(actor=actor.email, role=actor.role, subject=uid, reason=reason,
                                     **acts.flagged_by(item)), at=now)
    _decide(db, uid, "dismiss", ground=None, detail=detail or reason, actor=actor, now=now)
    if item.status is Status.NEW:
        _close(db, uid, Status.CLOSED, actor=actor, now=now)


MAX_BULK = 5_000


def dismiss_many(db: Database, uids: list[str], reason: str, *, actor: Agent, now: datetime) -> int:
    """Dismiss several flagged mentions with one reason (e.g. a flood of reports of one storm), in one write
    transaction, each audited on its own; items already decided are skipped. Return how many were dismissed."""
    require(actor, Action.MODERATE)
    if reason not in legal.DISMISS_REASONS_FR:
        raise ValidationError(f"dismiss reason must be one of {', '.join(legal.DISMISS_REASONS_FR)}",
                              reason="dismiss_reason_unknown", given=reason)
    unique = list(dict.fromkeys(uids))
    if not unique:
        raise ValidationError("nothing selected", reason="bulk_nothing_selected")
    if len(unique) > MAX_BULK:
        raise ValidationError(f"at most {MAX_BULK} items at once", reason="bulk_too_many", max=MAX_BULK)
    done = 0
    with write_transaction(db):
        decided = moderation_actions_repo.finally_decided(db, unique)
        for uid in unique:
            if uid in decided:
                continue
            _dismiss_one(db, uid, reason, actor=actor, now=now, detail=f"{reason} (groupé, {len(unique)})")
            done += 1
    return done


def dismiss_matching(db: Database, settings: Settings, filt: QueueFilter, reason: str, *, actor: Agent,
                     now: datetime) -> int:
    """Dismiss every queue item the filter matches (« tout sélectionner » then « classer sans suite »)."""
    require(actor, Action.MODERATE)
    return dismiss_many(db, matching_uids(db, threshold(settings), now, filt), reason, actor=actor, now=now)


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
