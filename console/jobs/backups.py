"""The worker's backup job: once an hour it checks the age of the newest backup and, when it is older than
``PARVIS_BACKUP_INTERVAL_H`` (default 24; 0 turns automatic backups off), takes one (checked, with its
manifest) into ``PARVIS_BACKUP_DIR`` (default ``backups/`` beside the database), then rotates the folder
(7 daily, 4 weekly, 12 monthly by default). Checking the age rather than firing at a fixed hour means a worker
restarted every night still backs up daily, and one started after a long stop backs up at once.
The job is one entry of ``console.worker.jobs``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from services.operations import backups

log = logging.getLogger("parvis.worker.backup")
JOB_NAME = "backup"
CHECK_EVERY_S = 3600


def backup_if_due(settings: Settings, now: datetime) -> backups.Backup | None:
    """Take a backup and rotate when the newest one is older than the interval; returns it (None: not due)."""
    interval_h = settings.operations.backup_interval_h
    if interval_h <= 0 or not settings.db_path.is_file():
        return None
    folder = backups.backup_dir(settings)
    latest = backups.latest_backup_at(folder)
    # A few minutes of slack: a backup taken at 02:00:05 yesterday is due at today's 02:00 check.
    if latest is not None and now - latest < timedelta(hours=interval_h) - timedelta(minutes=5):
        return None
    done = backups.take_backup(settings.db_path, folder, now=now)
    removed = backups.rotate(folder, backups.RetentionPolicy.from_settings(settings))
    log.info("backup written to %s (sha256 %s, audit head #%s); rotation deleted %d old backup(s)", done.path,
             done.manifest["sha256"][:12], done.manifest["audit_head"]["id"],
             len([p for p in removed if p.suffix == ".db"]))
    return done


def backup_job(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], None]:
    """A job that backs up the database when the newest backup is older than the interval (checked hourly)."""
    return guarded(JOB_NAME, lambda: backup_if_due(settings, clock()))
