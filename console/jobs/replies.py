"""The worker's scheduled-replies job: send the replies whose time has come (demo data to the sandbox), exactly
once, under the same ``publisher`` lease and worker identity as the posts' job (console/jobs/publishing.py)."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import Connector
from console.jobs.base import guarded
from console.jobs.publishing import WORKER_ID
from core import repo
from core.clock import Clock, utcnow
from core.config import Settings
from core.db import open_db
from core.models import Draft
from services.connections import assembly
from services.publishing import approvals
from services.publishing.content import PublishPolicy

JOB_NAME = "publish-replies"


def replies_job(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], None]:
    """A job that sends the scheduled replies that are due."""
    policy = PublishPolicy.from_settings(settings)

    def run() -> None:
        db = open_db(settings.db_path)
        try:
            def choose(draft: Draft) -> Connector | None:
                if draft.mention_uid is None:
                    return None  # not a reply to a mention: no connector answers it
                return assembly.connector_for(settings, repo.get_item(db, draft.mention_uid).mention)
            approvals.publish_due(db, choose, now=clock(), clock=clock, worker_id=WORKER_ID, policy=policy)
        finally:
            db.close()
    return guarded(JOB_NAME, run)
