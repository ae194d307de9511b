"""The outbox protocol's vocabulary (decision 0051): what a kind is (:class:`OutboxKind`), the rows the engine
sees (:class:`Item`, :class:`Claim`, :class:`Delivery`), how failures are classified, the ``publisher`` lease and
the outcomes kept in memory when their write failed. The engine that drives them: :mod:`services.outbox.engine`.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlite_utils import Database

from connectors.base import Connector
from core import audit
from core.clock import Clock
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
from services.publishing.content import PublishPolicy

log = logging.getLogger("parvis.outbox")

if TYPE_CHECKING:
    from services.outbox.engine import Engine
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


