"""Sending one reply exactly once: the claim (committed) comes before the platform call, the result is recorded
after it conditionally on the claim token, and a failure is classified as the posts' outbox does
(docs/publishing.md, "Réponses"; decision 0050). Used by the inbox's "Envoyer" (:func:`services.inbox.replies.send`)
and by the worker for scheduled replies (:mod:`services.publishing.reply_outbox`).

- rate limited: certainly not sent -> the worker retries with backoff until the deadline; a person's send fails
  (nothing went out: the person may send again);
- permanent (4xx, revoked token, unsupported): ``failed`` at once with the reason;
- ambiguous (timeout, 5xx, unreadable answer, unknown error): the reply may exist -> it stays ``publishing``
  with ``needs_check`` and the worker looks for it on the platform (optional connector method ``find_reply``)
  before anything else; a connector without it -> ``to_verify`` for a person. Never retried blindly.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.db import write_transaction
from core.errors import ParvisError, Unavailable, ValidationError, WorkflowError
from core.models import Agent, Draft, DraftState, Mention, Published, Status
from core.repo import reply_outbox as outbox_repo
from core.repo.reply_outbox import PERSON_PREFIX, ReplySend
from editorial.workflow import Action as Step
from editorial.workflow import next_state
from services.archive import published as archive
from services.inbox.replies import blocked_error, recheck_draft, require_may_handle
from services.publishing.content import DEFAULT_POLICY, PublishPolicy
from services.publishing.posts import LEASE, classify

S = DraftState
Hook = Callable[[str], None]
ALREADY_REASONS = {S.PUBLISHING: "reply_already_sending", S.SENT: "reply_already_sent",
                   S.TO_VERIFY: "reply_send_uncertain"}


def _noop(_point: str) -> None:
    return None


def can_look_up(connector: Connector | None) -> bool:
    """True if ``connector`` can tell whether a reply is on the platform (optional method ``find_reply``)."""
    return connector is not None and callable(getattr(connector, "find_reply", None))


def deadline(send: ReplySend, policy: PublishPolicy) -> datetime:
    """When automatic retries and lookups stop: ``retry_window`` after the scheduled time (worker) or the click."""
    base = send.scheduled_at if (send.scheduled_at and not send.by_person) else send.claimed_at
    if base is None:  # left "publishing" before claims were recorded (m052): nothing left to wait for
        return datetime.min.replace(tzinfo=UTC)
    return base + policy.retry_window


@dataclass(frozen=True, slots=True)
class Claim:
    """A reply claimed for sending: what goes out, to which mention, under which token."""

    draft_id: int
    mention: Mention
    text: str
    token: str
    by: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended: ``sent``, ``failed``, ``retry``, ``check`` (look before anything else), ``to_verify``."""

    kind: str
    error: Exception | None = None


def claim(db: Database, agent: Agent | None, draft_id: int, *, now: datetime, worker: str | None = None,
          lease_ttl: timedelta = DEFAULT_POLICY.lease_ttl, hook: Hook = _noop) -> Claim | None:
    """Check (rights, state, charter at publish time, approval) and claim a reply in one write transaction.

    ``agent`` sends now (refused cleanly if it is already out or being sent); ``agent=None`` is the worker
    ``worker``, which claims only a due scheduled reply and only while it holds the publisher lease (None
    otherwise). A charter block is audited as ``reply-blocked`` and raised; the worker then parks it ``failed``.
    """
    error: ParvisError | None = None
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
        if composed.blocked:
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
            token, by = uuid.uuid4().hex, worker or f"{PERSON_PREFIX}{agent.id if agent else 0}"
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
    return Claim(draft.id, repo.get_item(db, draft.mention_uid).mention, checked.signed_text, token, by)


def deliver(db: Database, c: Claim, connector: Connector, *, clock: Callable[[], datetime],
            agent: Agent | None = None, policy: PublishPolicy = DEFAULT_POLICY, rng: random.Random | None = None,
            hook: Hook = _noop) -> Outcome:
    """Call the platform for a claimed reply (outside any transaction) and record what happened."""
    hook("claimed")
    try:
        published = connector.reply(c.mention, c.text)
    except Exception as err:  # noqa: BLE001 - every platform failure is classified and recorded
        hook("called")
        kind = record_failure(db, c, err, connector, now=clock(), agent=agent, policy=policy, rng=rng)
        hook("record_txn")
        return Outcome(kind, err)
    hook("called")
    now = clock()
    with write_transaction(db):
        if not mark_sent(db, c.draft_id, published, now=now, agent=agent, expect_token=c.token):
            superseded(db, c, published, now=now)
        hook("record_txn")
    hook("recorded")
    return Outcome("sent")


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


