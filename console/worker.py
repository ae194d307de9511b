"""``python -m console worker``: one process that keeps Parvis in sync (the `schedule` library).

Every job is named here, in :func:`jobs`, and defined in ``console/jobs/``: the sync of each connector on its own
interval (``PARVIS_SYNC_INTERVAL_S``, default 60 s; per connector ``PARVIS_SYNC_INTERVAL_<NAME>_S``) and the
"sync now" requests (jobs/sync.py); the Meta webhook events, read every second (jobs/webhooks.py); the
Mastodon user streams, each in a thread the ``stream:<name>`` job keeps running, their connector's polling less
often while the stream is up (jobs/streams.py); re-prioritising, the heartbeat ("dernière synchro il y a 12 s")
and the daily retention purge (jobs/housekeeping.py); the outbox (jobs/publishing.py: posts, scheduled replies
and moderation acts in one pass); a signed checkpoint of the audit chain, hourly (jobs/audit.py); the daily
backup, due-checked hourly (jobs/backups.py, ``PARVIS_BACKUP_INTERVAL_H``); the integrations' scans
(jobs/integrations.py: outgoing webhook events, e-mail notices including the weekly report, back-office status
polls); the Meta tokens' expiry, refresh and notice, hourly, when a Meta connector is enabled (jobs/tokens.py).
No module adds a job by being imported.
A job with a ``due`` (the outbox) is run as soon as it is due, the loop sleeping until then rather than
until its interval (wake-on-due, decision 0051; its interval, ``PARVIS_PUBLISH_TICK_S``, is the longest it waits).
SIGTERM/SIGINT stop the loop gracefully after the job in progress; re-scoring, whose encoders take seconds to load,
is not waited for (jobs/rescoring.py, decision 0280). Never imports Streamlit.
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
from console.jobs import (
    audit,
    backups,
    housekeeping,
    integrations,
    publishing,
    rescoring,
    streams,
    sync,
    tokens,
    webhooks,
)
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
LOOP_MAX_S = 1.0  # the loop looks at its jobs at least this often


@dataclass(frozen=True)
class Job:
    """One periodic job of the worker: its name (the schedule tag), its interval, what it runs.

    ``due(now)``, when given, says in how many seconds the job is next due (0: now): the loop then also runs it as
    soon as it is due (wake-on-due), the interval being the longest it waits. ``close`` is called when the loop
    stops (a job that keeps a connection).
    """

    name: str
    every_s: int
    run: Callable[[], None]
    due: Callable[[datetime], float] | None = None
    close: Callable[[], None] | None = None


def jobs(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
         score: ScoreFn | None = None, stop: threading.Event | None = None) -> list[Job]:
    """Every job of the worker, in the order of its first round (the whole list: nothing registers elsewhere).

    ``stop`` is the loop's: a long job (re-scoring loads encoders, then runs batches) looks at it to end early."""
    outbox = publishing.OutboxJob(settings)
    pushed = webhooks.WebhooksJob(settings, connectors, clock=clock, score=score)
    live = streams.supervisors(settings, connectors, clock=clock, score=score)  # Mastodon streams
    scans, close_scans = integrations.integrations_job(settings, clock=clock)
    # sync_connector is looked up here, when the jobs are built, so that a test may replace worker.sync_connector
    return [
        Job("sync-requests", REQUESTS_S,
            sync.sync_requests_job(settings, connectors, clock=clock, score=score, sync=sync_connector)),
        *(Job(f"sync:{c.name}", max(1, settings.sync.interval_s_for(c.name)),
              streams.gated(sync.sync_job(settings, c, clock=clock, score=score, sync=sync_connector),
                            live.get(c.name))) for c in connectors),
        Job(webhooks.JOB_NAME, webhooks.EVERY_S, pushed.run, close=pushed.close),
        *(Job(streams.job_name(c), streams.CHECK_EVERY_S, streams.keep_running(live[c.name]),
              close=live[c.name].stop) for c in connectors if c.name in live),
        Job("reprioritize", REPRIORITIZE_S, housekeeping.reprioritize_job(settings, clock=clock)),
        Job("heartbeat", HEARTBEAT_S,
            housekeeping.heartbeat_job(settings, clock(), clock=clock, names=[c.name for c in connectors])),
        Job(housekeeping.PURGE_JOB, housekeeping.PURGE_INTERVAL_S, housekeeping.retention_job(settings, clock=clock)),
        Job(publishing.JOB_NAME, int(publishing.max_sleep(settings).total_seconds()),
            guarded(publishing.JOB_NAME, lambda: outbox.run(clock())), due=outbox.seconds_until_due,
            close=outbox.close),
        Job(audit.JOB_NAME, audit.interval_s(settings), audit.checkpoint_job(settings, clock=clock)),
        Job(backups.JOB_NAME, backups.CHECK_EVERY_S, backups.backup_job(settings, clock=clock)),
        Job(integrations.JOB_NAME, integrations.EVERY_S, scans, close=close_scans),
        Job(rescoring.JOB_NAME, rescoring.INTERVAL_S, rescoring.rescore_job(settings, clock=clock, stop=stop)),
        *([Job(tokens.JOB_NAME, tokens.EVERY_S, tokens.tokens_job(settings, tokens.wanted(connectors), clock=clock))]
          if tokens.wanted(connectors) else []),  # Meta tokens: expiry, Instagram refresh, notice (decision 0185)
    ]


