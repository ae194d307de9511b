"""The worker's integrations job (decision 0120): every few seconds, queue the outgoing webhook events that
happened since the last scan; every minute, queue the e-mail notices that are due (approvals, crisis spike,
answer promises, the weekly report); every ``PARVIS_OPEN311_POLL_S``, ask the back office where open service
requests stand. Sending is the outbox job's (console/jobs/publishing.py): a queued row wakes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db
from services.integrations import hooks_out, notices, open311

log = logging.getLogger("parvis.worker.integrations")
JOB_NAME = "integrations"
EVERY_S = 5
NOTICES_EVERY = timedelta(seconds=60)


def integrations_job(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], None]:
    """The job: webhook events at each run, notices each minute, back-office polls as due."""
    last_notices: list[datetime] = []

    def run() -> None:
        now = clock()
        db = open_db(settings.db_path)
        try:
            events = hooks_out.scan(db, settings, now=now)
            queued = 0
            if not last_notices or now - last_notices[0] >= NOTICES_EVERY:
                last_notices[:] = [now]
                queued = notices.scan(db, settings, now=now).total
            changed = open311.poll(db, settings, now=now)
            if events or queued or changed:
                log.info("integrations: %d webhook deliveries and %d e-mails queued, %d service requests changed",
                         events, queued, changed)
        finally:
            db.close()
    return guarded(JOB_NAME, run)
