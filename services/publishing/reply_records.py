"""Sending one reply exactly once, the records: the claim (committed before the platform call, with its audit
event) and the outcomes written if the claim token still holds (sent, superseded, failed, « à vérifier »).
The reply kind of the outbox that drives them: :mod:`services.publishing.reply_sending`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlite_utils import Database

from core import audit, repo
from core.db import write_transaction
from core.errors import ParvisError, ValidationError, WorkflowError
from core.models import Agent, DraftState, Mention, Published, Status
from core.repo import reply_outbox as outbox_repo
from core.repo.reply_outbox import PERSON_PREFIX, ReplySend
from editorial.workflow import Action as Step
from editorial.workflow import next_state
from services.archive import published as archive
from services.inbox import private
from services.inbox.replies import blocked_error, recheck_draft, require_may_handle
from services.outbox.engine import (
    LEASE,
    new_token,
)
from services.publishing.content import DEFAULT_POLICY

__all__ = ["ALREADY_REASONS", "Claim", "Hook", "claim", "fail", "mark_sent", "superseded", "to_verify"]

log = logging.getLogger("parvis.publishing.replies")



S = DraftState
Hook = Callable[[str], None]
ALREADY_REASONS = {S.PUBLISHING: "reply_already_sending", S.SENT: "reply_already_sent",
                   S.TO_VERIFY: "reply_send_uncertain"}


def _noop(_point: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Claim:
    """A reply claimed for sending: what goes out, to which mention, under which token."""

    draft_id: int
    mention: Mention
    text: str
    token: str
    by: str
    tag: str | None = None  # a private answer's Send API tag (HUMAN_AGENT past 24 h), services/inbox/private.py


def claim(db: Database, agent: Agent | None, draft_id: int, *, now: datetime, worker: str | None = None,
          lease_ttl: timedelta = DEFAULT_POLICY.lease_ttl, hook: Hook = _noop,
          human_agent: bool = False) -> Claim | None:
    """Check (rights, state, charter at publish time, approval) and claim a reply in one write transaction.

    ``agent`` sends now (refused cleanly if it is already out or being sent); ``agent=None`` is the worker
    ``worker``, which claims only a due scheduled reply and only while it holds the publisher lease (None
    otherwise). A charter block is audited as ``reply-blocked`` and raised; the worker then parks it ``failed``.
    A private answer outside Meta's window is refused the same way (``private-reply-refused``), before any call;
    ``human_agent``: the Page may answer 24 h to 7 days later with the ``HUMAN_AGENT`` tag.
    """
    error: ParvisError | None = None
    tag: str | None = None
    with write_transaction(db):
        draft = repo.get_draft(db, draft_id)
        if agent is not None:
            require_may_handle(agent, draft)
            if draft.state in ALREADY_REASONS:
                raise WorkflowError(reason=ALREADY_REASONS[draft.state])
        elif draft.state is not S.SCHEDULED or not draft.scheduled_at or draft.scheduled_at > now:
            return None  # changed since it was listed as due (cancelled, edited, sent by a person)
        if draft.mention_uid is None:
            raise ValidationError(reason="reply_not_a_reply")
        checked, composed = recheck_draft(db, draft, now)
        base = {"actor": agent.email if agent else audit.SYSTEM_WORKER, "role": str(agent.role) if agent else "",
                "subject": draft.mention_uid}
        mention = repo.get_item(db, draft.mention_uid).mention
        window_error: ParvisError | None = None
        if mention.private and not composed.blocked:
            try:
                tag = private.require_window_open(db, mention, draft.id, now, human_agent=human_agent,
                                                  actor=base["actor"], role=base["role"]).tag
            except private.WindowClosed as err:
                window_error = err
        if window_error is not None:
            error = window_error
            if agent is None:  # the worker: nothing can ever be sent now, park it as failed
                repo.save_draft(db, replace(checked, state=S.FAILED, updated_at=now))
                outbox_repo.update_send(db, draft.id, now=now, send_error_code=window_error.reason or "",
                                        send_error=str(window_error)[:500])
        elif composed.blocked:
            audit.record(db, audit.ReplyBlocked(**base, draft_id=draft.id, findings=tuple(
                f.code for f in composed.result.findings if f.severity == "block")), at=now)
            error = blocked_error(composed.result)
            if agent is None:  # the worker: park it as failed so that it is not retried on every pass
                repo.save_draft(db, replace(checked, state=S.FAILED, updated_at=now))
                outbox_repo.update_send(db, draft.id, now=now, send_error_code="charter_blocked",
                                        send_error=str(error)[:500])
        else:
            approved = draft.approver_id is not None and draft.approved_text == checked.signed_text
            next_state(draft.state, Step.SEND, needs_approval=composed.needs_approval and not approved)
            if draft.state is S.FAILED and composed.needs_approval and not approved:
                raise WorkflowError(reason="approval_required")
            if outbox_repo.same_reply_out(db, draft.mention_uid, checked.signed_text, other_than=draft.id):
                raise WorkflowError(reason="reply_duplicate_out")
            repo.save_draft(db, replace(checked, updated_at=now))
            token, by = new_token(), worker or f"{PERSON_PREFIX}{agent.id if agent else 0}"
            if not outbox_repo.claim(db, draft.id, expect_state=draft.state, token=token, by=by, now=now,
                                     sent_text=checked.signed_text, lease=LEASE if agent is None else None,
                                     lease_until=now + lease_ttl):
                if agent is None:
                    return None  # the worker lost the publisher lease
                raise WorkflowError(reason="reply_already_sending")
            send = outbox_repo.get_send(db, draft.id)
            audit.record(db, audit.ReplySending(**base, draft_id=draft.id, attempt=send.attempts, by=by,
                                                text=checked.signed_text), at=now)
            hook("claim_txn")
    if error:
        raise error
    return Claim(draft.id, repo.get_item(db, draft.mention_uid).mention, checked.signed_text, token, by, tag)


def mark_sent(db: Database, draft_id: int, published: Published, *, now: datetime, agent: Agent | None = None,
              expect_token: str | None = None, expect_state: DraftState = S.PUBLISHING, via: str = "api") -> bool:
    """Record a reply as sent (platform id, permalink, audit, legal archive, mention answered); False if the
    claim was not the expected one any more. Call inside a write transaction."""
    if not outbox_repo.update_send(db, draft_id, now=now, expect_state=expect_state, expect_token=expect_token,
                                   state=S.SENT, platform_post_id=published.platform_id,
                                   permalink=published.permalink, sent_at=now, needs_check=False, not_before=None,
                                   send_error_code="", send_error=""):
        return False
    sent = repo.get_draft(db, draft_id)
    send = outbox_repo.get_send(db, draft_id)
    mention = repo.get_item(db, sent.mention_uid or "").mention
    actor = agent.email if agent else audit.SYSTEM_WORKER
    base = {"actor": actor, "role": str(agent.role) if agent else "", "subject": mention.uid}
    audit.record(db, audit.ReplySent(**base, draft_id=draft_id, text=send.sent_text or sent.signed_text,
                                     platform=str(sent.platform), platform_id=published.platform_id,
                                     permalink=published.permalink, via=via), at=now)
    archive.archive_draft(db, sent, published, now=now, account=mention.account, actor=actor)
    before = repo.set_status(db, mention.uid, Status.ANSWERED, now=now)
    if before is not Status.ANSWERED:
        audit.record(db, audit.StatusChanged(**base, before=str(before), after=str(Status.ANSWERED)), at=now)
    return True


def superseded(db: Database, c: Claim, published: Published, *, now: datetime) -> None:
    """Our claim was taken over while the call ran (longer than the stale delay): say so, never hide it."""
    current = outbox_repo.get_send(db, c.draft_id)
    audit.record(db, audit.ReplySent(actor=audit.SYSTEM_WORKER, subject=c.mention.uid, draft_id=c.draft_id,
                                     text=c.text, platform=str(current.platform), platform_id=published.platform_id,
                                     permalink=published.permalink, via="api-after-takeover"), at=now)
    if current.state is S.SENT and current.platform_id == published.platform_id:
        return
    to_verify(db, current, f"Envoyée ({published.platform_id}) après la reprise de l'envoi par le worker : "
              "vérifier qu'il n'y a pas de doublon.", now=now)


def fail(db: Database, send: ReplySend, code: str, error: str, *, now: datetime, agent: Agent | None = None) -> bool:
    """Definitely not sent: ``failed`` with the reason (a person may send it again). In a write transaction."""
    if not outbox_repo.update_send(db, send.draft_id, now=now, expect_token=send.claim_token,
                                   expect_state=S.PUBLISHING, state=S.FAILED, send_error_code=code,
                                   send_error=error[:500], needs_check=False, not_before=None):
        return False
    audit.record(db, audit.ReplyFailed(actor=agent.email if agent else audit.SYSTEM_WORKER,
                                       role=str(agent.role) if agent else "", subject=send.mention_uid or "",
                                       draft_id=send.draft_id, error_code=code, error=error[:500]), at=now)
    return True


def to_verify(db: Database, send: ReplySend, reason: str, *, now: datetime, token: str | None = None) -> bool:
    """Parvis cannot tell whether the reply went out: a person checks ("à vérifier"); never resent by itself."""
    if not outbox_repo.update_send(db, send.draft_id, now=now, expect_token=token, state=S.TO_VERIFY,
                                   send_error_code="to_verify", send_error=reason[:500], needs_check=False,
                                   not_before=None):
        return False
    audit.record(db, audit.ReplyToVerify(actor=audit.SYSTEM_WORKER, subject=send.mention_uid or "",
                                         draft_id=send.draft_id, reason=reason[:500]), at=now)
    return True
