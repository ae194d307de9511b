"""The replies' kind of the outbox: one reply goes out exactly once, whether a person clicks "Envoyer" or the worker
sends it at its time (docs/publishing.md, "Réponses"; decisions 0050 and 0051). The protocol (outcome under the
claim token, classification, retries, lookups, reconciliation, unrecorded outcomes) is
:mod:`services.outbox.engine`; what is specific to replies is here:

- the claim (:func:`claim`): rights, state, the charter at publish time, the approval of exactly this text and
  the refusal of a second send (same draft, or the same text on the same mention), then one conditional UPDATE
  to ``publishing`` with a new token and ``reply-sending``, in one write transaction;
- the call is the connector's ``reply(mention, text)``; the lookup its optional ``find_reply(mention, text,
  since)``; the outcome records ``reply-sent`` with the exact text, the legal archive and the mention answered;
- rate limited: the worker retries with backoff until the deadline; a person's send fails (nothing went out);
  permanent: ``failed``; ambiguous: the reply stays ``publishing`` with ``needs_check`` and the worker looks for
  it before anything else, or ``to_verify`` where the connector cannot look. Never resent blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from connectors.base import Connector
from core import audit, repo
from core.db import write_transaction
from core.errors import ParvisError, Unavailable, ValidationError
from core.models import Agent, Draft, DraftState, Platform, Published
from core.repo import reply_outbox as outbox_repo
from core.repo.reply_outbox import PERSON_PREFIX, ReplySend
from editorial.workflow import Action as Step
from editorial.workflow import next_state
from services.inbox import private
from services.inbox.replies import require_may_handle
from services.outbox.engine import (
    SINCE_MARGIN,
    Delivery,
    Engine,
    Item,
    OutboxKind,
    Phase,
    classify,
)
from services.outbox.engine import Claim as OutboxClaim
from services.publishing.content import DEFAULT_POLICY, PublishPolicy

__all__ = ["ALREADY_REASONS", "Claim", "DueResult", "ReplyKind", "ReplyReport", "can_look_up", "claim", "classify",
           "deadline", "fail", "finish_records", "mark_sent", "send_now", "superseded", "to_verify", "verify"]
from services.publishing.reply_records import (
    ALREADY_REASONS,
    Claim,
    Hook,
    _noop,
    claim,
    fail,
    mark_sent,
    superseded,
    to_verify,
)

log = logging.getLogger("parvis.publishing.replies")
S = DraftState
SLOW_RETRY = timedelta(seconds=60)  # account not connected: try again in a minute
Connectors = Mapping[Platform, Connector] | Callable[[Draft], Connector | None]


def can_look_up(connector: Connector | None) -> bool:
    """True if ``connector`` can tell whether a reply is on the platform (optional method ``find_reply``)."""
    return connector is not None and callable(getattr(connector, "find_reply", None))


def deadline(send: ReplySend, policy: PublishPolicy) -> datetime:
    """When automatic retries and lookups stop: ``retry_window`` after the scheduled time (worker) or the click."""
    base = send.scheduled_at if (send.scheduled_at and not send.by_person) else send.claimed_at
    if base is None:  # left "publishing" before claims were recorded (m052): nothing left to wait for
        return datetime.min.replace(tzinfo=UTC)
    return base + policy.retry_window


def send_now(db: Database, agent: Agent, draft_id: int, connector: Connector, *, now: datetime,
             policy: PublishPolicy = DEFAULT_POLICY, hook: Hook = _noop) -> Draft:
    """A person's "Envoyer": claim, call, record; the platform error is raised again after it was recorded.

    Outcomes this process could not write before (database locked, disk full) are written first. When the reply
    went out but its record cannot be written now, the draft is returned still ``publishing``: the reply is on
    the platform and its record follows (never "nothing was sent").
    """
    kind = ReplyKind(lambda _draft: connector)
    engine = Engine(db, [kind], clock=lambda: now, policy=policy, worker_id=f"{PERSON_PREFIX}{agent.id}", hook=hook)
    engine.flush_unrecorded()
    c = claim(db, agent, draft_id, now=now, human_agent=private.human_agent_of(connector))
    assert c is not None  # a person's claim either succeeds or raises
    delivery = engine.deliver(kind, OutboxClaim(key=draft_id, token=c.token, by=c.by, connector=connector,
                                                agent=agent, data=c))
    if delivery.outcome in ("check", "to_verify") or (delivery.outcome == "unrecorded" and delivery.error
                                                      and classify(delivery.error) == "ambiguous"):
        looked_up = delivery.outcome != "to_verify"
        raise Unavailable(f"{delivery.error} (send uncertain: {'check' if looked_up else 'to_verify'})",
                          reason="reply_uncertain_lookup" if looked_up else "reply_uncertain_verify",
                          cause=delivery.error) from delivery.error
    if delivery.error is not None:
        raise delivery.error
    return repo.get_draft(db, draft_id)


def finish_records(db: Database, *, now: datetime) -> int:
    """Write the outcomes of this process's sends whose record could not be written at once (database locked past
    the busy timeout, disk full): the replies went out. Run by every send, and by the inbox page."""
    engine = Engine(db, [ReplyKind(lambda _draft: None)], clock=lambda: now)
    return engine.flush_unrecorded()


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


@dataclass(frozen=True, slots=True)
class DueResult:
    """Outcome of one scheduled reply the worker tried to send (``error_code`` when not sent)."""

    draft_id: int
    ok: bool
    error_code: str = ""


@dataclass(slots=True)
class ReplyReport:
    """What one worker pass did for replies; ``leased`` is False when another worker holds the publisher lease."""

    leased: bool = True
    results: list[DueResult] = field(default_factory=list)
    reconciled: int = 0


_PHASES = {S.SCHEDULED: Phase.WAITING, S.PUBLISHING: Phase.CLAIMED, S.SENT: Phase.DONE, S.FAILED: Phase.FAILED,
           S.TO_VERIFY: Phase.TO_VERIFY}


class ReplyKind(OutboxKind):
    """Reply drafts as outbox rows; ``connectors`` maps a platform to its connector, or chooses one per draft."""

    name = "reply"
    what = "la réponse"
    absent_fail = "rien n'est parti, elle peut être renvoyée"

    def __init__(self, connectors: Connectors) -> None:
        self.connectors = connectors

    def new_report(self) -> ReplyReport:
        """Replies report the result of each due reply."""
        return ReplyReport()

    # ---- rows -----------------------------------------------------------------------------------------------

    def item(self, send: ReplySend) -> Item:
        """The engine's view of a reply draft."""
        starts = [t for t in (send.claimed_at, None if send.by_person else send.scheduled_at) if t is not None]
        return Item(key=send.draft_id, phase=_PHASES.get(send.state, Phase.OTHER), token=send.claim_token,
                    claimed_by=send.claimed_by, claimed_at=send.claimed_at, attempts=send.attempts,
                    not_before=send.not_before, needs_check=send.needs_check, by_person=send.by_person,
                    payload=send.sent_text, platform_id=send.platform_id, error_code=send.error_code,
                    error=send.error, since=min(starts) - SINCE_MARGIN if send.claimed_at else None,
                    deadline=deadline(send, self.policy), row=send)

    def get(self, key: int) -> Item:
        return self.item(outbox_repo.get_send(self.db, key))

    def claimed(self) -> list[Item]:
        return [self.item(s) for s in outbox_repo.claimed(self.db)]

    def due(self, now: datetime, limit: int) -> list[int]:
        return outbox_repo.due(self.db, now=now, limit=limit)

    def next_waiting(self, now: datetime) -> datetime | None:
        return outbox_repo.next_due(self.db)

    # ---- the call -------------------------------------------------------------------------------------------

    def connector_for_draft(self, draft: Draft) -> Connector | None:
        """The connector that replies to ``draft``'s mention."""
        if callable(self.connectors):
            return self.connectors(draft)
        return self.connectors.get(draft.platform)

    def connector_for(self, item: Item) -> Connector | None:
        return self.connector_for_draft(repo.get_draft(self.db, item.key))

    def claim(self, key: int, report: ReplyReport) -> OutboxClaim | None:
        """The worker's claim of a due scheduled reply (under the publisher lease)."""
        draft = repo.get_draft(self.db, key)
        connector = self.connector_for_draft(draft)
        now = self.clock()
        if connector is None:
            self._no_connector(draft, now)
            report.results.append(DueResult(key, False, "no_connector"))
            return None
        try:
            c = claim(self.db, None, key, now=now, worker=self.engine.worker_id, lease_ttl=self.policy.lease_ttl,
                      hook=self.engine.hook, human_agent=private.human_agent_of(connector))
        except ParvisError as err:  # audited by claim(); the next reply still goes out
            log.warning("scheduled reply %s not sent: %s", key, err)
            report.results.append(DueResult(key, False, err.code))
            with write_transaction(self.db):  # still scheduled (refused as a duplicate...): not before a minute
                outbox_repo.update_send(self.db, key, now=now, expect_state=S.SCHEDULED, not_before=now + SLOW_RETRY,
                                        send_error_code=err.code, send_error=str(err)[:500])
            return None
        if c is None:
            self.engine.check_lease()
            return None
        return OutboxClaim(key=key, token=c.token, by=c.by, connector=connector, data=c)

    def delivered(self, claim: OutboxClaim, delivery: Delivery, report: ReplyReport) -> None:
        err = delivery.error
        code = "" if err is None else str(getattr(err, "code", type(err).__name__))
        report.results.append(DueResult(claim.key, err is None, code))

    def _no_connector(self, draft: Draft, now: datetime) -> None:
        """Account not connected: try again in a minute, and fail (nothing was sent) past the deadline."""
        with write_transaction(self.db):
            base = draft.scheduled_at or now
            if now > base + self.policy.retry_window:
                if outbox_repo.update_send(self.db, draft.id, now=now, expect_state=S.SCHEDULED, state=S.FAILED,
                                           send_error_code="no_connector", send_error="Compte non connecté : "
                                           "rien n'a été envoyé."):
                    audit.record(self.db, audit.ReplyFailed(actor=audit.SYSTEM_WORKER, subject=draft.mention_uid or "",
                                                            draft_id=draft.id, error_code="no_connector",
                                                            error="Compte non connecté"), at=now)
            else:
                outbox_repo.update_send(self.db, draft.id, now=now, expect_state=S.SCHEDULED,
                                        not_before=now + SLOW_RETRY, send_error_code="no_connector",
                                        send_error="Compte non connecté.")

    def call(self, claim: OutboxClaim) -> Published:
        c: Claim = claim.data
        if c.mention.private:  # never a public reply to a private message (services/inbox/private.py)
            return private.send_private(claim.connector, c.mention, c.text, tag=c.tag)
        return claim.connector.reply(c.mention, c.text)

    # ---- lookups ------------------------------------------------------------------------------------------

    def can_look_up(self, connector: Connector | None) -> bool:
        return can_look_up(connector)

    def find(self, connector: Connector, item: Item) -> Published | None:
        mention = repo.get_item(self.db, repo.get_draft(self.db, item.key).mention_uid or "").mention
        if mention.private and callable(getattr(connector, "find_private_reply", None)):
            return connector.find_private_reply(mention, item.payload, since=item.since)  # type: ignore[attr-defined]
        return connector.find_reply(mention, item.payload, since=item.since)  # type: ignore[attr-defined]

    def attributed_elsewhere(self, item: Item, found: Any) -> str:
        send: ReplySend = item.row
        if outbox_repo.platform_id_recorded(self.db, send.platform, found.platform_id, other_than=send.draft_id):
            return f"la réponse trouvée ({found.platform_id}) est déjà attribuée à un autre envoi"
        return ""

    # ---- outcomes -----------------------------------------------------------------------------------------

    def superseded(self, claim: OutboxClaim, result: Published, report: ReplyReport) -> None:
        superseded(self.db, claim.data, result, now=self.clock())

    def done(self, item: Item, result: Any, *, via: str, report: ReplyReport, token: str | None = None,
             expect: Phase | None = None, agent: Agent | None = None) -> bool:
        return mark_sent(self.db, item.key, result, now=self.clock(), agent=agent, expect_token=token,
                         expect_state=S.PUBLISHING if expect in (None, Phase.CLAIMED) else S.SCHEDULED, via=via)

    def fail(self, item: Item, code: str, error: str, *, report: ReplyReport, token: str | None = None,
             expect: Phase | None = None, agent: Agent | None = None) -> bool:
        return fail(self.db, item.row, code, error, now=self.clock(), agent=agent)

    def again(self, item: Item, code: str, error: str, at: datetime, *, check: bool, report: ReplyReport,
              token: str | None = None, expect: Phase | None = None) -> bool:
        now = self.clock()
        send: ReplySend = item.row
        if check:  # uncertain: stays claimed (it cannot be sent again) and is looked up first
            ok = outbox_repo.update_send(self.db, send.draft_id, now=now, expect_token=send.claim_token,
                                         needs_check=True, not_before=at, send_error_code=code,
                                         send_error=error[:500])
        else:  # certainly not sent: scheduled again
            ok = outbox_repo.update_send(self.db, send.draft_id, now=now, expect_token=send.claim_token,
                                         expect_state=S.PUBLISHING, state=S.SCHEDULED, not_before=at,
                                         needs_check=False, send_error_code=code, send_error=error[:500])
        if ok:
            audit.record(self.db, audit.ReplyRetryScheduled(
                actor=audit.SYSTEM_WORKER, subject=send.mention_uid or "", draft_id=send.draft_id,
                attempt=send.attempts, error_code=code, error=error[:500], next_at=at, check_first=check), at=now)
        return ok

    def clear_check(self, item: Item) -> None:
        outbox_repo.update_send(self.db, item.key, now=self.clock(), expect_state=S.SCHEDULED, needs_check=False)

    def look_later(self, item: Item, at: datetime, *, token: str | None = None) -> bool:
        return outbox_repo.update_send(self.db, item.key, now=self.clock(), expect_token=item.row.claim_token,
                                       needs_check=True, not_before=at)

    def to_verify(self, item: Item, reason: str, *, report: ReplyReport, token: str | None = None,
                  expect: Phase | None = None) -> bool:
        return to_verify(self.db, item.row, reason, now=self.clock(), token=token)
