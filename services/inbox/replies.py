"""Replies: compose (sign + charter check), draft, submit, approve, request changes, edit, schedule, send.

Each step loads the draft, applies the pure state machine (editorial/workflow.py), re-runs the charter check
server-side, and writes the draft with its audit record in one ``write_transaction``. Sending
(:mod:`services.publishing.reply_sending`) records the exact text sent, the platform id and the permalink; the platform
call happens between two transactions (claim as ``publishing``, then ``sent``, ``failed`` or checked), so a
slow network never holds a lock and a reply goes out once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.db import write_transaction
from core.errors import CharterBlocked, PermissionDenied, ValidationError, WorkflowError
from core.models import Agent, Draft, DraftState, InboxItem, Mention, Platform
from editorial.charter import Media
from editorial.engine import CharterResult, CheckContext
from editorial.signatures import sign, signature_for, unsign
from editorial.workflow import Action as Step
from editorial.workflow import after_approval, approval_reasons, next_state
from services.accounts.permissions import Action, require, require_owner_or
from services.accounts.users import signatures_of_others
from services.editorial import charter as charters

MAX_BODY = 10_000


@dataclass(frozen=True, slots=True)
class Composed:
    """A reply as it will go out: signed text, charter result, and why it needs approval (if it does)."""

    body: str
    signed_text: str
    result: CharterResult
    reasons: tuple[str, ...]

    @property
    def needs_approval(self) -> bool:
        """True if a director must approve before sending."""
        return bool(self.reasons)

    @property
    def blocked(self) -> bool:
        """True if the charter blocks this text."""
        return self.result.blocked


def _media(items: Sequence[Media | dict[str, Any]]) -> tuple[Media, ...]:
    return tuple(m if isinstance(m, Media) else Media(kind=str(m.get("kind", "image")), name=str(m.get("name", "")),
                                                      alt=str(m.get("alt", ""))) for m in items)


def _check(db: Database, author: Agent, signed_text: str, platform: Platform, mention_uid: str | None,
           media: tuple[Media, ...], now: datetime) -> tuple[CharterResult, tuple[str, ...]]:
    cc = charters.current(db)
    item = repo.get_item(db, mention_uid) if mention_uid else None
    ctx = CheckContext(platform=platform, now=now, signature=signature_for(author),
                       other_signatures=signatures_of_others(db, author), media=media,
                       private=item is not None and item.private)
    result = cc.check(signed_text, ctx)
    risk = item.risk_score if item is not None else 0.0
    reasons = approval_reasons(risk_score=risk, risk_threshold=cc.charter.risk_threshold,
                               warnings=len(result.warnings), reserve_active=result.reserve.active,
                               agent_needs_approval=author.needs_approval)
    return result, reasons


def compose(db: Database, agent: Agent, *, body: str, platform: Platform, now: datetime,
            mention_uid: str | None = None, media: Sequence[Media | dict[str, Any]] = ()) -> Composed:
    """Sign ``body`` with ``agent``'s signature and check it (the live composer preview; writes nothing)."""
    require(agent, Action.REPLY_COMPOSE)
    if len(body) > MAX_BODY:
        raise ValidationError(reason="reply_too_long", length=len(body), max=MAX_BODY)
    signed = sign(body, signature_for(agent))
    result, reasons = _check(db, agent, signed, platform, mention_uid, _media(media), now)
    return Composed(unsign(signed, signature_for(agent)), signed, result, reasons)


def _with_check(draft: Draft, composed: Composed) -> Draft:
    return replace(draft, body=composed.body, signed_text=composed.signed_text,
                   charter_version=composed.result.charter_version, charter_result=composed.result.records(),
                   needs_approval=composed.needs_approval, approval_reasons=composed.reasons)


def _event_base(agent: Agent | None, draft: Draft) -> dict[str, Any]:
    return {"actor": agent.email if agent else audit.SYSTEM_WORKER, "role": str(agent.role) if agent else "",
            "subject": draft.mention_uid or f"draft:{draft.id}"}


