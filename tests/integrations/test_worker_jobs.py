"""The worker's integrations job queues, and the worker's outbox job (the same one that publishes posts) sends:
the integrations' kinds are registered with the engine's other kinds."""

from __future__ import annotations

import json

from werkzeug import Request, Response

from console import worker
from console.jobs import integrations as integration_jobs
from console.jobs import publishing as publishing_jobs
from core import repo
from core.db import open_db
from core.repo import integrations as integrations_repo
from services.inbox import triage
from services.integrations import hooks_out
from tests.conftest import make_mention
from tests.integrations.conftest import make_settings


def test_a_status_change_reaches_the_endpoint_through_the_worker(db, agents, now, tmp_path, httpserver):
    settings = make_settings(tmp_path)
    received = []

    def receive(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(receive)
    hooks_out.add_endpoint(db, agents["admin"], httpserver.url_for("/hook"), ["mention.status_changed"], now=now)
    m = make_mention("Bonjour")
    repo.upsert_mentions(db, [m], now=now)
    triage.change_status(db, m.uid, "closed", actor=agents["julie"], now=now)
    job = integration_jobs.IntegrationsJob(settings, clock=lambda: now)
    try:
        job.run()
        job.run()  # nothing new: nothing queued twice
    finally:
        job.close()
    assert len(integrations_repo.recent(db, "webhook")) == 1
    counts = publishing_jobs.publish_once(settings, now, connectors={})
    assert counts["leased"] is True
    assert [e["type"] for e in received] == ["mention.status_changed"]
    assert received[0]["data"]["after"] == "closed"
    check = open_db(settings.db_path)
    try:
        assert integrations_repo.recent(check, "webhook")[0].state == "done"
    finally:
        check.close()


def test_the_job_is_listed_with_its_close(tmp_path):
    settings = make_settings(tmp_path)
    [job] = [j for j in worker.jobs(settings, []) if j.name == integration_jobs.JOB_NAME]
    assert job.every_s == integration_jobs.EVERY_S and job.close is not None
    job.run()  # an empty database: nothing to do, no crash
    job.close()
