"""The publishing worker's outbox state machine: each approved post goes out once per account, at its time.

Per target (one account of a post) and per tick (docs/publishing.md, decision 0050):
1. the worker holds the ``publisher`` lease (a row in SQLite), or does nothing: two workers never both publish;
2. claims left ``publishing`` by a crashed worker are reconciled against the platform first
   (:mod:`services.publishing.reconcile`);
3. a due target is checked (approved content unchanged, not later than the grace period, charter at publish
   time) and **claimed** (``pending`` -> ``publishing``, one conditional UPDATE, committed) before any call;
4. the platform is called outside any transaction; its id and permalink are recorded after it, conditionally
   on the claim token;
5. a failure is classified: rate limited -> retry with exponential backoff and jitter until the deadline;
   permanent (4xx, revoked token, charter) -> failed at once with the reason; ambiguous (timeout, 5xx,
   unreadable answer: the post may exist) -> look on the platform before any new call, or "à vérifier".
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlite_utils import Database

from connectors.base import Capability, Connector
from core import audit
from core.clock import Clock, utcnow
from core.db import write_transaction
from core.errors import AuthFailed, ParvisError, PermanentFailure, RateLimited, Unsupported, ValidationError
from core.models import DraftState, Post, PostTarget, Published, TargetState
from core.repo import leases as lease_repo
from core.repo import posts as posts_repo
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

log = logging.getLogger("parvis.publishing")
LEASE = "publisher"
SLOW_RETRY = timedelta(seconds=60)  # configuration problems (no connector, charter unreadable)
T = TargetState
Hook = Callable[[str], None]


def classify(err: BaseException) -> str:
    """``retry`` (not published, try later), ``permanent`` (not published, never retry) or ``ambiguous``."""
    if isinstance(err, RateLimited):
        return "retry"
    if isinstance(err, AuthFailed | PermanentFailure | Unsupported | ValidationError):
        return "permanent"
    return "ambiguous"  # timeouts, 5xx, unreadable answers, unknown errors: the post may exist


def acquire_publisher_lease(db: Database, worker_id: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the ``publisher`` lease (posts and scheduled replies); False if another worker holds it."""
    with write_transaction(db):
        got = lease_repo.acquire(db, LEASE, worker_id, now=now, until=now + ttl)
        if got is not None and got["new"]:
            audit.record(db, audit.PublisherLeaseTaken(actor=audit.SYSTEM_WORKER, subject=f"lease:{LEASE}",
                                                       holder=worker_id, token=got["token"],
                                                       previous=got["previous"]), at=now)
    return got is not None


