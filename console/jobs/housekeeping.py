"""The worker's housekeeping jobs: its heartbeat, re-prioritising waiting items, the daily retention purge."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime

from console.jobs.base import guarded
from core import repo
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db, write_transaction
from core.repo import moderation as moderation_repo
from services.archive import retention
from services.connections import assembly
from services.inbox import private
from services.moderation import automation

WORKER_NAME = "worker"
PURGE_JOB = "retention-purge"
PURGE_INTERVAL_S = retention.PURGE_INTERVAL_S


def heartbeat_job(settings: Settings, started_at: datetime, *, clock: Clock = utcnow,
                  names: Sequence[str] = ()) -> Callable[[], None]:
    """A job that records the worker's heartbeat (the console shows "dernier signe de vie il y a 3 s")."""
    def run() -> None:
        db = open_db(settings.db_path)
        try:
            with write_transaction(db):
                repo.beat(db, WORKER_NAME, pid=os.getpid(), started_at=started_at, now=clock(),
                          info={"connectors": list(names)})
        finally:
            db.close()
    return guarded("heartbeat", run)


def reprioritize_job(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], None]:
    """A job that raises the priority of open items as they wait (the waiting time is part of the priority)."""
    def run() -> None:
        db = open_db(settings.db_path)
        try:
            items = repo.list_inbox(db, repo.InboxQuery(order="oldest", limit=5_000))
            changes = assembly.moderator(settings).reprioritize(items, clock())
            changes = automation.respect_priority_floors(db, changes)  # a rule's priority stays (issue #17)
            with write_transaction(db):
                moderation_repo.update_priorities(db, changes)
        finally:
            db.close()
    return guarded("reprioritize", run)


def purge_once(settings: Settings, now: datetime) -> None:
    """One retention purge (legal holds respected; audited as ``retention-purged``), then the shorter one of
    private messages' texts (``private-texts-erased``)."""
    db = open_db(settings.db_path)
    try:
        retention.purge(db, retention.RetentionPolicy.from_settings(settings), now=now)
        private.purge_private_texts(db, settings, now=now)  # PARVIS_RETENTION_PRIVATE_DAYS (issue #20)
    finally:
        db.close()


def retention_job(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], None]:
    """A job that purges expired working data (daily: ``retention.PURGE_INTERVAL_S``)."""
    return guarded(PURGE_JOB, lambda: purge_once(settings, clock()))
