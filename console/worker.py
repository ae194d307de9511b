"""``python -m console worker``: one process that keeps Parvis in sync (the `schedule` library).

Every job is named here, in :func:`jobs`, and defined in ``console/jobs/``: the sync of each connector on its own
interval (``PARVIS_SYNC_INTERVAL_S``, default 60 s; per connector ``PARVIS_SYNC_INTERVAL_<NAME>_S``) and the
"sync now" requests (jobs/sync.py); scheduled replies (jobs/replies.py) and posts (jobs/publishing.py) every
``PARVIS_PUBLISH_TICK_S``; re-prioritising, the heartbeat ("dernière synchro il y a 12 s") and the daily retention
purge (jobs/housekeeping.py); the daily backup, due-checked hourly (jobs/backups.py, ``PARVIS_BACKUP_INTERVAL_H``).
No module adds a job by being imported. SIGTERM/SIGINT stop the loop gracefully after the job in progress. Never
imports Streamlit.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import schedule

from connectors.base import Connector
from console.jobs import backups, housekeeping, publishing, replies, sync
from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from services.connections.ingest import ScoreFn, sync_connector

log = logging.getLogger("parvis.worker")
HEARTBEAT_S = 5
REQUESTS_S = 2
REPRIORITIZE_S = 600

# (name, interval seconds, job(settings, now)): jobs a caller adds before ``run`` (a test, an embedding script).
# None is added by an import; a name that :func:`jobs` already schedules is skipped (it would run twice).
EXTRA_JOBS: list[tuple[str, int, Callable[[Settings, datetime], None]]] = []


@dataclass(frozen=True)
class Job:
    """One periodic job of the worker: its name (the schedule tag), its interval, what it runs."""

    name: str
    every_s: int
    run: Callable[[], None]


def jobs(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
         score: ScoreFn | None = None) -> list[Job]:
    """Every job of the worker, in the order of its first round (the whole list: nothing registers elsewhere)."""
    tick = max(1, settings.publish.tick_s)
    # sync_connector is looked up here, when the jobs are built, so that a test may replace worker.sync_connector
    return [
        Job("sync-requests", REQUESTS_S,
            sync.sync_requests_job(settings, connectors, clock=clock, score=score, sync=sync_connector)),
        *(Job(f"sync:{c.name}", max(1, settings.sync.interval_s_for(c.name)),
              sync.sync_job(settings, c, clock=clock, score=score, sync=sync_connector)) for c in connectors),
        Job(replies.JOB_NAME, tick, replies.replies_job(settings, clock=clock)),
        Job("reprioritize", REPRIORITIZE_S, housekeeping.reprioritize_job(settings, clock=clock)),
        Job("heartbeat", HEARTBEAT_S,
            housekeeping.heartbeat_job(settings, clock(), clock=clock, names=[c.name for c in connectors])),
        Job(housekeeping.PURGE_JOB, housekeeping.PURGE_INTERVAL_S, housekeeping.retention_job(settings, clock=clock)),
        Job(publishing.JOB_NAME, tick,
            guarded(publishing.JOB_NAME, lambda: publishing.publish_once(settings, clock()))),
        Job(backups.JOB_NAME, backups.CHECK_EVERY_S, backups.backup_job(settings, clock=clock)),
    ]


def _at_run_time(job: Callable[[Settings, datetime], None], settings: Settings, clock: Clock) -> Callable[[], None]:
    """``job`` bound to the settings, called with the time of each run."""
    return lambda: job(settings, clock())


def build_scheduler(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
                    score: ScoreFn | None = None) -> schedule.Scheduler:
    """A scheduler with :func:`jobs`, then the :data:`EXTRA_JOBS` a caller added (names not already taken)."""
    scheduler = schedule.Scheduler()
    listed = jobs(settings, connectors, clock=clock, score=score)
    for job in listed:
        scheduler.every(job.every_s).seconds.do(job.run).tag(job.name)
    taken = {job.name for job in listed}
    for name, interval, extra in EXTRA_JOBS:
        if name in taken:
            log.debug("extra job %s skipped: the worker already schedules it", name)
            continue
        taken.add(name)
        scheduler.every(interval).seconds.do(guarded(name, _at_run_time(extra, settings, clock))).tag(name)
    return scheduler


def run(settings: Settings, connectors: Sequence[Connector], *, stop: threading.Event | None = None,
        clock: Clock = utcnow, score: ScoreFn | None = None, max_loops: int | None = None) -> None:
    """Run every job once, then loop until ``stop`` is set (SIGTERM/SIGINT set it when run from the CLI)."""
    stop = stop or threading.Event()
    scheduler = build_scheduler(settings, connectors, clock=clock, score=score)
    log.info("worker started (pid %d) on %s with connectors: %s", os.getpid(), settings.db_path,
             ", ".join(c.name for c in connectors) or "none")
    scheduler.run_all()
    loops = 0
    while not stop.is_set():
        scheduler.run_pending()
        loops += 1
        if max_loops is not None and loops >= max_loops:
            break
        idle = scheduler.idle_seconds
        stop.wait(timeout=min(1.0, max(0.05, idle if idle is not None else 1.0)))
    log.info("worker stopped")


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT ask the loop to stop after the current job."""
    def handler(signum: int, _frame: object) -> None:
        log.info("received signal %d, stopping after the current job", signum)
        stop.set()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