class ReplyImpossible(ValidationError):
    """The platform offers no way to answer this message from Parvis (e.g. an Instagram photo tag)."""

    code = "reply_impossible"


def reply_impossible(mention: Mention) -> str | None:
    """Why ``mention`` cannot be answered from Parvis, or None: Instagram's API has no comment on a post of
    another account where the city is only tagged (an @mention in a caption or comment can be answered)."""
    if mention.platform is Platform.INSTAGRAM and mention.kind == "tag":
        return "instagram_tag"
    return None


def create_draft(db: Database, agent: Agent, *, mention_uid: str, body: str, now: datetime,
                 media: Sequence[Media | dict[str, Any]] = (), scheduled_at: datetime | None = None) -> Draft:
    """Save a new reply draft on ``mention_uid`` (signed and checked)."""
    item = repo.get_item(db, mention_uid)
    if item.private:
        require(agent, Action.PRIVATE_READ)
    if reply_impossible(item.mention):
        raise ReplyImpossible("Instagram offers no reply to a photo tag through its API: answer in the Instagram app",
                              reason="reply_impossible_instagram_tag")
    composed = compose(db, agent, body=body, platform=item.mention.platform, now=now, mention_uid=mention_uid,
                       media=media)
    with write_transaction(db):
        draft = repo.create_draft(db, mention_uid=mention_uid, author_id=agent.id, body=composed.body,
                                  signed_text=composed.signed_text, platform=item.mention.platform, now=now)
        draft = replace(_with_check(draft, composed), scheduled_at=scheduled_at,
                        media=tuple({"kind": m.kind, "name": m.name, "alt": m.alt} for m in _media(media)))
        repo.save_draft(db, draft)
        audit.record(db, audit.ReplyDrafted(**_event_base(agent, draft), draft_id=draft.id, body=draft.body), at=now)
    return draft


def _own(agent: Agent, draft: Draft) -> None:
    if draft.author_id != agent.id:
        raise PermissionDenied(reason="reply_author_only")


def recheck_draft(db: Database, draft: Draft, now: datetime, *, body: str | None = None) -> tuple[Draft, Composed]:
    """Sign and check ``draft`` (or ``body`` in its place) again against today's charter, as its author."""
    author = repo.get_agent(db, draft.author_id)
    signed = sign(draft.body if body is None else body, signature_for(author))
    result, reasons = _check(db, author, signed, draft.platform, draft.mention_uid, _media(draft.media), now)
    composed = Composed(unsign(signed, signature_for(author)), signed, result, reasons)
    return _with_check(draft, composed), composed


def blocked_error(result: CharterResult) -> CharterBlocked:
    """The error that refuses a message the charter blocks, naming its first blocking finding."""
    first = next(f for f in result.findings if f.severity == "block")
    return CharterBlocked(f"charter blocks the message ({first.code}): {first.message}",
                          reason="charter_blocks_reply", finding=first.message, findings=result.records())


def edit(db: Database, agent: Agent, draft_id: int, *, body: str, now: datetime,
         media: Sequence[Media | dict[str, Any]] | None = None) -> Draft:
    """Change the text of one's own reply (role and active account checked); an approved or scheduled reply goes
    back to approval. Only its author edits a reply, and the author never approves it: four eyes hold."""
    require(agent, Action.REPLY_COMPOSE)
    with write_transaction(db):
        draft = repo.get_draft(db, draft_id)
        _own(agent, draft)
        if media is not None:
            draft = replace(draft, media=tuple({"kind": m.kind, "name": m.name, "alt": m.alt} for m in _media(media)))
        checked, composed = recheck_draft(db, draft, now, body=body)
        was_approved = draft.approver_id is not None
        target = next_state(draft.state, Step.EDIT, needs_approval=was_approved)
        checked = replace(checked, state=target, updated_at=now)
        if was_approved and target is DraftState.SUBMITTED:  # back to approval: the old approval no longer holds
            checked = replace(checked, approver_id=None, approved_at=None, submitted_at=now)
        repo.save_draft(db, checked)
        if draft.state is DraftState.DRAFT:
            audit.record(db, audit.ReplyDrafted(**_event_base(agent, draft), draft_id=draft.id, body=checked.body),
                         at=now)
        else:
            audit.record(db, audit.ReplyEdited(**_event_base(agent, draft), draft_id=draft.id,
                                               before_state=str(draft.state), after_state=str(target),
                                               text=checked.signed_text), at=now)
    return checked


