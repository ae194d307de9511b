"""The worker lists every job itself (console.worker.jobs, defined in console/jobs/): importing a module never adds
one, the list is the same whatever was imported before, and each listed job really runs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.demo.connector import DemoConnector
from console import worker
from console.jobs import backups as backup_jobs
from console.jobs import integrations as integration_jobs
from console.jobs import rescoring as rescore_jobs
from core import audit
from core.config import Settings
from core.db import open_db
from services.archive.retention import PURGE_INTERVAL_S

ROOT = Path(__file__).resolve().parents[2]
# The scheduled replies have no job of their own since the one outbox (decision 0051): "publish" sends posts,
# scheduled replies and moderation acts in one pass, and is the one job the loop also runs when due (wake-on-due).
EXPECTED = ["sync-requests", "sync:demo", "webhooks", "reprioritize", "heartbeat", "retention-purge", "publish",
            "audit-checkpoint", "backup", "integrations", "rescore"]


@pytest.fixture
def settings(db_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    open_db(db_path).close()
    return Settings(data_dir=db_path.parent, db_path=db_path,
                    values={"PARVIS_DEMO": "0", "PARVIS_PUBLISH_TICK_S": "7", "PARVIS_SYNC_INTERVAL_DEMO_S": "30"})


@pytest.fixture
def no_extra_jobs(monkeypatch):
    monkeypatch.setattr(worker, "EXTRA_JOBS", [])


def test_the_worker_lists_every_job_explicitly(settings, now):
    listed = worker.jobs(settings, [DemoConnector(clock=lambda: now)])
    assert [(j.name, j.every_s) for j in listed] == list(zip(EXPECTED, [
        worker.REQUESTS_S, 30, 1, worker.REPRIORITIZE_S, worker.HEARTBEAT_S, PURGE_INTERVAL_S, 7, 3600,
        backup_jobs.CHECK_EVERY_S, integration_jobs.EVERY_S, rescore_jobs.INTERVAL_S], strict=True))
    assert [j.name for j in listed if j.due is not None] == ["publish"]


def test_the_scheduler_holds_the_listed_jobs_and_skips_a_duplicate_extra(settings, now, no_extra_jobs):
    worker.EXTRA_JOBS.append(("publish", 3, lambda s, n: None))  # the old registration: already listed
    worker.EXTRA_JOBS.append(("custom", 3, lambda s, n: None))
    scheduler = worker.build_scheduler(settings, [DemoConnector(clock=lambda: now)])
    tags = [next(iter(job.tags)) for job in scheduler.get_jobs()]
    assert tags == [*EXPECTED, "custom"]


def test_a_worker_round_runs_the_retention_purge(settings, now, no_extra_jobs):
    worker.build_scheduler(settings, [], clock=lambda: now + timedelta(seconds=1)).run_all()
    db = open_db(settings.db_path)
    try:
        assert "retention-purged" in audit.event_names(db)
    finally:
        db.close()


def test_importing_the_commands_adds_no_job(settings):
    """In a fresh interpreter (here the CLI modules may be imported already): the jobs before and after importing
    console.commands.archive_cmds and every other command module are the same, and EXTRA_JOBS stays empty."""
    code = f"""
import json
from pathlib import Path
from console import worker
from console.jobs import backups as backup_jobs
from core.config import Settings
settings = Settings(data_dir=Path({str(settings.data_dir)!r}), db_path=Path({str(settings.db_path)!r}),
                    values={{"PARVIS_DEMO": "0"}})

def seen():
    tags = [next(iter(j.tags)) for j in worker.build_scheduler(settings, []).get_jobs()]
    return tags, [name for name, _, _ in worker.EXTRA_JOBS]

before = seen()
import console.commands.archive_cmds
from console.cli import _load_commands
_load_commands()
print(json.dumps({{"before": before, "after": seen()}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["before"] == found["after"] == [[n for n in EXPECTED if n != "sync:demo"], []]
