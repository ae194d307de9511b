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
import os
import random
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from sqlite_utils import Database

from connectors.base import Connector
from core import audit
from core.clock import Clock, utcnow
from core.db import write_transaction
from core.errors import (
    AuthFailed,
    DatabaseBusy,
    PermanentFailure,
    RateLimited,
    Unsupported,
    ValidationError,
)
from core.models import Agent
from core.repo import leases as lease_repo
from services.publishing.content import DEFAULT_POLICY, PublishPolicy

log = logging.getLogger("parvis.outbox")
LEASE = "publisher"  # one lease for every worker-side send and reconciliation
SINCE_MARGIN = timedelta(minutes=5)  # clock skew between us and the platform, for lookups
LOOKUP_RETRY = timedelta(seconds=60)  # a lookup that could not tell is tried again after this
UNRECORDED_RETRY = timedelta(seconds=5)  # an outcome whose write failed is written again after this
NEVER = datetime.min.replace(tzinfo=UTC)
Hook = Callable[[str], None]


def _noop(_point: str) -> None:
    return None


def classify(err: BaseException) -> str:
    """``retry`` (not done, try later), ``permanent`` (not done, never retry) or ``ambiguous`` (may be done)."""
    if isinstance(err, RateLimited):
        return "retry"
    if isinstance(err, AuthFailed | PermanentFailure | Unsupported | ValidationError):
        return "permanent"
    return "ambiguous"  # timeouts, 5xx, unreadable answers, unknown errors: the effect may exist


def is_write_failure(err: BaseException) -> bool:
    """True for a write that failed because of the database's situation (locked past the busy timeout, disk full,
    I/O error), not because of what was written: worth writing again later."""
    return isinstance(err, DatabaseBusy | sqlite3.OperationalError)


def worker_identity() -> str:
    """A unique name for this worker process (host, pid, random suffix)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def acquire_publisher_lease(db: Database, worker_id: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the ``publisher`` lease (every worker-side send); False if another worker holds it."""
    with write_transaction(db):
        got = lease_repo.acquire(db, LEASE, worker_id, now=now, until=now + ttl)
        if got is not None and got["new"]:
            audit.record(db, audit.PublisherLeaseTaken(actor=audit.SYSTEM_WORKER, subject=f"lease:{LEASE}",
                                                       holder=worker_id, token=got["token"],
                                                       previous=got["previous"]), at=now)
    return got is not None


class Phase(StrEnum):
    """Where a row stands in the protocol, whatever its kind calls its states."""

    WAITING = "waiting"  # not claimed: the worker may claim it once due (needs_check: look first)
    CLAIMED = "claimed"  # claimed under a token: the call may be in flight, or its outcome is uncertain
    HANDED_OFF = "handed_off"  # given to the platform's own scheduler, verified after its time
    DONE = "done"
    FAILED = "failed"
    TO_VERIFY = "to_verify"
    OTHER = "other"  # not (or no longer) in the outbox: draft, cancelled...


class Verdict(StrEnum):
    """What a lookup on the platform said."""

    FOUND = "found"
    ABSENT = "absent"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """A kind's row seen by the engine."""

    key: int
    phase: Phase
    token: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    attempts: int
    not_before: datetime | None
    needs_check: bool
    by_person: bool  # claimed by a person (the console), not by the worker: never resent by itself
    payload: str | None  # what the lookup matches (the exact text sent; the action of a moderation act)
    platform_id: str | None
    error_code: str
    error: str
    since: datetime | None  # lookups search from here (None: cannot look)
    deadline: datetime  # automatic retries and lookups stop here
    row: Any = None  # the kind's own record


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A row claimed for one call: the token that must still hold when its outcome is recorded."""

    key: int
    token: str
    by: str
    connector: Any
    agent: Agent | None = None
    data: Any = None  # what the kind's call needs (text, mention, native option...)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one call ended: ``done``, ``failed``, ``retry``, ``check`` (to be looked up), ``to_verify``,
    ``superseded``, or ``unrecorded`` (the platform answered; writing the outcome failed and will be retried)."""

    outcome: str
    error: BaseException | None = None
    result: Any = None

    @property
    def recorded(self) -> bool:
        """False while the platform's answer is only in this process's memory."""
        return self.outcome != "unrecorded"


