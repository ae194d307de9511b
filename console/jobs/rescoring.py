"""The worker's re-scoring job: newly ingested mentions get the rich tier's score (services/inbox/rescoring.py),
then the sentence vectors similar answers read (services/inbox/similar_vectors.py, decision 0195).

Both passes are "encoder jobs" run by :func:`run_encoder_job`: open the database, see whether anything waits,
load the encoders (seconds, hundreds of MB) only then, run batches, close. A worker's stop is prompt: it is
looked at before the encoders load, once they are loaded and between batches (decision 0280).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from sqlite_utils import Database

from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db
from services.connections import assembly
from services.inbox import rescoring, similar_vectors

log = logging.getLogger("parvis.worker")
JOB_NAME = "rescore"
INTERVAL_S = 20
STOP_POLL_S = 0.1  # how often a pass in progress looks at the worker's stop
THREAD_NAME = "encoder-job"

E = TypeVar("E")
R = TypeVar("R")
E_contra = TypeVar("E_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


class Work(Protocol[E_contra, R_co]):
    """The batches of one encoder job (services' ``rescore`` / ``embed_pending``)."""

    def __call__(self, db: Database, encoders: E_contra, /, *, now: datetime, batch: int,
                 should_stop: Callable[[], bool] | None = None) -> R_co: ...


def run_encoder_job(settings: Settings, *, waiting: Callable[..., bool], load: Callable[[], E | None],
                    work: Work[E, R], report: Callable[[R], None], clock: Clock = utcnow,
                    stop: threading.Event | None = None) -> R | None:
    """One pass of an encoder job: ``load`` runs only when ``waiting(db, now=…)``; None: nothing done (switched
    off by ``PARVIS_RESCORE_BATCH=0``, nothing waiting, no encoders, or the worker stopping).

    With the worker's ``stop``, the pass runs in a thread of its own and this call returns as soon as ``stop`` is
    set: loading the encoders (tens of seconds on a busy machine) cannot be cut short, so the worker does not wait
    for it; the pass itself ends at its next check (once loaded, between batches), a batch's write being one
    transaction."""
    batch = settings.sentiment.rescore_batch
    if batch <= 0 or (stop is not None and stop.is_set()):
        return None
    stopped = stop.is_set if stop is not None else None

    def one_pass() -> R | None:
        db = open_db(settings.db_path)
        try:
            now = clock()
            if not waiting(db, now=now):
                return None
            encoders = load()
            if encoders is None or (stopped and stopped()):  # a stop that came while they loaded
                return None
            result = work(db, encoders, now=now, batch=batch, should_stop=stopped)
            report(result)
            return result
        finally:
            db.close()

    return one_pass() if stop is None else _unless_stopped(one_pass, stop)


def _unless_stopped(fn: Callable[[], R | None], stop: threading.Event) -> R | None:
    """``fn()`` run in a daemon thread; None at once when ``stop`` is set first (the thread ends on its own)."""
    results: list[R | None] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, whose job is guarded
            errors.append(exc)

    thread = threading.Thread(target=target, name=THREAD_NAME, daemon=True)
    thread.start()
    while thread.is_alive():
        if stop.wait(STOP_POLL_S):
            log.info("rescore: the worker is stopping; the pass in progress ends at its next check")
            return None
    if errors:
        raise errors[0]
    return results[0] if results else None


def pass_in_progress() -> bool:
    """Whether a pass left behind by a stop still runs (the worker then leaves with ``os._exit``: an interpreter
    shutting down under an encoder still loading aborts in the encoder's native code)."""
    return any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate())


def rescore_once(settings: Settings, *, clock: Clock = utcnow,
                 stop: threading.Event | None = None) -> rescoring.RescoreResult | None:
    """One pass; the encoders load (a few seconds, ~500 MB) only when a mention waits. None: nothing done."""
    def report(result: rescoring.RescoreResult) -> None:
        log.info("rescore: %d scored, %d stored, %d waiting", result.scored, result.stored, result.waiting)

    return run_encoder_job(settings, waiting=rescoring.waiting, load=lambda: assembly.rich_moderator(settings),
                           work=rescoring.rescore, report=report, clock=clock, stop=stop)


def embed_once(settings: Settings, *, clock: Clock = utcnow,
               encoders: Callable[[], similar_vectors.Encoders | None] | None = None,
               stop: threading.Event | None = None) -> similar_vectors.EmbedResult | None:
    """One pass of similar answers' vectors; the encoders load only when a vector is missing. None: nothing done."""
    def report(result: similar_vectors.EmbedResult) -> None:
        log.info("similar vectors: %d answered, %d messages", result.answered, result.mentions)

    return run_encoder_job(settings, waiting=similar_vectors.waiting,
                           load=encoders or similar_vectors.shared_encoders, work=similar_vectors.embed_pending,
                           report=report, clock=clock, stop=stop)


def rescore_job(settings: Settings, *, clock: Clock = utcnow,
                stop: threading.Event | None = None) -> Callable[[], None]:
    """A job that re-scores the newest fast-scored mentions with the rich tier, then computes the missing vectors
    of similar answers; ``stop`` (the worker's) cuts it short between steps and batches."""
    def run() -> None:
        rescore_once(settings, clock=clock, stop=stop)
        embed_once(settings, clock=clock, stop=stop)

    return guarded(JOB_NAME, run)
