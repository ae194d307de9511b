"""The worker job: registered once, publishes due posts through the `schedule` loop, gives the lease back."""

from __future__ import annotations

from datetime import timedelta

from connectors.demo.connector import DemoConnector
from console import worker
from console.jobs import publishing as publishing_jobs
from core.config import Settings
from core.models import TargetState
from core.repo import leases as lease_repo
from core.repo import posts as posts_repo
from services.publishing.posts import LEASE
from tests.publishing.conftest import T0


def settings_for(db_path, **values):
    return Settings(data_dir=db_path.parent, db_path=db_path, values={"PARVIS_DEMO": "0", **values})


def test_register_jobs_adds_the_publish_job_once_with_the_configured_tick(monkeypatch, db_path):
    monkeypatch.setattr(worker, "EXTRA_JOBS", [])
    settings = settings_for(db_path, PARVIS_PUBLISH_TICK_S="7")
    publishing_jobs.register_jobs(settings)
    publishing_jobs.register_jobs(settings)
    assert [(name, interval) for name, interval, _ in worker.EXTRA_JOBS] == [("publish", 7)]


def test_the_worker_loop_publishes_a_due_post_and_releases_the_lease(monkeypatch, db, db_path, clock, make_post):
    post = make_post("Annonce : la médiathèque rouvre samedi.", accounts=("demo",))
    demo = DemoConnector(clock=lambda: T0)
    monkeypatch.setattr(worker, "EXTRA_JOBS", [])
    monkeypatch.setattr(publishing_jobs, "_CONNECTORS", {"demo": demo})
    settings = settings_for(db_path)
    publishing_jobs.register_jobs(settings)
    worker.run(settings, [], clock=lambda: T0 + timedelta(seconds=1), max_loops=1)
    assert [r["text"] for r in demo.outbox()] == [post.text]
    assert posts_repo.get_post(db, post.id).targets[0].state is TargetState.SENT
    assert lease_repo.holder(db, LEASE, now=T0 + timedelta(seconds=2)) == publishing_jobs.WORKER_ID
    publishing_jobs.release(settings, T0 + timedelta(seconds=2))
    assert lease_repo.holder(db, LEASE, now=T0 + timedelta(seconds=2)) is None
