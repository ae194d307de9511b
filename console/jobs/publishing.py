"""The worker's outbox job: posts, scheduled replies and moderation acts (services/outbox/runner.py), run when the
next item is due (wake-on-due, decision 0051) and at least every ``PARVIS_PUBLISH_TICK_S`` seconds (default 60),
plus the materialisation of recurring posts. ``console.worker.jobs`` lists one :class:`OutboxJob`; call
:func:`release` after the loop stops so that another worker can take over without waiting for the lease.

How the worker knows when to run it (:meth:`OutboxJob.seconds_until_due`, the job's ``due`` in
``console.worker.jobs``, asked by ``console.worker.run`` at each turn of its loop, at least once a second): after
each pass the job computes the next wake time (the earliest
due post or reply, retry, lookup, or claim becoming stale, at most ``PARVIS_PUBLISH_TICK_S`` away); when another
connection commits to the database (``PRAGMA data_version`` changed: the console approved a post, scheduled a
reply...), it computes it again, a handful of indexed queries. Nothing is run while nothing is due.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlite_utils import Database

from connectors import registry
from connectors.base import Connector
from core import repo
from core.clock import Clock
from core.config import Settings
from core.db import open_db
from core.errors import NotFoundError, ParvisError
from core.models import Draft, Mention
from services.connections import assembly
from services.editorial import recurrence
from services.outbox.engine import worker_identity
from services.outbox.runner import Runner, kinds
from services.publishing.content import PublishPolicy

log = logging.getLogger("parvis.worker.publish")
JOB_NAME = "publish"
WORKER_ID = worker_identity()  # one identity per process: the lease holder's name
_CONNECTORS: dict[str, Connector] = {}
RETRY_AFTER_ERROR = timedelta(seconds=5)


def _connectors(settings: Settings) -> dict[str, Connector]:
    if not _CONNECTORS:
        _CONNECTORS.update({c.name: c for c in registry.build_enabled(settings)})
    return _CONNECTORS


def _clock_from(now: datetime) -> Clock:
    """A clock that starts at the worker's ``now`` (a fake clock in tests) and runs at real speed."""
    start = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - start)


def max_sleep(settings: Settings) -> timedelta:
    """``PARVIS_PUBLISH_TICK_S``: the longest the outbox sleeps between two passes."""
    return timedelta(seconds=max(1, settings.publish.tick_s))


def build_runner(db: Database, settings: Settings, clock: Clock, *,
                 connectors: Mapping[str, Connector] | None = None) -> Runner:
    """The worker's runner on ``db``: posts through the enabled connectors, replies and moderation acts through the
    connector of their mention (demo data goes to the sandbox)."""
    def for_mention(mention: Mention) -> Connector | None:
        try:
            return assembly.connector_for(settings, mention)
        except ParvisError:  # not configured: nothing can be sent or looked up there
            return None

    def for_draft(draft: Draft) -> Connector | None:
        try:
            mention = repo.get_item(db, draft.mention_uid or "").mention
        except NotFoundError:  # purged meanwhile: nothing to reply to or look under
            return None
        return for_mention(mention)

    posts = connectors if connectors is not None else _connectors(settings)
    return Runner(db, kinds(posts, for_draft, for_mention, settings=settings), clock=clock,
                  policy=PublishPolicy.from_settings(settings),
                  worker_id=WORKER_ID, max_sleep=max_sleep(settings))


class OutboxJob:
    """The outbox pass as a worker job (``job(settings, now)``) that also says when it is next due."""

    def __init__(self, settings: Settings, *, connectors: Mapping[str, Connector] | None = None) -> None:
        self.settings, self.connectors = settings, connectors
        self._db: Database | None = None
        self._version: int | None = None
        self._wake: datetime | None = None  # None: at the next turn of the loop
        self._materialized_at: datetime | None = None
        self.passes = 0  # passes run (counters for ``bench idle``)
        self.checks = 0  # wake checks (``seconds_until_due``)
        self.cpu_s = 0.0  # CPU time of this thread spent in passes and wake checks

    def _conn(self) -> Database:
        if self._db is None:
            self._db = open_db(self.settings.db_path)
        return self._db

    def __call__(self, settings: Settings, now: datetime) -> dict[str, int | bool]:
        return self.run(now)

    def run(self, now: datetime) -> dict[str, int | bool]:
        """One pass now; returns its counts."""
        started = time.thread_time()
        try:
            return self._run(now)
        finally:
            self.cpu_s += time.thread_time() - started

    def _run(self, now: datetime) -> dict[str, int | bool]:
        self._wake = now + RETRY_AFTER_ERROR  # if this pass fails (database locked...), try again soon, not at once
        db = self._conn()
        clock = _clock_from(now)
        runner = build_runner(db, self.settings, clock, connectors=self.connectors)
        self._version = self._data_version(db)  # what this pass sees; later commits elsewhere wake it again
        report = runner.run_pass()
        self.passes += 1
        if report.leased and (self._materialized_at is None or
                              clock() - self._materialized_at >= runner.max_sleep):
            horizon = timedelta(days=self.settings.publish.recurrence_horizon_days)
            recurrence.materialize(db, now=clock(), horizon=horizon, policy=runner.engine.policy)
            self._materialized_at = clock()
        self._wake = runner.next_wake(report)
        counts = report.as_dict()
        if report.progressed:
            log.info("outbox pass: %s", {k: v for k, v in counts.items() if v})
        elif not report.leased:
            log.debug("outbox pass skipped: another worker holds the publisher lease")
        return counts

    @staticmethod
    def _data_version(db: Database) -> int:
        return int(db.execute("PRAGMA data_version").fetchone()[0])

    def seconds_until_due(self, now: datetime) -> float:
        """Seconds until the next pass is due (0: now). Cheap: reads ``PRAGMA data_version`` and, only when another
        connection committed since, computes the next due time again."""
        if self._wake is None:
            return 0.0
        started = time.thread_time()
        self.checks += 1
        try:
            db = self._conn()
            version = self._data_version(db)
            if version != self._version:
                self._version = version
                runner = build_runner(db, self.settings, _clock_from(now), connectors=self.connectors)
                self._wake = min(self._wake, runner.next_wake())
            return max(0.0, (self._wake - now).total_seconds())
        finally:
            self.cpu_s += time.thread_time() - started

    def close(self) -> None:
        """Close the job's connection."""
        if self._db is not None:
            self._db.close()
            self._db = None


def publish_once(settings: Settings, now: datetime, *,
                 connectors: dict[str, Connector] | None = None) -> dict[str, int | bool]:
    """One outbox pass on a fresh connection; returns the pass's counts."""
    job = OutboxJob(settings, connectors=connectors)
    try:
        return job.run(now)
    finally:
        job.close()


def register_jobs(settings: Settings) -> None:
    """Append the outbox job to ``console.worker.EXTRA_JOBS`` (once). Kept for callers of the old registration:
    ``console.worker.jobs`` lists the job itself (with its wake-on-due) and the worker skips this duplicate."""
    from console import worker

    if any(name == JOB_NAME for name, _, _ in worker.EXTRA_JOBS):
        return
    job: Callable[[Settings, datetime], object] = publish_once
    worker.EXTRA_JOBS.append((JOB_NAME, int(max_sleep(settings).total_seconds()), job))  # type: ignore[arg-type]


def release(settings: Settings, now: datetime) -> None:
    """Give the publisher lease back (call after the worker loop stopped)."""
    db = open_db(settings.db_path)
    try:
        Runner(db, [], clock=lambda: now, worker_id=WORKER_ID).release_lease()
    finally:
        db.close()
