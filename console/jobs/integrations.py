"""The worker's integrations job (decision 0120): every few seconds, queue the outgoing webhook events that
happened since the last scan; every minute, queue the e-mail notices that are due (approvals, crisis spike,
answer promises, the weekly report); every ``PARVIS_OPEN311_POLL_S``, ask the back office where open service
requests stand. Sending is the outbox job's (console/jobs/publishing.py): a queued row wakes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlite_utils import Database

from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db
from services.integrations import hooks_out, notices, open311

log = logging.getLogger("parvis.worker.integrations")
JOB_NAME = "integrations"
EVERY_S = 5
NOTICES_EVERY = timedelta(seconds=60)


class IntegrationsJob:
    """The job, keeping one connection between runs (closed when the worker stops)."""

    def __init__(self, settings: Settings, *, clock: Clock = utcnow) -> None:
        self.settings, self.clock = settings, clock
        self._db: Database | None = None
        self._notices_at: datetime | None = None

    def _conn(self) -> Database:
        if self._db is None:
            self._db = open_db(self.settings.db_path)
        return self._db

    def run(self) -> None:
        """Webhook events at each run, notices each minute, back-office polls as due."""
        now = self.clock()
        db = self._conn()
        events = hooks_out.scan(db, self.settings, now=now)
        queued = 0
        if self._notices_at is None or now - self._notices_at >= NOTICES_EVERY:
            self._notices_at = now
            queued = notices.scan(db, self.settings, now=now).total
        changed = open311.poll(db, self.settings, now=now)
        if events or queued or changed:
            log.info("integrations: %d webhook deliveries and %d e-mails queued, %d service requests changed",
                     events, queued, changed)

    def close(self) -> None:
        """Close the job's connection."""
        if self._db is not None:
            self._db.close()
            self._db = None


def integrations_job(settings: Settings, *, clock: Clock = utcnow) -> tuple[Callable[[], None], Callable[[], None]]:
    """The job (guarded: a crash is logged, the loop goes on) and its ``close``."""
    job = IntegrationsJob(settings, clock=clock)
    return guarded(JOB_NAME, job.run), job.close
