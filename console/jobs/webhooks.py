"""The worker's ``webhooks`` job: read and store what the accepted Meta webhook events point to
(services/connections/webhooks.py), every :data:`EVERY_S` on one kept connection; the processed events older than
the replay window are forgotten once an hour."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlite_utils import Database

from connectors.base import Connector
from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db
from services.connections import webhooks
from services.connections.ingest import ScoreFn

JOB_NAME = "webhooks"
EVERY_S = 1
PURGE_EVERY_S = 3600


class WebhooksJob:
    """Process the pending webhook events (a burst until none is due), purge old ones hourly."""

    def __init__(self, settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
                 score: ScoreFn | None = None) -> None:
        self.settings, self.connectors, self.clock, self.score = settings, list(connectors), clock, score
        self._db: Database | None = None
        self._last_purge = 0.0
        self.run = guarded(JOB_NAME, self._run)

    def _run(self) -> None:
        if self._db is None:
            self._db = open_db(self.settings.db_path)
        db = self._db
        while webhooks.process_pending(db, self.connectors, now=self.clock(), score=self.score,
                                       settings=self.settings):
            pass
        if time.monotonic() - self._last_purge >= PURGE_EVERY_S:
            webhooks.purge(db, now=self.clock())
            self._last_purge = time.monotonic()

    def close(self) -> None:
        """Close the kept connection (the worker stops)."""
        if self._db is not None:
            self._db.close()
            self._db = None
