"""The posts' kind of the outbox: each approved post goes out once per account, at its time.

The protocol itself (claim before the call, outcome under the claim token, classification, retries, lookups,
reconciliation, the ``publisher`` lease) is :mod:`services.outbox.engine`, shared with replies and moderation
acts (decision 0051). What is specific to posts is here (docs/publishing.md, decision 0050):
- the claim of a due target checks that the approved content is unchanged, that the post is not later than the
  grace period (else it is held for a person), the deadline, the connector, native scheduling and the charter at
  publish time, then moves it ``pending`` -> ``publishing`` under the lease (one conditional UPDATE, committed)
  with its ``post-publishing`` event;
- the call is the connector's ``publish`` (natively scheduled ahead of time where asked and possible);
- the lookup is the optional ``find_published`` (:mod:`services.publishing.reconcile`), and natively handed-off
  posts are verified after their time;
- outcomes are recorded by :mod:`services.publishing.outcomes`.

:class:`Publisher` is one worker's outbox for posts alone (tests, benchmark); the worker runs posts, replies and
moderation acts in one pass (:mod:`services.outbox.runner`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from connectors.base import Capability, Connector
from core import audit
from core.clock import Clock, utcnow
from core.db import write_transaction
from core.errors import ParvisError
from core.models import DraftState, Post, PostTarget, Published, TargetState
from core.repo import posts as posts_repo
from services.outbox.engine import (
    LEASE,
    SINCE_MARGIN,
    Claim,
    Item,
    OneKindWorker,
    OutboxKind,
    Phase,
    Verdict,
    acquire_publisher_lease,
    classify,
    new_token,
    worker_identity,
)
from services.publishing.content import (
    DEFAULT_POLICY,
    RELEASED,
    CharterCheck,
    PublishPolicy,
    blocking_messages,
    charter_check,
    hash_of,
    refresh_state,
    text_for,
)
from services.publishing.outcomes import OutcomeRecorder, TickReport

__all__ = ["LEASE", "SLOW_RETRY", "PostKind", "Publisher", "TickReport", "acquire_publisher_lease", "classify",
           "worker_identity"]

log = logging.getLogger("parvis.publishing")
SLOW_RETRY = timedelta(seconds=60)  # configuration problems (no connector, charter unreadable)
T = TargetState
Hook = Callable[[str], None]
_PHASES = {T.PENDING: Phase.WAITING, T.PUBLISHING: Phase.CLAIMED, T.HANDED_OFF: Phase.HANDED_OFF, T.SENT: Phase.DONE,
           T.FAILED: Phase.FAILED, T.TO_VERIFY: Phase.TO_VERIFY}
_STATES = {phase: state for state, phase in _PHASES.items()}


def _state(phase: Phase | None) -> T | None:
    return None if phase is None else _STATES.get(phase)


class PostKind(OutcomeRecorder, OutboxKind):
    """Posts' targets (one per account) as outbox rows; ``connectors`` keyed by account name."""

    name = "post"
    what = "la publication"

    def __init__(self, connectors: Mapping[str, Connector], *, check: CharterCheck | None = charter_check) -> None:
        self.connectors = dict(connectors)
        self.check = check

    def new_report(self) -> TickReport:
        """Posts count their outcomes in a :class:`TickReport`."""
        return TickReport()

    # ---- rows -----------------------------------------------------------------------------------------------

    def item(self, post: Post, target: PostTarget) -> Item:
        """The engine's view of a target."""
        starts = [t for t in (target.due_at, target.claimed_at, post.scheduled_at) if t is not None]
        return Item(key=target.id, phase=_PHASES.get(target.state, Phase.OTHER), token=target.claim_token,
                    claimed_by=target.claimed_by, claimed_at=target.claimed_at, attempts=target.attempts,
                    not_before=target.not_before, needs_check=target.needs_check, by_person=False,
                    payload=target.sent_text, platform_id=target.platform_id, error_code=target.error_code,
                    error=target.error, since=min(starts) - SINCE_MARGIN, deadline=self.policy.deadline(target, post),
                    row=(post, target))

    def get(self, key: int) -> Item:
        target = posts_repo.get_target(self.db, key)
        return self.item(posts_repo.get_post(self.db, target.post_id), target)

    def claimed(self) -> list[Item]:
        return [self.item(posts_repo.get_post(self.db, t.post_id), t) for t in posts_repo.claimed_targets(self.db)]

    def due(self, now: datetime, limit: int) -> list[int]:
        return [t.id for t in posts_repo.due_targets(self.db, now=now, states=[T.PENDING], limit=limit)]

    def next_waiting(self, now: datetime) -> datetime | None:
        return posts_repo.next_not_before(self.db)

    def reconcile_after(self, item: Item, at: datetime) -> datetime:
        post, target = item.row
        if post.native_schedule and target.claimed_at is not None and \
                post.scheduled_at - target.claimed_at >= self.policy.native_min_lead:
            return max(at, post.scheduled_at + self.policy.verify_after)  # maybe handed off: seen after its time
        return at

    # ---- the call -------------------------------------------------------------------------------------------

    def connector_for(self, item: Item | PostTarget) -> Connector | None:
        target = item.row[1] if isinstance(item, Item) else item
        return self.connectors.get(target.account)

    def claim(self, key: int, report: TickReport) -> Claim | None:
        """Check and claim a due target in one transaction; None when it must not be sent now."""
        now = self.clock()
        with write_transaction(self.db):
            item = self.get(key)
            post, target = item.row
            if target.state is not T.PENDING or target.not_before is None or target.not_before > now:
                return None
            if post.state not in RELEASED:
                return None
            if post.approved_at is None or post.approved_hash != hash_of(post):
                self.fail_target(post, target, "not_approved", "Contenu modifié depuis sa validation : rien n'a "
                                 "été publié ; la publication doit être validée à nouveau.", now, report)
                return None
            untouched = all(t.attempts == 0 for t in post.targets if t.state is not T.CANCELLED)
            due = target.due_at or post.scheduled_at
            if untouched and now > due + self.policy.grace:
                self._hold(post, now, report)
                return None
            if now > item.deadline:
                self.fail_target(post, target, "deadline", "Délai de nouvelle tentative dépassé : rien n'a été "
                                 "publié.", now, report)
                return None
            connector = self.connector_for(target)
            if connector is None:
                self.engine.retry(self, item, "no_connector", f"Compte « {target.account} » non connecté.", report,
                                  delay=SLOW_RETRY)
                return None
            native = post.native_schedule and Capability.NATIVE_SCHEDULE in connector.info.capabilities
            if native and post.scheduled_at - now < self.policy.native_min_lead:
                native = False  # too close to its time for the platform to accept it: publish it ourselves
            if not native and now < post.scheduled_at:
                posts_repo.update_target(self.db, target.id, now=now, not_before=post.scheduled_at)
                return None
            text = text_for(post, target.account, target.platform)
            if self.check is not None:
                try:
                    blocking = blocking_messages(self.check(self.db, text, target.platform, post.media, now))
                except ParvisError as err:
                    self.engine.retry(self, item, "charter_unavailable", f"Contrôle de la charte impossible : {err}",
                                      report, delay=SLOW_RETRY)
                    return None
                if blocking:
                    self.fail_target(post, target, "charter_blocked", "Bloquée par la charte au moment de publier : "
                                     + " ; ".join(blocking), now, report)
                    return None
            token = new_token()
            worker = self.engine.worker_id
            if not posts_repo.claim_target(self.db, target.id, token=token, worker=worker, now=now, sent_text=text,
                                           lease=LEASE, lease_until=now + self.policy.lease_ttl):
                self.engine.check_lease()
                return None
            posts_repo.insert_attempt(self.db, target_id=target.id, post_id=post.id, attempt=target.attempts + 1,
                                      kind="native_schedule" if native else "publish", worker=worker, now=now)
            refresh_state(self.db, post.id, now=now)
            audit.record(self.db, audit.PostPublishing(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}",
                                                       post_id=post.id, account=target.account,
                                                       attempt=target.attempts + 1, worker=worker, text=text,
                                                       native=native), at=now)
            self.engine.hook("claim_txn")
        return Claim(key=target.id, token=token, by=worker, connector=connector, data=(post, text, native))

    def _hold(self, post: Post, now: datetime, report: TickReport) -> None:
        """Too late (worker down past the grace period): the post waits for a person to choose a new time."""
        posts_repo.update_post(self.db, post.id, state=DraftState.APPROVED, hold_reason="late", now=now)
        posts_repo.update_post_targets(self.db, post.id, states=[T.PENDING], now=now, not_before=None)
        audit.record(self.db, audit.PostHeld(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}", post_id=post.id,
                                             reason="late", scheduled_at=post.scheduled_at), at=now)
        report.held += 1
        log.warning("post %s held: %s past its time, beyond the grace period", post.id, now - post.scheduled_at)

    def call(self, claim: Claim) -> Published:
        post, text, native = claim.data
        return claim.connector.publish(text, scheduled_at=post.scheduled_at if native else None, media=post.media)

    # ---- lookups (services/publishing/reconcile.py) ---------------------------------------------------------

    def can_look_up(self, connector: Connector | None) -> bool:
        from services.publishing.reconcile import can_look_up

        return can_look_up(connector)

    def find(self, connector: Connector, item: Item) -> Published | None:
        assert item.since is not None and item.payload is not None
        return connector.find_published(item.payload, since=item.since)  # type: ignore[attr-defined]

    def attributed_elsewhere(self, item: Item, found: Any) -> str:
        target: PostTarget = item.row[1]
        if found.platform_id != target.platform_id and posts_repo.platform_id_recorded(
                self.db, target.platform, target.account, found.platform_id):
            return f"la publication trouvée ({found.platform_id}) est déjà attribuée à un autre envoi"
        return ""

    def log_lookup(self, item: Item, purpose: str, verdict: Verdict, why: str, found: Any, now: datetime) -> None:
        post, target = item.row
        with write_transaction(self.db):
            posts_repo.log_attempt(self.db, target_id=target.id, post_id=post.id, attempt=target.attempts,
                                   kind=purpose, worker=self.engine.worker_id, now=now, outcome=str(verdict),
                                   error=why, platform_id=found.platform_id if found is not None else None)

    def visible_from(self, claim: Claim) -> datetime | None:
        post, _text, native = claim.data
        return post.scheduled_at + self.policy.verify_after if native else None

    def before_due(self, report: TickReport) -> None:
        from services.publishing.reconcile import verify_handed_off

        verify_handed_off(self, report)

    # ---- outcomes -------------------------------------------------------------------------------------------

    def record_success(self, claim: Claim, result: Published, report: TickReport) -> bool:
        post, text, native = claim.data
        if not native:
            return super().record_success(claim, result, report)
        now = self.clock()
        ok = posts_repo.update_target(self.db, claim.key, now=now, expect_token=claim.token,
                                      expect_state=T.PUBLISHING, state=T.HANDED_OFF, platform_id=result.platform_id,
                                      permalink=result.permalink,
                                      not_before=post.scheduled_at + self.policy.verify_after)
        if ok:
            target = posts_repo.get_target(self.db, claim.key)
            posts_repo.finish_attempts(self.db, target.id, outcome="handed_off", now=now,
                                       platform_id=result.platform_id)
            refresh_state(self.db, post.id, now=now)
            audit.record(self.db, audit.PostHandedOff(
                actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}", post_id=post.id, account=target.account,
                platform=str(target.platform), text=text, platform_id=result.platform_id,
                scheduled_at=post.scheduled_at), at=now)
            report.handed_off += 1
        return ok

    def superseded(self, claim: Claim, result: Published, report: TickReport) -> None:
        """Our claim was taken over while the call ran (longer than the stale delay): say so, never hide it."""
        now = self.clock()
        post, text, _native = claim.data
        current = posts_repo.get_target(self.db, claim.key)
        audit.record(self.db, audit.PostPublished(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}",
                                                  post_id=post.id, account=current.account,
                                                  platform=str(current.platform), text=text,
                                                  platform_id=result.platform_id, permalink=result.permalink,
                                                  attempt=current.attempts, via="api-after-takeover"), at=now)
        if current.state is T.SENT and current.platform_id == result.platform_id:
            return
        self.target_to_verify(post, current, f"Publié ({result.platform_id}) après la reprise de l'envoi par un "
                              "autre worker : vérifier qu'il n'y a pas de doublon.", now, report)

    def done(self, item: Item, result: Any, *, via: str, report: TickReport, token: str | None = None,
             expect: Phase | None = None, agent: Any = None) -> bool:
        post, target = item.row
        return self.target_sent(post, target, result, target.sent_text or "", self.clock(), report, token=token,
                                expect=_state(expect), via=via)

    def fail(self, item: Item, code: str, error: str, *, report: TickReport, token: str | None = None,
             expect: Phase | None = None, agent: Any = None) -> bool:
        post, target = item.row
        return self.fail_target(post, target, code, error, self.clock(), report, token=token, expect=_state(expect))

    def again(self, item: Item, code: str, error: str, at: datetime, *, check: bool, report: TickReport,
              token: str | None = None, expect: Phase | None = None) -> bool:
        post, target = item.row
        return self.schedule_again(post, target, code, error, at, self.clock(), report, check_first=check,
                                   token=token, expect=_state(expect))

    def clear_check(self, item: Item) -> None:
        posts_repo.update_target(self.db, item.key, now=self.clock(), expect_state=T.PENDING, needs_check=False)

    def look_later(self, item: Item, at: datetime, *, token: str | None = None) -> bool:
        if item.phase is Phase.WAITING:
            return posts_repo.update_target(self.db, item.key, now=self.clock(), expect_state=T.PENDING,
                                            not_before=at)
        return posts_repo.update_target(self.db, item.key, now=self.clock(), expect_token=token,
                                        expect_state=T.PUBLISHING, needs_check=True, not_before=at)

    def to_verify(self, item: Item, reason: str, *, report: TickReport, token: str | None = None,
                  expect: Phase | None = None) -> bool:
        post, target = item.row
        return self.target_to_verify(post, target, reason, self.clock(), report, token=token, expect=_state(expect))