def submit(db: Database, agent: Agent, draft_id: int, *, now: datetime) -> Draft:
    """Send one's reply to a director for approval (refused while the charter blocks it)."""
    require(agent, Action.REPLY_COMPOSE)
    error: CharterBlocked | None = None
    with write_transaction(db):
        draft = repo.get_draft(db, draft_id)
        _own(agent, draft)
        checked, composed = recheck_draft(db, draft, now)
        if composed.blocked:
            error = blocked_error(composed.result)
        else:
            target = next_state(draft.state, Step.SUBMIT, needs_approval=composed.needs_approval)
            checked = replace(checked, state=target, submitted_at=now, updated_at=now, comment="")
            repo.save_draft(db, checked)
            audit.record(db, audit.ReplySubmitted(
                **_event_base(agent, draft), draft_id=draft.id, text=checked.signed_text,
                charter_version=checked.charter_version, findings=composed.result.codes, reasons=composed.reasons),
                at=now)
    if error:
        raise error
    return checked


def approve(db: Database, director: Agent, draft_id: int, *, now: datetime, seen_text: str | None = None) -> Draft:
    """Approve a submitted reply (never one's own). Approved before its scheduled time, it gets scheduled;
    approved after it, it waits for a new time instead of going out by itself."""
    require(director, Action.REPLY_APPROVE)
    error: CharterBlocked | None = None
    with write_transaction(db):
        draft = repo.get_draft(db, draft_id)
        if seen_text is not None and seen_text != draft.signed_text:
            raise WorkflowError(reason="reply_changed_during_review")
        target = next_state(draft.state, Step.APPROVE, needs_approval=True, author_id=draft.author_id,
                            actor_id=director.id)
        checked, composed = recheck_draft(db, draft, now)
        if composed.blocked:
            error = blocked_error(composed.result)
        else:
            after = after_approval(draft.scheduled_at, now)
            state = after.state if target is DraftState.APPROVED else target
            checked = replace(checked, state=state, approver_id=director.id, approved_at=now, updated_at=now,
                              approved_text=checked.signed_text, comment="",
                              scheduled_at=None if after.schedule_missed else draft.scheduled_at)
            repo.save_draft(db, checked)
            audit.record(db, audit.ReplyApproved(
                **_event_base(director, draft), draft_id=draft.id, text=checked.signed_text,
                author_id=draft.author_id, charter_version=checked.charter_version,
                warnings=tuple(f.code for f in composed.result.warnings), schedule_missed=after.schedule_missed),
                at=now)
            if state is DraftState.SCHEDULED and checked.scheduled_at:
                audit.record(db, audit.ReplyScheduled(**_event_base(director, draft), draft_id=draft.id,
                                                      scheduled_at=checked.scheduled_at), at=now)
    if error:
        raise error
    return checked


def request_changes(db: Database, director: Agent, draft_id: int, *, comment: str, now: datetime) -> Draft:
    """Send a submitted reply back to its author with a comment."""
    require(director, Action.REPLY_APPROVE)
    with write_transaction(db):
        draft = repo.get_draft(db, draft_id)
        target = next_state(draft.state, Step.REQUEST_CHANGES, needs_approval=True, author_id=draft.author_id,
                            actor_id=director.id, comment=comment)
        draft2 = replace(draft, state=target, comment=comment.strip(), updated_at=now)
        repo.save_draft(db, draft2)
        audit.record(db, audit.ChangesRequested(**_event_base(director, draft), draft_id=draft.id,
                                                comment=comment.strip()), at=now)
    return draft2


