"""The worker's publishing job: every ``PARVIS_PUBLISH_TICK_S`` seconds (default 15), publish due posts and
materialise recurring ones. ``console.worker.jobs`` lists :func:`publish_once`; call :func:`release` after
the loop stops so that another worker can take over without waiting for the lease.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from connectors import registry
from connectors.base import Connector
from core.clock import Clock
from core.config import Settings
from core.db import open_db
from services.editorial import recurrence
from services.publishing.content import PublishPolicy
from services.publishing.posts import Publisher, worker_identity

log = logging.getLogger("parvis.worker.publish")
JOB_NAME = "publish"
WORKER_ID = worker_identity()  # one identity per process: the lease holder's name
_CONNECTORS: dict[str, Connector] = {}


def _connectors(settings: Settings) -> dict[str, Connector]:
    if not _CONNECTORS:
        _CONNECTORS.update({c.name: c for c in registry.build_enabled(settings)})
    return _CONNECTORS


def _clock_from(now: datetime) -> Clock:
    """A clock that starts at the worker's ``now`` (a fake clock in tests) and runs at real speed."""
    start = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - start)


def publish_once(settings: Settings, now: datetime, *,
                 connectors: dict[str, Connector] | None = None) -> dict[str, int | bool]:
    """One publishing tick on a fresh connection; returns the tick's counts."""
    policy = PublishPolicy.from_settings(settings)
    db = open_db(settings.db_path)
    try:
        clock = _clock_from(now)
        publisher = Publisher(db, connectors if connectors is not None else _connectors(settings), clock=clock,
                              policy=policy, worker_id=WORKER_ID)
        report = publisher.tick()
        if report.leased:
            horizon = timedelta(days=settings.publish.recurrence_horizon_days)
            recurrence.materialize(db, now=clock(), horizon=horizon, policy=policy)
        counts = report.as_dict()
        if any(v for k, v in counts.items() if k != "leased"):
            log.info("publish tick: %s", counts)
        elif not report.leased:
            log.debug("publish tick skipped: another worker holds the publisher lease")
        return counts
    finally:
        db.close()


def register_jobs(settings: Settings) -> None:
    """Append the publishing job to ``console.worker.EXTRA_JOBS`` (once). Kept for callers of the old
    registration: ``console.worker.jobs`` lists the job itself and the worker skips this duplicate."""
    from console import worker

    if any(name == JOB_NAME for name, _, _ in worker.EXTRA_JOBS):
        return
    tick = max(1, settings.publish.tick_s)
    job: Callable[[Settings, datetime], object] = publish_once
    worker.EXTRA_JOBS.append((JOB_NAME, tick, job))  # type: ignore[arg-type]


def release(settings: Settings, now: datetime) -> None:
    """Give the publisher lease back (call after the worker loop stopped)."""
    db = open_db(settings.db_path)
    try:
        Publisher(db, {}, clock=lambda: now, worker_id=WORKER_ID).release_lease()
    finally:
        db.close()