def worker_identity() -> str:
    """A unique name for this worker process (host, pid, random suffix)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Publisher(OutcomeRecorder):
    """Publishes due posts through ``connectors`` (keyed by account name); one instance per worker process."""

    def __init__(self, db: Database, connectors: Mapping[str, Connector], *, clock: Clock = utcnow,
                 policy: PublishPolicy = DEFAULT_POLICY, worker_id: str | None = None,
                 check: CharterCheck | None = charter_check, rng: random.Random | None = None,
                 hook: Hook | None = None) -> None:
        self.db, self.connectors, self.clock, self.policy = db, dict(connectors), clock, policy
        self.worker_id = worker_id or worker_identity()
        self.check, self.rng = check, rng or random.Random()
        self.hook: Hook = hook or (lambda _point: None)
        self._lease_lost = False

    # ---- lease --------------------------------------------------------------------------------------------

    def acquire_lease(self) -> bool:
        """Take or renew the ``publisher`` lease; False if another live worker holds it."""
        got = acquire_publisher_lease(self.db, self.worker_id, now=self.clock(), ttl=self.policy.lease_ttl)
        self._lease_lost = not got
        return got

    def release_lease(self) -> None:
        """Give the lease back (graceful stop) so that another worker can take over at once."""
        with write_transaction(self.db):
            lease_repo.release(self.db, LEASE, self.worker_id, now=self.clock())

    # ---- the tick -----------------------------------------------------------------------------------------

    def tick(self) -> TickReport:
        """One pass: lease, reconcile orphaned claims, verify native hand-offs, publish everything due."""
        from services.publishing.reconcile import reconcile, verify_handed_off

        report = TickReport()
        if not self.acquire_lease():
            report.leased = False
            return report
        reconcile(self, report)
        verify_handed_off(self, report)
        seen: set[int] = set()
        while not self._lease_lost:
            due = [t for t in posts_repo.due_targets(self.db, now=self.clock(), states=[T.PENDING],
                                                     limit=self.policy.batch) if t.id not in seen]
            if not due:
                break
            for target in due:
                seen.add(target.id)
                self.process(target, report)
                if self._lease_lost:
                    break
        return report

    def connector_for(self, target: PostTarget) -> Connector | None:
        """The connector publishing on ``target.account``."""
        return self.connectors.get(target.account)

    def process(self, target: PostTarget, report: TickReport) -> None:
        """Look first if needed, then claim, call and record one due target."""
        from services.publishing.reconcile import check_before_retry

        if target.needs_check and not check_before_retry(self, target, report):
            return
        claim = self._claim(target.id, report)
        if claim is None:
            return
        post, target, text, native, token = claim
        self.hook("claimed")
        connector = self.connector_for(target)
        assert connector is not None
        try:
            published = connector.publish(text, scheduled_at=post.scheduled_at if native else None,
                                          media=post.media)
        except Exception as err:  # noqa: BLE001 - every platform failure is classified and recorded
            self.hook("called")
            self._record_failure(post, target, token, err, native, report)
            return
        self.hook("called")
        self._record_success(post, target, token, text, native, published, report)
        self.hook("recorded")

    # ---- claim --------------------------------------------------------------------------------------------

    def _claim(self, target_id: int, report: TickReport) -> tuple[Post, PostTarget, str, bool, str] | None:
        """Check and claim a due target in one transaction; None when it must not be sent now."""
        now = self.clock()
        with write_transaction(self.db):
            target = posts_repo.get_target(self.db, target_id)
            post = posts_repo.get_post(self.db, target.post_id)
            if target.state is not T.PENDING or target.not_before is None or target.not_before > now:
                return None
            if post.state not in RELEASED:
                return None
            if post.approved_at is None or post.approved_hash != hash_of(post):
                self.fail(post, target, "not_approved", "Contenu modifié depuis sa validation : rien n'a été "
                          "publié ; la publication doit être validée à nouveau.", now, report)
                return None
            untouched = all(t.attempts == 0 for t in post.targets if t.state is not T.CANCELLED)
            due = target.due_at or post.scheduled_at
            if untouched and now > due + self.policy.grace:
                self._hold(post, now, report)
                return None
            if now > self.policy.deadline(target, post):
                self.fail(post, target, "deadline", "Délai de nouvelle tentative dépassé : rien n'a été publié.",
                          now, report)
                return None
            connector = self.connector_for(target)
            if connector is None:
                self.retry(post, target, "no_connector", f"Compte « {target.account} » non connecté.", now, report,
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
                    self.retry(post, target, "charter_unavailable", f"Contrôle de la charte impossible : {err}",
                               now, report, delay=SLOW_RETRY)
                    return None
                if blocking:
                    self.fail(post, target, "charter_blocked", "Bloquée par la charte au moment de publier : "
                              + " ; ".join(blocking), now, report)
                    return None
            token = uuid.uuid4().hex
            if not posts_repo.claim_target(self.db, target.id, token=token, worker=self.worker_id, now=now,
                                           sent_text=text, lease=LEASE, lease_until=now + self.policy.lease_ttl):
                self._lease_lost = lease_repo.holder(self.db, LEASE, now=now) != self.worker_id
                return None
            posts_repo.insert_attempt(self.db, target_id=target.id, post_id=post.id, attempt=target.attempts + 1,
                                      kind="native_schedule" if native else "publish", worker=self.worker_id, now=now)
            refresh_state(self.db, post.id, now=now)
            audit.record(self.db, audit.PostPublishing(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}",
                                                       post_id=post.id, account=target.account,
                                                       attempt=target.attempts + 1, worker=self.worker_id,
                                                       text=text, native=native), at=now)
            self.hook("claim_txn")
        return post, posts_repo.get_target(self.db, target.id), text, native, token

    def _hold(self, post: Post, now: datetime, report: TickReport) -> None:
        """Too late (worker down past the grace period): the post waits for a person to choose a new time."""
        posts_repo.update_post(self.db, post.id, state=DraftState.APPROVED, hold_reason="late", now=now)
        posts_repo.update_post_targets(self.db, post.id, states=[T.PENDING], now=now, not_before=None)
        audit.record(self.db, audit.PostHeld(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}", post_id=post.id,
                                             reason="late", scheduled_at=post.scheduled_at), at=now)
        report.held += 1
        log.warning("post %s held: %s past its time, beyond the grace period", post.id, now - post.scheduled_at)

    def _record_success(self, post: Post, target: PostTarget, token: str, text: str, native: bool,
                        published: Published, report: TickReport) -> None:
        now = self.clock()
        with write_transaction(self.db):
            if native:
                ok = posts_repo.update_target(self.db, target.id, now=now, expect_token=token,
                                              expect_state=T.PUBLISHING, state=T.HANDED_OFF,
                                              platform_id=published.platform_id, permalink=published.permalink,
                                              not_before=post.scheduled_at + self.policy.verify_after)
                if ok:
                    posts_repo.finish_attempts(self.db, target.id, outcome="handed_off", now=now,
                                               platform_id=published.platform_id)
                    refresh_state(self.db, post.id, now=now)
                    audit.record(self.db, audit.PostHandedOff(
                        actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}", post_id=post.id, account=target.account,
                        platform=str(target.platform), text=text, platform_id=published.platform_id,
                        scheduled_at=post.scheduled_at), at=now)
                    report.handed_off += 1
            else:
                ok = self.sent(post, target, published, text, now, report, token=token, expect=T.PUBLISHING)
            if not ok:
                self._superseded(post, target, published, text, now, report)
            self.hook("record_txn")

    def _superseded(self, post: Post, target: PostTarget, published: Published, text: str, now: datetime,
                    report: TickReport) -> None:
        """Our claim was taken over while the call ran (longer than the stale delay): say so, never hide it."""
        current = posts_repo.get_target(self.db, target.id)
        audit.record(self.db, audit.PostPublished(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}",
                                                  post_id=post.id, account=target.account,
                                                  platform=str(target.platform), text=text,
                                                  platform_id=published.platform_id, permalink=published.permalink,
                                                  attempt=target.attempts, via="api-after-takeover"), at=now)
        if current.state is T.SENT and current.platform_id == published.platform_id:
            return
        self.to_verify(post, current, f"Publié ({published.platform_id}) après la reprise de l'envoi par un autre "
                       "worker : vérifier qu'il n'y a pas de doublon.", now, report)

    def _record_failure(self, post: Post, target: PostTarget, token: str, err: Exception, native: bool,
                        report: TickReport) -> None:
        from services.publishing.reconcile import can_look_up

        now = self.clock()
        kind = classify(err)
        code = getattr(err, "code", type(err).__name__)
        message = str(err) or type(err).__name__
        with write_transaction(self.db):
            if kind == "permanent":
                self.fail(post, target, code, message, now, report, token=token)
            elif kind == "retry":
                self.retry(post, target, code, message, now, report, token=token,
                           reset_at=getattr(err, "reset_at", None))
            elif can_look_up(self.connector_for(target)):
                self.retry(post, target, code, message, now, report, token=token, check_first=True,
                           not_visible_before=post.scheduled_at + self.policy.verify_after if native else None)
            else:
                self.to_verify(post, target, f"Réponse incertaine de la plateforme ({message}) et recherche "
                               "automatique impossible : vérifier sur le compte.", now, report, token=token)
            self.hook("record_txn")