def require_may_handle(agent: Agent, draft: Draft) -> None:
    """Only the draft's author or a director (``reply.approve``) may schedule, send or cancel it."""
    require_owner_or(agent, draft.author_id, Action.REPLY_APPROVE, base=Action.REPLY_COMPOSE)


def schedule(db: Database, agent: Agent, draft_id: int, *, at: datetime, now: datetime) -> Draft:
    """Schedule a reply that is approved (or needs no approval) for a future time."""
    if at <= now:
        raise ValidationError(reason="reply_time_past")
    with write_transaction(db):
        draft = repo.get_draft(db, draft_id)
        require_may_handle(agent, draft)
        checked, composed = recheck_draft(db, draft, now)
        needs = composed.needs_approval and draft.state is DraftState.DRAFT
        target = next_state(draft.state, Step.SCHEDULE, needs_approval=needs)
        checked = replace(checked if draft.state is DraftState.DRAFT else draft, state=target, scheduled_at=at,
                          updated_at=now)
        repo.save_draft(db, checked)
        audit.record(db, audit.ReplyScheduled(**_event_base(agent, draft), draft_id=draft.id, scheduled_at=at), at=now)
    return checked


def cancel(db: Database, agent: Agent, draft_id: int, *, now: datetime) -> Draft:
    """Abandon a reply that has not gone out."""
    with write_transaction(db):
        draft = repo.get_draft(db, draft_id)
        require_may_handle(agent, draft)
        target = next_state(draft.state, Step.CANCEL, needs_approval=draft.needs_approval)
        done = replace(draft, state=target, updated_at=now)
        repo.save_draft(db, done)
        audit.record(db, audit.ReplyCancelled(**_event_base(agent, draft), draft_id=draft.id,
                                              before_state=str(draft.state)), at=now)
    return done


def send(db: Database, agent: Agent, draft_id: int, connector: Connector, *, now: datetime) -> Draft:
    """A person sends a reply now through ``connector`` (scheduled replies go out through the worker:
    :func:`services.publishing.approvals.publish_due`).

    The charter is checked once more at publish time (the eve-of-ballot blackout applies here); a block is
    audited as ``reply-blocked`` and nothing goes out. The reply is claimed (state checked inside the write
    transaction) before the platform is called, so a second click or a second tab is refused cleanly; success
    records ``reply-sent`` with the exact text, the platform id and the permalink, and marks the mention
    answered; a platform error is recorded (``reply-failed``, or checked on the platform when the outcome is
    uncertain) and raised again (:mod:`services.publishing.reply_sending`).
    """
    from services.publishing import reply_sending  # it builds on this module's helpers

    return reply_sending.send_now(db, agent, draft_id, connector, now=now)


def get_draft(db: Database, draft_id: int) -> Draft:
    """One draft, or NotFoundError."""
    return repo.get_draft(db, draft_id)


def drafts_for(db: Database, mention_uid: str) -> list[Draft]:
    """Drafts and sent replies on a mention, oldest first."""
    return repo.drafts_for(db, mention_uid)


def send_or_submit(db: Database, agent: Agent, item: InboxItem, body: str,
                   connector_for: Callable[[Mention], Connector], *, now: datetime) -> str:
    """One reply of a group answer (a topic, near-copies): drafted, then sent at once, or submitted to a director
    when the agent's replies need approval. ``"sent"`` or ``"submitted"``."""
    draft = create_draft(db, agent, mention_uid=item.uid, body=body, now=now)
    if draft.needs_approval:
        submit(db, agent, draft.id, now=now)
        return "submitted"
    send(db, agent, draft.id, connector_for(item.mention), now=now)
    return "sent"
