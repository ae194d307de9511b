"""``python -m console worker``: one process that keeps Parvis in sync (the `schedule` library).

Each connector is synced on its own interval (``PARVIS_SYNC_INTERVAL_S``, default 60 s; per connector
``PARVIS_SYNC_INTERVAL_<NAME>_S``); a heartbeat is written every few seconds so the console can show
"dernière synchro il y a 12 s"; SIGTERM/SIGINT stop the loop gracefully after the job in progress.
Other periodic jobs (the outbox, re-prioritising, retention) register through :data:`EXTRA_JOBS`; a job that
also has ``seconds_until_due(now)`` (the outbox: console/publishing_jobs.py) is run as soon as it is due, the loop
sleeping until then rather than until its interval (wake-on-due). Never imports Streamlit.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import schedule

from connectors.base import Connector
from core import repo
from core.clock import Clock, utcnow
from core.config import Settings
from core.storage import open_db, write_transaction
from services.ingest import ScoreFn, sync_connector

log = logging.getLogger("parvis.worker")
HEARTBEAT_S = 5
REQUESTS_S = 2
REPRIORITIZE_S = 600
WORKER_NAME = "worker"

# (name, interval seconds, job(settings, now)) — appended by other modules (publishing, retention, ...).
EXTRA_JOBS: list[tuple[str, int, Callable[[Settings, datetime], None]]] = []
LOOP_MAX_S = 1.0  # the loop looks at its jobs at least this often


def _guarded(name: str, fn: Callable[[], None]) -> Callable[[], None]:
    """Run a job; a crash is logged and the loop goes on (a crashed job must not kill the worker)."""
    def run() -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - top of a worker job: log and keep the loop alive
            log.exception("job %s crashed; will retry at its next interval", name)
    return run


def sync_job(settings: Settings, connector: Connector, *, clock: Clock = utcnow,
             score: ScoreFn | None = None) -> Callable[[], None]:
    """A job that syncs ``connector`` once, on a fresh connection."""
    def run() -> None:
        db = open_db(settings.db_path)
        try:
            sync_connector(db, connector, now=clock(), score=score)
        finally:
            db.close()
    return _guarded(f"sync:{connector.name}", run)


def heartbeat_job(settings: Settings, started_at: datetime, *, clock: Clock = utcnow,
                  names: Sequence[str] = ()) -> Callable[[], None]:
    """A job that records the worker's heartbeat."""
    def run() -> None:
        db = open_db(settings.db_path)
        try:
            with write_transaction(db):
                repo.beat(db, WORKER_NAME, pid=os.getpid(), started_at=started_at, now=clock(),
                          info={"connectors": list(names)})
        finally:
            db.close()
    return _guarded("heartbeat", run)


def sync_requests_job(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
                      score: ScoreFn | None = None) -> Callable[[], None]:
    """A job that runs the "sync now" requests made from the console."""
    by_name = {c.name: c for c in connectors}

    def run() -> None:
        db = open_db(settings.db_path)
        try:
            with write_transaction(db):
                names = repo.take_sync_requests(db)
            for name in names:
                if name in by_name:
                    sync_connector(db, by_name[name], now=clock(), score=score)
        finally:
            db.close()
    return _guarded("sync-requests", run)


def reprioritize_job(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], None]:
    """A job that raises the priority of open items as they wait (the waiting time is part of the priority)."""
    from core import moderation_repo
    from services import assembly

    def run() -> None:
        db = open_db(settings.db_path)
        try:
            items = repo.list_inbox(db, repo.InboxQuery(order="oldest", limit=5_000))
            changes = assembly.moderator(settings).reprioritize(items, clock())
            with write_transaction(db):
                moderation_repo.update_priorities(db, changes)
        finally:
            db.close()
    return _guarded("reprioritize", run)


def build_scheduler(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
                    score: ScoreFn | None = None) -> schedule.Scheduler:
    """A scheduler with one sync job per connector, the heartbeat, and the registered extra jobs."""
    scheduler = schedule.Scheduler()
    scheduler.every(REQUESTS_S).seconds.do(sync_requests_job(settings, connectors, clock=clock, score=score)).tag(
        "sync-requests")
    default = settings.get_int("PARVIS_SYNC_INTERVAL_S", 60)
    for connector in connectors:
        every = settings.get_int(f"PARVIS_SYNC_INTERVAL_{connector.name.upper()}_S", default)
        scheduler.every(max(1, every)).seconds.do(sync_job(settings, connector, clock=clock, score=score)).tag(
            f"sync:{connector.name}")
    scheduler.every(REPRIORITIZE_S).seconds.do(reprioritize_job(settings, clock=clock)).tag("reprioritize")
    scheduler.every(HEARTBEAT_S).seconds.do(
        heartbeat_job(settings, clock(), clock=clock, names=[c.name for c in connectors])).tag("heartbeat")
    for name, interval, job in EXTRA_JOBS:
        scheduler.every(interval).seconds.do(_guarded(name, lambda job=job: job(settings, clock()))).tag(name)
    return scheduler


def run(settings: Settings, connectors: Sequence[Connector], *, stop: threading.Event | None = None,
        clock: Clock = utcnow, score: ScoreFn | None = None, max_loops: int | None = None) -> None:
    """Run every job once, then loop until ``stop`` is set (SIGTERM/SIGINT set it when run from the CLI)."""
    stop = stop or threading.Event()
    scheduler = build_scheduler(settings, connectors, clock=clock, score=score)
    log.info("worker started (pid %d) on %s with connectors: %s", os.getpid(), settings.db_path,
             ", ".join(c.name for c in connectors) or "none")
    scheduler.run_all()
    wakers = [(name, job) for name, _, job in EXTRA_JOBS if callable(getattr(job, "seconds_until_due", None))]
    loops = 0
    while not stop.is_set():
        scheduler.run_pending()
        wake_in = run_due(settings, wakers, clock)
        loops += 1
        if max_loops is not None and loops >= max_loops:
            break
        idle = scheduler.idle_seconds
        stop.wait(timeout=min(LOOP_MAX_S, wake_in, max(0.05, idle if idle is not None else LOOP_MAX_S)))
    log.info("worker stopped")


def run_due(settings: Settings, wakers: Sequence[tuple[str, Any]], clock: Clock) -> float:
    """Run the wake-on-due jobs that are due; seconds until the next one is (at most :data:`LOOP_MAX_S`)."""
    wake_in = LOOP_MAX_S
    for name, job in wakers:
        try:
            due_in = job.seconds_until_due(clock())
            if due_in <= 0:
                _guarded(name, lambda job=job: job(settings, clock()))()
                due_in = job.seconds_until_due(clock())
            wake_in = min(wake_in, due_in)
        except Exception:  # noqa: BLE001 - top of a worker job: log and keep the loop alive
            log.exception("job %s could not tell when it is due; asking again shortly", name)
    return max(0.0, wake_in)


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT ask the loop to stop after the current job."""
    def handler(signum: int, _frame: object) -> None:
        log.info("received signal %d, stopping after the current job", signum)
        stop.set()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