class Publisher(OneKindWorker[PostKind]):
    """Publishes due posts through ``connectors`` (keyed by account name): the engine with the posts' kind alone."""

    def __init__(self, db: Database, connectors: Mapping[str, Connector], *, clock: Clock = utcnow,
                 policy: PublishPolicy = DEFAULT_POLICY, worker_id: str | None = None,
                 check: CharterCheck | None = charter_check, rng: random.Random | None = None,
                 hook: Hook | None = None) -> None:
        super().__init__(db, PostKind(connectors, check=check), clock=clock, policy=policy, worker_id=worker_id,
                         rng=rng, hook=hook)

    def acquire_lease(self) -> bool:
        """Take or renew the ``publisher`` lease; False if another live worker holds it."""
        return self.engine.acquire_lease()

    def release_lease(self) -> None:
        """Give the lease back (graceful stop) so that another worker can take over at once."""
        self.engine.release_lease()

    def tick(self) -> TickReport:
        """One pass: lease, reconcile orphaned claims, verify native hand-offs, publish everything due."""
        report = TickReport()
        report.leased = self.engine.run_pass({PostKind.name: report})
        return report

    def next_due(self) -> datetime | None:
        """When this publisher is next needed (wake-on-due), or None."""
        return self.engine.next_due()

    def connector_for(self, target: PostTarget) -> Connector | None:
        """The connector publishing on ``target.account``."""
        return self.kind.connector_for(target)

    def process(self, target: PostTarget, report: TickReport) -> None:
        """Look first if needed, then claim, call and record one due target."""
        self.engine.process(self.kind, target.id, report)
