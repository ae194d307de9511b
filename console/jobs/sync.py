"""The worker's sync jobs: one per connector on its own interval, and the "sync now" requests from the console."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from connectors.base import Connector
from console.jobs.base import guarded
from core import repo
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db, write_transaction
from services.connections.ingest import ScoreFn, sync_connector
from services.moderation import automation

SyncFn = Callable[..., object]  # services.connections.ingest.sync_connector's signature


def sync_job(settings: Settings, connector: Connector, *, clock: Clock = utcnow, score: ScoreFn | None = None,
             sync: SyncFn = sync_connector) -> Callable[[], None]:
    """A job that syncs ``connector`` once, on a fresh connection."""
    def run() -> None:
        db = open_db(settings.db_path)
        try:
            sync(db, connector, now=clock(), score=score)
            automation.apply_rules_safely(db, settings, now=clock())  # at ingest (issue #17)
        finally:
            db.close()
    return guarded(f"sync:{connector.name}", run)


def sync_requests_job(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
                      score: ScoreFn | None = None, sync: SyncFn = sync_connector) -> Callable[[], None]:
    """A job that runs the "sync now" requests made from the console."""
    by_name = {c.name: c for c in connectors}

    def run() -> None:
        db = open_db(settings.db_path)
        try:
            with write_transaction(db):
                names = repo.take_sync_requests(db)
            for name in names:
                if name in by_name:
                    sync(db, by_name[name], now=clock(), score=score)
        finally:
            db.close()
    return guarded("sync-requests", run)