def record_failure(db: Database, c: Claim, err: Exception, connector: Connector | None, *, now: datetime,
                   agent: Agent | None = None, policy: PublishPolicy = DEFAULT_POLICY,
                   rng: random.Random | None = None) -> str:
    """Classify a failed call and record it under the claim token; returns the outcome kind."""
    kind = classify(err)
    code = str(getattr(err, "code", "") or type(err).__name__)
    message = (str(err) or type(err).__name__)[:500]
    with write_transaction(db):
        send = outbox_repo.get_send(db, c.draft_id)
        if send.claim_token != c.token or send.state is not S.PUBLISHING:
            return "superseded"
        if kind == "permanent" or (kind == "retry" and send.by_person):
            fail(db, send, code, message, now=now, agent=agent)
            return "failed"
        if kind == "retry":
            return retry(db, send, code, message, now=now, policy=policy, rng=rng,
                         reset_at=getattr(err, "reset_at", None))
        if can_look_up(connector):
            next_at = min(now + policy.backoff(max(1, send.attempts), rng), max(deadline(send, policy), now))
            outbox_repo.update_send(db, send.draft_id, now=now, expect_token=send.claim_token, needs_check=True,
                                    not_before=next_at, send_error_code=code, send_error=message)
            audit.record(db, audit.ReplyRetryScheduled(
                actor=audit.SYSTEM_WORKER, subject=c.mention.uid, draft_id=send.draft_id, attempt=send.attempts,
                error_code=code, error=message, next_at=next_at, check_first=True), at=now)
            return "check"
        to_verify(db, send, f"Réponse incertaine de la plateforme ({message}) et recherche automatique "
                  "impossible : vérifier sur le compte.", now=now)
        return "to_verify"


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


def retry(db: Database, send: ReplySend, code: str, error: str, *, now: datetime, policy: PublishPolicy,
          rng: random.Random | None = None, reset_at: float | None = None, delay: timedelta | None = None) -> str:
    """Certainly not sent (scheduled reply): back to ``scheduled`` after a backoff, or ``failed`` past the deadline."""
    next_at = now + (delay if delay is not None else policy.backoff(max(1, send.attempts), rng))
    if reset_at is not None:
        next_at = max(next_at, datetime.fromtimestamp(reset_at, now.tzinfo))
    if next_at > deadline(send, policy):
        fail(db, send, code, f"Délai dépassé après {send.attempts} tentative(s) : {error}", now=now)
        return "failed"
    if outbox_repo.update_send(db, send.draft_id, now=now, expect_token=send.claim_token,
                               expect_state=S.PUBLISHING, state=S.SCHEDULED, not_before=next_at, needs_check=False,
                               send_error_code=code, send_error=error[:500]):
        audit.record(db, audit.ReplyRetryScheduled(
            actor=audit.SYSTEM_WORKER, subject=send.mention_uid or "", draft_id=send.draft_id,
            attempt=send.attempts, error_code=code, error=error[:500], next_at=next_at), at=now)
    return "retry"


def to_verify(db: Database, send: ReplySend, reason: str, *, now: datetime) -> bool:
    """Parvis cannot tell whether the reply went out: a person checks ("à vérifier"); never resent by itself."""
    if not outbox_repo.update_send(db, send.draft_id, now=now, state=S.TO_VERIFY, send_error_code="to_verify",
                                   send_error=reason[:500], needs_check=False, not_before=None):
        return False
    audit.record(db, audit.ReplyToVerify(actor=audit.SYSTEM_WORKER, subject=send.mention_uid or "",
                                         draft_id=send.draft_id, reason=reason[:500]), at=now)
    return True


def send_now(db: Database, agent: Agent, draft_id: int, connector: Connector, *, now: datetime,
             policy: PublishPolicy = DEFAULT_POLICY) -> Draft:
    """A person's "Envoyer": claim, call, record; the platform error is raised again after it was recorded."""
    c = claim(db, agent, draft_id, now=now)
    assert c is not None  # a person's claim either succeeds or raises
    outcome = deliver(db, c, connector, clock=lambda: now, agent=agent, policy=policy)
    if outcome.kind in ("check", "to_verify"):
        raise Unavailable(f"{outcome.error} (send uncertain: {outcome.kind})",
                          reason="reply_uncertain_lookup" if outcome.kind == "check" else "reply_uncertain_verify",
                          cause=outcome.error) from outcome.error
    if outcome.error is not None:
        raise outcome.error
    return repo.get_draft(db, draft_id)


def verify(db: Database, agent: Agent, draft_id: int, *, published: bool, now: datetime, link: str = "") -> Draft:
    """A person settles a reply left "à vérifier": it is on the platform (its link or id) -> ``sent``; it is
    not -> ``failed`` (it may then be sent again)."""
    with write_transaction(db):
        draft = repo.get_draft(db, draft_id)
        require_may_handle(agent, draft)
        next_state(draft.state, Step.MARK_SENT if published else Step.MARK_FAILED, needs_approval=False)
        platform_id = link.strip().rstrip("/").rsplit("/", 1)[-1] if published else ""
        if published and not platform_id:
            raise ValidationError(reason="reply_link_required")
        audit.record(db, audit.ReplyVerified(actor=agent.email, role=str(agent.role), subject=draft.mention_uid or "",
                                             draft_id=draft_id, published=published, platform_id=platform_id), at=now)
        if published:
            permalink = link.strip() if link.strip().startswith("http") else None
            mark_sent(db, draft_id, Published(platform_id=platform_id, permalink=permalink), now=now, agent=agent,
                      expect_state=S.TO_VERIFY, via="person")
        else:
            outbox_repo.update_send(db, draft_id, now=now, expect_state=S.TO_VERIFY, state=S.FAILED,
                                    send_error_code="not_published",
                                    send_error=f"Vérifiée par {agent.name} : pas sur la plateforme.")
    return repo.get_draft(db, draft_id)


def send_state(db: Database, draft_id: int) -> ReplySend:
    """Where the sending of one reply stands (attempts, last error, whether it needs a check), or NotFoundError."""
    return outbox_repo.get_send(db, draft_id)
