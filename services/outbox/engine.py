"""The one outbox protocol, shared by every effect Parvis has on the outside world (decision 0051).

1. **Intent before the call.** The kind's row is claimed (posts, replies) or written (a person's moderation act)
   with a new claim token and its audit event, in one write transaction, before anything is sent.
2. **The call** happens outside any transaction (it would hold SQLite's write lock for an HTTP call).
3. **The outcome** is recorded in one write transaction, only if the token still holds; a claim taken over in
   the meantime is *superseded*: audited, and sent to a person where it may be a duplicate. If that write fails
   (database locked past the busy timeout during a bulk import, disk full), the platform's answer is kept in
   memory and written by this process's next pass or action (:func:`Engine.flush_unrecorded`); the caller is told
   "sent, being recorded", never "nothing changed".
4. **Uncertainty is resolved by looking**: a failure is classified (rate limited and permanent: certainly not
   done; anything else: ambiguous); an ambiguous outcome, and a claim left by a process that stopped (older than
   ``stale_after``), are looked up on the platform through the kind's optional lookup before anything is sent
   again; if nobody can tell, the row goes « à vérifier » for a person.

A *kind* (:class:`OutboxKind`: posts, replies, moderation acts; later e-mails and webhooks) says how to claim,
call, look up and record one sort of effect. The engine holds the rest: classification, retries with backoff
until the deadline, lookups, reconciliation, superseded claims, unrecorded outcomes, the ``publisher`` lease, and
when the worker is next needed (:meth:`Engine.next_due`, for wake-on-due).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlite_utils import Database

from core.clock import Clock, utcnow
from core.db import write_transaction
from core.repo import leases as lease_repo
from services.outbox.protocol import (  # the vocabulary, re-exported: kinds import it from here
    LEASE,
    LOOKUP_RETRY,
    NEVER,
    SINCE_MARGIN,
    UNRECORDED,
    UNRECORDED_RETRY,
    Claim,
    Counts,
    Delivery,
    Hook,
    Item,
    OutboxKind,
    Phase,
    Unrecorded,
    Verdict,
    _noop,
    acquire_publisher_lease,
    classify,
    db_key,
    is_write_failure,
    worker_identity,
)
from services.publishing.content import DEFAULT_POLICY, PublishPolicy

__all__ = ["LEASE", "LOOKUP_RETRY", "NEVER", "SINCE_MARGIN", "UNRECORDED", "UNRECORDED_RETRY", "Claim", "Counts",
           "Delivery", "Engine", "Hook", "OneKindWorker", "Item", "OutboxKind", "Phase", "Unrecorded", "Verdict",
           "acquire_publisher_lease", "classify", "db_key", "is_write_failure", "new_token", "worker_identity"]

log = logging.getLogger("parvis.outbox")


class Engine:
    """Runs the protocol for the given kinds on one database connection (one per process and worker)."""

    def __init__(self, db: Database, kinds: Iterable[OutboxKind], *, clock: Clock = utcnow,
                 policy: PublishPolicy = DEFAULT_POLICY, worker_id: str | None = None,
                 rng: random.Random | None = None, hook: Hook | None = None) -> None:
        self.db, self.clock, self.policy = db, clock, policy
        self.worker_id = worker_id or worker_identity()
        self.rng = rng or random.Random()
        self.hook: Hook = hook or _noop
        self.kinds: dict[str, OutboxKind] = {}
        for kind in kinds:
            kind.engine = self
            self.kinds[kind.name] = kind
        self.lease_lost = False
        self._db_key: str | None = None

    @property
    def key(self) -> str:
        """:func:`db_key` of this engine's database."""
        if self._db_key is None:
            self._db_key = db_key(self.db)
        return self._db_key

    # ---- lease ----------------------------------------------------------------------------------------------

    def acquire_lease(self) -> bool:
        """Take or renew the ``publisher`` lease; False if another live worker holds it."""
        got = acquire_publisher_lease(self.db, self.worker_id, now=self.clock(), ttl=self.policy.lease_ttl)
        self.lease_lost = not got
        return got

    def release_lease(self) -> None:
        """Give the lease back (graceful stop) so that another worker can take over at once."""
        with write_transaction(self.db):
            lease_repo.release(self.db, LEASE, self.worker_id, now=self.clock())

    def check_lease(self) -> None:
        """After a refused claim: note whether it was because the lease is lost."""
        self.lease_lost = lease_repo.holder(self.db, LEASE, now=self.clock()) != self.worker_id

    # ---- the worker's pass ----------------------------------------------------------------------------------

    def run_pass(self, reports: dict[str, Any]) -> bool:
        """Lease, outcomes left unwritten, reconciliation, kind-specific work, then every due row; False when
        another worker holds the lease (nothing done)."""
        if not self.acquire_lease():
            return False
        self.flush_unrecorded()
        for kind in self.kinds.values():
            self.reconcile(kind, reports[kind.name])
        for kind in self.kinds.values():
            kind.before_due(reports[kind.name])
        for kind in self.kinds.values():
            self.send_due(kind, reports[kind.name])
        return True

    def send_due(self, kind: OutboxKind, report: Any) -> None:
        """Claim, call and record every due row of ``kind`` until none is left or the lease is lost."""
        seen: set[int] = set()
        while not self.lease_lost:
            due = [k for k in kind.due(self.clock(), self.policy.batch) if k not in seen]
            if not due:
                break
            for key in due:
                seen.add(key)
                self.process(kind, key, report)
                if self.lease_lost:
                    break

    def process(self, kind: OutboxKind, key: int, report: Any) -> Delivery | None:
        """Look first if needed, then claim, call and record one due row."""
        item = kind.get(key)
        if item.phase is Phase.WAITING and item.needs_check and not self.check_first(kind, item, report):
            return None
        claim = kind.claim(key, report)
        if claim is None:
            return None
        delivery = self.deliver(kind, claim, report)
        kind.delivered(claim, delivery, report)
        return delivery

    # ---- call and record ------------------------------------------------------------------------------------

    def deliver(self, kind: OutboxKind, claim: Claim, report: Any = None) -> Delivery:
        """Call the platform for a claimed row (outside any transaction) and record what happened."""
        report = report if report is not None else kind.new_report()
        self.hook("claimed")
        try:
            result = kind.call(claim)
        except Exception as err:  # noqa: BLE001 - every platform failure is classified and recorded
            self.hook("called")
            return Delivery(self._record(kind, claim, None, err, report), err)
        self.hook("called")
        outcome = self._record(kind, claim, result, None, report)
        self.hook("recorded")
        return Delivery(outcome, None, result)

    def _record(self, kind: OutboxKind, claim: Claim, result: Any, err: BaseException | None, report: Any) -> str:
        answered_at = self.clock()
        try:
            return self._write_outcome(kind, claim, result, err, report)
        except Exception as failure:
            if not is_write_failure(failure):
                raise
            UNRECORDED.keep(self.key, Unrecorded(kind.name, claim, result, err, answered_at))
            log.error("%s %s: the platform answered (%s) but the outcome could not be written (%s); kept in "
                      "memory, written again at the next pass or action", kind.name, claim.key,
                      "error" if err else "success", failure)
            return "unrecorded"

    def _write_outcome(self, kind: OutboxKind, claim: Claim, result: Any, err: BaseException | None,
                       report: Any) -> str:
        with write_transaction(self.db):
            if err is None:
                if kind.record_success(claim, result, report):
                    outcome = "done"
                else:
                    kind.superseded(claim, result, report)
                    outcome = "superseded"
            else:
                outcome = self._failure(kind, claim, err, report)
            self.hook("record_txn")
        return outcome

    def _failure(self, kind: OutboxKind, claim: Claim, err: BaseException, report: Any) -> str:
        item = kind.get(claim.key)
        if item.phase is not Phase.CLAIMED or item.token != claim.token:
            return "superseded"
        cls = classify(err)
        code = str(getattr(err, "code", "") or type(err).__name__)
        message = (str(err) or type(err).__name__)[:500]
        if cls == "permanent" or (cls == "retry" and item.by_person):
            kind.fail(item, code, message, report=report, token=claim.token, agent=claim.agent)
            return "failed"
        if cls == "retry":
            return self.retry(kind, item, code, message, report, token=claim.token,
                              reset_at=getattr(err, "reset_at", None))
        if kind.can_look_up(claim.connector):
            now = self.clock()
            at = now + self.policy.backoff(max(1, item.attempts), self.rng)
            visible = kind.visible_from(claim)
            if visible is not None:
                at = max(at, visible)
            at = min(at, max(item.deadline, now))  # one last look at the deadline at the latest
            kind.again(item, code, message, at, check=True, report=report, token=claim.token)
            return "check"
        kind.to_verify(item, f"Réponse incertaine de la plateforme ({message}) et recherche automatique "
                       "impossible : vérifier sur le compte.", report=report, token=claim.token)
        return "to_verify"

    def retry(self, kind: OutboxKind, item: Item, code: str, error: str, report: Any, *, token: str | None = None,
              reset_at: float | None = None, delay: timedelta | None = None) -> str:
        """Certainly not done: again after a backoff with jitter (not before the platform's reset time), or
        failed once past the deadline; ``retry`` or ``failed``."""
        now = self.clock()
        at = now + (delay if delay is not None else self.policy.backoff(max(1, item.attempts), self.rng))
        if reset_at is not None:
            at = max(at, datetime.fromtimestamp(reset_at, now.tzinfo))
        if at > item.deadline:
            kind.fail(item, code, f"Délai dépassé après {item.attempts} tentative(s) : {error}", report=report,
                      token=token)
            return "failed"
        kind.again(item, code, error, at, check=False, report=report, token=token)
        return "retry"

    def flush_unrecorded(self) -> int:
        """Write the outcomes this process could not write before (its next pass or action); how many."""
        written = 0
        for entry in UNRECORDED.pending(self.key):
            kind = self.kinds.get(entry.kind)
            if kind is None:
                continue
            try:
                outcome = self._write_outcome(kind, entry.claim, entry.result, entry.error, kind.new_report())
            except Exception as failure:
                if not is_write_failure(failure):
                    raise
                log.warning("outcome of %s %s still not written: %s", entry.kind, entry.claim.key, failure)
                break
            UNRECORDED.drop(self.key, entry)
            written += 1
            log.info("%s %s: outcome written %s late (%s)", entry.kind, entry.claim.key,
                     self.clock() - entry.answered_at, outcome)
        return written

    # ---- looking on the platform ----------------------------------------------------------------------------

    def look_up(self, kind: OutboxKind, item: Item, purpose: str) -> tuple[Verdict, Any, str]:
        """``(FOUND, effect, "")``, ``(ABSENT, None, "")`` or ``(UNKNOWN, None, why)``."""
        connector = kind.connector_for(item)
        if connector is None or not kind.can_look_up(connector) or item.since is None or not item.payload:
            return Verdict.UNKNOWN, None, "recherche automatique impossible sur ce compte"
        now = self.clock()
        found: Any = None
        try:
            found = kind.find(connector, item)
        except Exception as err:  # noqa: BLE001 - a failed lookup is an answer: "cannot tell"
            verdict, why = Verdict.UNKNOWN, f"recherche impossible : {err or type(err).__name__}"
            found = None
        else:
            why = kind.attributed_elsewhere(item, found) if found is not None else ""
            verdict = Verdict.ABSENT if found is None else Verdict.UNKNOWN if why else Verdict.FOUND
            if why:
                found = None
        self.hook("looked_up")
        kind.log_lookup(item, purpose, verdict, why, found, now)
        return verdict, found, why

    def reconcile_at(self, kind: OutboxKind, item: Item) -> datetime:
        """When a claimed row is looked up: at its next check time after an uncertain answer; at once for our own
        claims (we crashed) and claims from before claims were recorded; else once stale (a live call elsewhere
        is never mistaken for an orphan)."""
        if item.needs_check:
            return item.not_before or NEVER
        if item.claimed_by == self.worker_id or item.claimed_at is None:
            at = NEVER
        else:
            at = item.claimed_at + self.policy.stale_after
        return kind.reconcile_after(item, at)

    def reconcile(self, kind: OutboxKind, report: Any) -> None:
        """Claimed rows whose call stopped or whose outcome was uncertain: found -> done; absent -> again (or
        failed for a person's call); cannot tell -> looked for again until the deadline, then a person."""
        now = self.clock()
        for item in kind.claimed():
            if UNRECORDED.has(self.key, kind.name, item.key, item.token):
                continue  # our own call: its answer is known, only its write is pending
            if self.reconcile_at(kind, item) > now:
                continue
            verdict, found, why = self.look_up(kind, item, "reconcile")
            with write_transaction(self.db):
                current = kind.get(item.key)
                if current.phase is not Phase.CLAIMED or current.token != item.token:
                    continue
                self.settle(kind, current, verdict, found, why, report)
                self.hook("reconcile_txn")
            report.reconciled += 1

    def check_first(self, kind: OutboxKind, item: Item, report: Any) -> bool:
        """A WAITING row whose last answer was uncertain: look before calling again; True if it may go now."""
        verdict, found, why = self.look_up(kind, item, "check")
        with write_transaction(self.db):
            current = kind.get(item.key)
            if current.phase is not Phase.WAITING or not current.needs_check:
                return False
            return self.settle(kind, current, verdict, found, why, report)

    def settle(self, kind: OutboxKind, item: Item, verdict: Verdict, found: Any, why: str, report: Any) -> bool:
        """Record what a lookup said about a claimed or waiting row (in the caller's write transaction); True
        when a waiting row may be claimed now."""
        now = self.clock()
        token = item.token if item.phase is Phase.CLAIMED else None
        past = now > item.deadline
        if verdict is Verdict.FOUND:
            kind.done(item, found, via="lookup", report=report, token=token, expect=item.phase)
            return False
        if verdict is Verdict.ABSENT:
            if past:
                kind.fail(item, item.error_code or "deadline", f"Délai dépassé ; {kind.what} n'est pas sur la "
                          f"plateforme (vérifié). Dernière erreur : {item.error or 'envoi interrompu'}",
                          report=report, token=token, expect=item.phase)
            elif item.by_person:
                kind.fail(item, item.error_code or "interrupted", f"Envoi interrompu ou incertain ; {kind.what} "
                          f"n'est pas sur la plateforme (vérifié) : {kind.absent_fail}.", report=report, token=token,
                          expect=item.phase)
            elif item.phase is Phase.WAITING:
                kind.clear_check(item)
                return True
            else:
                kind.again(item, item.error_code or "interrupted", f"Envoi interrompu ou incertain ; {kind.what} "
                           "n'est pas sur la plateforme (vérifié) : nouvel essai.", now, check=False, report=report,
                           token=token, expect=item.phase)
            return False
        if past or not kind.can_look_up(kind.connector_for(item)):
            reason = (f"Réponse incertaine de la plateforme ({item.error}) ; {why}." if item.phase is Phase.WAITING
                      else f"Envoi interrompu ou incertain ; {why}.")
            kind.to_verify(item, reason, report=report, token=token, expect=item.phase)
        else:
            kind.look_later(item, min(now + LOOKUP_RETRY, item.deadline), token=token)
        return False

    # ---- wake-on-due ----------------------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        """When the worker is next needed by these kinds: the earliest due row, next retry or check, claim
        becoming stale, or outcome to write again; None when nothing waits on the worker."""
        now = self.clock()
        times: list[datetime] = []
        for kind in self.kinds.values():
            waiting = kind.next_waiting(now)
            if waiting is not None:
                times.append(waiting)
            for item in kind.claimed():
                if not UNRECORDED.has(self.key, kind.name, item.key, item.token):
                    times.append(self.reconcile_at(kind, item))
        if UNRECORDED.pending(self.key):
            times.append(now + UNRECORDED_RETRY)
        return min(times) if times else None


K = TypeVar("K", bound=OutboxKind)


class OneKindWorker(Generic[K]):
    """The engine driving one kind alone: the API that :class:`services.publishing.posts.Publisher` and
    :class:`services.publishing.reply_outbox.ReplyWorker` keep for their callers and tests."""

    def __init__(self, db: Database, kind: K, *, clock: Clock = utcnow, policy: PublishPolicy = DEFAULT_POLICY,
                 worker_id: str | None = None, rng: random.Random | None = None, hook: Hook | None = None) -> None:
        self.kind = kind
        self.engine = Engine(db, [kind], clock=clock, policy=policy, worker_id=worker_id, rng=rng, hook=hook)
        self.db, self.clock, self.policy = db, clock, policy
        self.worker_id = self.engine.worker_id

    @property
    def _lease_lost(self) -> bool:
        return self.engine.lease_lost

    @_lease_lost.setter
    def _lease_lost(self, value: bool) -> None:
        self.engine.lease_lost = value


def new_token() -> str:
    """A fresh claim token."""
    return uuid.uuid4().hex
