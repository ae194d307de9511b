"""The worker's re-scoring job: newly ingested mentions get the rich tier's score (services/inbox/rescoring.py),
then the sentence vectors similar answers read (services/inbox/similar_vectors.py, decision 0195)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db
from services.connections import assembly
from services.inbox import rescoring, similar_vectors

log = logging.getLogger("parvis.worker")
JOB_NAME = "rescore"
INTERVAL_S = 20


def rescore_once(settings: Settings, *, clock: Clock = utcnow) -> rescoring.RescoreResult | None:
    """One pass; the encoders load (a few seconds, ~500 MB) only when a mention waits. None: nothing done."""
    batch = settings.sentiment.rescore_batch
    if batch <= 0:
        return None
    db = open_db(settings.db_path)
    try:
        now = clock()
        if not rescoring.waiting(db, now=now):
            return None
        scorer = assembly.rich_moderator(settings)
        if scorer is None:
            return None
        result = rescoring.rescore(db, scorer, now=now, batch=batch)
        log.info("rescore: %d scored, %d stored, %d waiting", result.scored, result.stored, result.waiting)
        return result
    finally:
        db.close()


def embed_once(settings: Settings, *, clock: Clock = utcnow,
               encoders: Callable[[], similar_vectors.Encoders | None] | None = None
               ) -> similar_vectors.EmbedResult | None:
    """One pass of similar answers' vectors; the encoders load only when a vector is missing. None: nothing done."""
    batch = settings.sentiment.rescore_batch
    if batch <= 0:
        return None
    db = open_db(settings.db_path)
    try:
        now = clock()
        if not similar_vectors.waiting(db, now=now):
            return None
        enc = (encoders or similar_vectors.shared_encoders)()
        if enc is None:
            return None
        result = similar_vectors.embed_pending(db, enc, now=now, batch=batch)
        log.info("similar vectors: %d answered, %d messages", result.answered, result.mentions)
        return result
    finally:
        db.close()


def rescore_job(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], None]:
    """A job that re-scores the newest fast-scored mentions with the rich tier, then computes the missing vectors
    of similar answers."""
    def run() -> None:
        rescore_once(settings, clock=clock)
        embed_once(settings, clock=clock)

    return guarded(JOB_NAME, run)
