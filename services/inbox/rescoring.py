"""The worker's second pass: mentions scored at ingest by the fast tier are re-scored by the rich tier.

Ingest stores the fast models' score at once (thousands of texts per second). The worker then takes the newest
mentions of the last three days still carrying it, in batches, scores them with the rich tier
(moderation/rich.py, ~100 texts/s on two cores) and stores that score with its ``model_version`` (``rich-…``):
the inbox shows the better score, with its reasons (risk spans, sentiment words), as soon as it arrives.
An agent's sentiment correction is never overwritten (it stays in ``sentiment_feedback`` for
``train --with-feedback``); a mention whose text changed meanwhile keeps its new fast score and is taken again.

No audit event: like ingest's own scoring, this is the machine's work on data, not a person's change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlite_utils import Database

from core import repo
from core.db import write_transaction
from core.models import Mention
from core.repo import Scores

WINDOW = timedelta(days=3)  # mentions older than this keep the fast score (the inbox works on recent ones)


class Scorer(Protocol):
    """What re-scoring needs from moderation.scoring.Moderator (its rich tier)."""

    def score(self, mentions: list[Mention], now: datetime) -> list[Scores]:
        """Scores for each mention, in order."""
        ...


@dataclass(frozen=True, slots=True)
class RescoreResult:
    """What one call did: mentions scored, scores stored, and how many still wait."""

    scored: int
    stored: int
    waiting: int


def waiting(db: Database, *, now: datetime) -> bool:
    """Whether a recent mention waits for the rich tier."""
    return bool(repo.mentions_to_rescore(db, since=now - WINDOW, limit=1))


def rescore(db: Database, scorer: Scorer, *, now: datetime, batch: int = 64, max_batches: int = 10,
            budget_s: float = 20.0, should_stop: Callable[[], bool] | None = None) -> RescoreResult:
    """Re-score up to ``max_batches`` batches of the newest fast-scored recent mentions (stops after ``budget_s``,
    or when ``should_stop()`` says so: both checked between batches, so that a worker's shutdown stays prompt)."""
    scored = stored = 0
    started = time.monotonic()
    since = now - WINDOW
    for _ in range(max_batches):
        items = repo.mentions_to_rescore(db, since=since, limit=batch)
        if not items:
            break
        scores = scorer.score([it.mention for it in items], now)
        with write_transaction(db):
            for item, new in zip(items, scores, strict=True):
                stored += repo.store_rescored(db, item.uid, new, text=item.mention.text)
        scored += len(items)
        if len(items) < batch or time.monotonic() - started > budget_s or (should_stop and should_stop()):
            break
    return RescoreResult(scored=scored, stored=stored, waiting=repo.rescore_backlog(db, since=since))