def _at_run_time(job: Callable[[Settings, datetime], None], settings: Settings, clock: Clock) -> Callable[[], None]:
    """``job`` bound to the settings, called with the time of each run."""
    return lambda: job(settings, clock())


def build_scheduler(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
                    score: ScoreFn | None = None) -> schedule.Scheduler:
    """A scheduler with :func:`jobs`, then the :data:`EXTRA_JOBS` a caller added (names not already taken)."""
    return _scheduler(settings, jobs(settings, connectors, clock=clock, score=score), clock)


def _scheduler(settings: Settings, listed: Sequence[Job], clock: Clock) -> schedule.Scheduler:
    scheduler = schedule.Scheduler()
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
    interrupt = None if stop.is_set() else stop  # set before the run (``worker --once``): its jobs run to their end
    run_jobs(settings, jobs(settings, connectors, clock=clock, score=score, stop=interrupt), stop=stop, clock=clock,
             max_loops=max_loops, connectors=connectors)


def run_jobs(settings: Settings, listed: Sequence[Job], *, stop: threading.Event | None = None,
             clock: Clock = utcnow, max_loops: int | None = None, connectors: Sequence[Connector] = ()) -> None:
    """The loop of :func:`run` over ``listed`` (the benchmark of an idle worker keeps the list to read its
    counters); the jobs are closed when it stops."""
    stop = stop or threading.Event()
    scheduler = _scheduler(settings, listed, clock)
    wakers = [job for job in listed if job.due is not None]
    log.info("worker started (pid %d) on %s with connectors: %s", os.getpid(), settings.db_path,
             ", ".join(c.name for c in connectors) or "none")
    try:
        scheduler.run_all()
        loops = 0
        while not stop.is_set():
            scheduler.run_pending()
            wake_in = run_due(wakers, clock)
            loops += 1
            if max_loops is not None and loops >= max_loops:
                break
            idle = scheduler.idle_seconds
            stop.wait(timeout=min(LOOP_MAX_S, wake_in, max(0.05, idle if idle is not None else LOOP_MAX_S)))
    finally:
        for job in listed:
            if job.close is not None:
                job.close()
    log.info("worker stopped")


def run_due(wakers: Sequence[Job], clock: Clock) -> float:
    """Run the wake-on-due jobs that are due; seconds until the next one is (at most :data:`LOOP_MAX_S`)."""
    wake_in = LOOP_MAX_S
    for job in wakers:
        assert job.due is not None
        try:
            due_in = job.due(clock())
            if due_in <= 0:
                job.run()  # guarded: a crash is logged
                due_in = job.due(clock())
            wake_in = min(wake_in, due_in)
        except Exception:  # the top of a worker job: log and keep the loop alive
            log.exception("job %s could not tell when it is due; asking again shortly", job.name)
    return max(0.0, wake_in)


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT ask the loop to stop after the current job."""
    def handler(signum: int, _frame: object) -> None:
        log.info("received signal %d, stopping after the current job", signum)
        stop.set()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