class OutboxKind:
    """How to claim, call, look up and record one sort of effect. Subclasses implement the rows and transitions;
    the engine (:attr:`engine`, set by :meth:`Engine.__init__`) calls them inside its write transactions.

    Every transition is conditional (``token``: the claim must still be this one; ``expect``: the row must still
    be in this phase) and returns whether the row matched; each writes its audit event.
    """

    name: ClassVar[str] = ""
    what: ClassVar[str] = "l'envoi"  # French noun phrase for messages ("la publication", "la réponse")
    absent_fail: ClassVar[str] = "rien n'est parti"  # after a person's call verified absent
    engine: Engine

    @property
    def db(self) -> Database:
        """The engine's database connection."""
        return self.engine.db

    @property
    def clock(self) -> Clock:
        """The engine's clock."""
        return self.engine.clock

    @property
    def policy(self) -> PublishPolicy:
        """The engine's timing policy."""
        return self.engine.policy

    @property
    def rng(self) -> random.Random:
        """The engine's jitter source."""
        return self.engine.rng

    # ---- rows -----------------------------------------------------------------------------------------------
    def get(self, key: int) -> Item:
        """The row ``key``."""
        raise NotImplementedError

    def claimed(self) -> list[Item]:
        """Rows in the CLAIMED phase (reconciliation candidates)."""
        return []

    def due(self, now: datetime, limit: int) -> list[int]:
        """Keys of WAITING rows the worker may claim now, oldest first."""
        return []

    def next_waiting(self, now: datetime) -> datetime | None:
        """When the earliest WAITING (or handed-off) row needs the worker, or None."""
        return None

    def reconcile_after(self, item: Item, at: datetime) -> datetime:
        """When a claimed row may be looked up (``at``: the generic rule); kinds may push it later."""
        return at

    def new_report(self) -> Any:
        """A fresh report for this kind's counts."""
        return Counts()

    # ---- the call -------------------------------------------------------------------------------------------
    def connector_for(self, item: Item) -> Connector | None:
        """The connector that calls (and looks up) for this row."""
        raise NotImplementedError

    def claim(self, key: int, report: Any) -> Claim | None:
        """The worker's claim of a due row (checks and conditional UPDATE under the lease, audited, in one
        transaction, calling ``engine.hook("claim_txn")`` inside it); None when it must not be sent now."""
        return None

    def call(self, claim: Claim) -> Any:
        """The platform call (outside any transaction); raises on failure."""
        raise NotImplementedError

    def delivered(self, claim: Claim, delivery: Delivery, report: Any) -> None:
        """After a worker's call was recorded (replies list each result)."""
        return

    def can_look_up(self, connector: Connector | None) -> bool:
        """Whether ``connector`` can tell if the effect exists."""
        return False

    def find(self, connector: Connector, item: Item) -> Any:
        """The effect on the platform (truthy), None when certainly absent; raises when it cannot tell."""
        raise NotImplementedError

    def attributed_elsewhere(self, item: Item, found: Any) -> str:
        """Why ``found`` cannot be this row's (already recorded for another row), or ""."""
        return ""

    def log_lookup(self, item: Item, purpose: str, verdict: Verdict, why: str, found: Any, now: datetime) -> None:
        """Keep a trace of a lookup (posts log it as an attempt)."""
        return

    def visible_from(self, claim: Claim) -> datetime | None:
        """Before this time a lookup cannot see the effect (a natively scheduled post)."""
        return None

    def before_due(self, report: Any) -> None:
        """Kind-specific work of a worker pass before the due rows are sent (native hand-offs)."""
        return

    # ---- outcomes (inside the engine's write transaction) ---------------------------------------------------
    def record_success(self, claim: Claim, result: Any, report: Any) -> bool:
        """The call succeeded: record it under the claim's token; False if the claim no longer holds."""
        return self.done(self.get(claim.key), result, via="api", token=claim.token, expect=Phase.CLAIMED,
                         report=report, agent=claim.agent)

    def superseded(self, claim: Claim, result: Any, report: Any) -> None:
        """The call succeeded after its claim was taken over: say so, never hide it."""
        raise NotImplementedError

    def done(self, item: Item, result: Any, *, via: str, report: Any, token: str | None = None,
             expect: Phase | None = None, agent: Agent | None = None) -> bool:
        """The effect exists on the platform (``via``: api, lookup, person...)."""
        raise NotImplementedError

    def fail(self, item: Item, code: str, error: str, *, report: Any, token: str | None = None,
             expect: Phase | None = None, agent: Agent | None = None) -> bool:
        """Certainly not done: failed with the reason."""
        raise NotImplementedError

    def again(self, item: Item, code: str, error: str, at: datetime, *, check: bool, report: Any,
              token: str | None = None, expect: Phase | None = None) -> bool:
        """Not done yet: try again at ``at`` (``check``: look on the platform first, the outcome was uncertain)."""
        raise NotImplementedError

    def clear_check(self, item: Item) -> None:
        """A WAITING row looked up and certainly absent: it may be claimed now."""
        raise NotImplementedError

    def look_later(self, item: Item, at: datetime, *, token: str | None = None) -> bool:
        """A lookup could not tell: look again at ``at``."""
        raise NotImplementedError

    def to_verify(self, item: Item, reason: str, *, report: Any, token: str | None = None,
                  expect: Phase | None = None) -> bool:
        """Nobody can tell: a person checks (« à vérifier »); never retried by itself."""
        raise NotImplementedError


@dataclass(slots=True)
class Counts:
    """A kind's report when it keeps no counts of its own."""

    reconciled: int = 0


# ---- outcomes not written yet (write failed): kept per database, retried by the next pass or action ----------

@dataclass(frozen=True, slots=True)
class Unrecorded:
    """The platform answered, the write of that answer failed: what to write again."""

    kind: str
    claim: Claim
    result: Any
    error: BaseException | None
    answered_at: datetime


class _Unrecorded:
    """Per database file, the outcomes of this process that are still to be written (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, dict[tuple[str, int, str], Unrecorded]] = {}

    def keep(self, db_key: str, entry: Unrecorded) -> None:
        with self._lock:
            self._items.setdefault(db_key, {})[(entry.kind, entry.claim.key, entry.claim.token)] = entry

    def pending(self, db_key: str) -> list[Unrecorded]:
        with self._lock:
            return list(self._items.get(db_key, {}).values())

    def has(self, db_key: str, kind: str, key: int, token: str | None) -> bool:
        with self._lock:
            return token is not None and (kind, key, token) in self._items.get(db_key, {})

    def drop(self, db_key: str, entry: Unrecorded) -> None:
        with self._lock:
            self._items.get(db_key, {}).pop((entry.kind, entry.claim.key, entry.claim.token), None)

    def clear(self) -> None:
        """Forget everything (tests: the process died)."""
        with self._lock:
            self._items.clear()


UNRECORDED = _Unrecorded()


def db_key(db: Database) -> str:
    """Which database a connection is on (the file; an in-memory database is its own connection)."""
    for _seq, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(path) if path else f"memory:{id(db.conn)}"
    return f"memory:{id(db.conn)}"


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


def new_token() -> str:
    """A fresh claim token."""
    return uuid.uuid4().hex
