"""The worker against the fake X and Graph APIs: two sync rounds, nothing duplicated or lost; heartbeat; crash-safe."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from connectors import registry
from console import worker
from core import audit, repo
from core.config import Settings
from core.db import open_db
from tests.connectors.conftest import X_KEYS
from tests.fakes import FakeGraphApi, FakeXApi
from tests.fakes.base import serve


@pytest.fixture
def settings(tmp_path, fake_x, fake_graph):
    env = {
        "PARVIS_DATA_DIR": str(tmp_path / "data"), "PARVIS_DEMO": "0",
        "PARVIS_X_BEARER_TOKEN": fake_x.bearer, "PARVIS_X_USER_ID": fake_x.user_id,
        "PARVIS_X_API_BASE": fake_x.base_url, "PARVIS_X_CONSUMER_KEY": X_KEYS["consumer_key"],
        "PARVIS_X_CONSUMER_SECRET": X_KEYS["consumer_secret"], "PARVIS_X_ACCESS_TOKEN": X_KEYS["access_token"],
        "PARVIS_X_ACCESS_TOKEN_SECRET": X_KEYS["access_token_secret"],
        "PARVIS_FB_PAGE_ID": fake_graph.page_id, "PARVIS_FB_PAGE_TOKEN": fake_graph.token,
        "PARVIS_GRAPH_API_BASE": fake_graph.base_url, "PARVIS_GRAPH_API_VERSION": fake_graph.version,
        "PARVIS_CONNECTOR_BACKOFF_S": "0",
    }
    (tmp_path / "data").mkdir()
    s = Settings.load(env=env, cwd=tmp_path)
    open_db(s.db_path).close()
    return s


@pytest.fixture
def fake_x():
    with serve(FakeXApi()) as (fake, base_url):  # each fake on its own local server
        fake.base_url = base_url
        yield fake


@pytest.fixture
def fake_graph():
    with serve(FakeGraphApi(start=datetime.now(UTC) - timedelta(hours=2))) as (fake, base_url):
        fake.base_url = base_url
        yield fake


def _uids(settings):
    db = open_db(settings.db_path)
    try:
        return sorted(i.uid for i in repo.list_inbox(db, repo.InboxQuery(open_only=False, limit=1000)))
    finally:
        db.close()


def test_two_sync_rounds_duplicate_nothing_and_lose_nothing(settings, fake_x, fake_graph):
    for i in range(7):
        fake_x.add_tweet(f"@VilleDeTest lampadaire n°{i} éteint 💡")
    post = fake_graph.add_post("Travaux rue Haute cette semaine")
    for i in range(4):
        fake_graph.add_comment(post, f"Et le stationnement pendant les travaux ? ({i})")
    connectors = registry.build_enabled(settings)
    assert sorted(c.name for c in connectors) == ["facebook", "x"]
    scheduler = worker.build_scheduler(settings, connectors)
    scheduler.run_all()
    first = _uids(settings)
    assert len(first) == 11 and len(set(first)) == 11
    fake_x.add_tweet("@VilleDeTest et le marché de Noël ? 🎄")
    fake_graph.add_comment(post, "Merci pour l'info")
    scheduler.run_all()
    second = _uids(settings)
    assert len(second) == 13 and set(first) < set(second)
    db = open_db(settings.db_path)
    try:
        assert repo.last_beat(db) is not None
        health = {h.name: h.status for h in repo.all_connector_health(db)}
        assert health == {"facebook": "ok", "x": "ok"}
        assert audit.event_names(db).count("sync-completed") >= 4
        assert audit.verify_chain(db).ok
    finally:
        db.close()


def test_expired_token_marks_reconnect_needed_and_others_go_on(settings, fake_x, fake_graph):
    fake_x.add_tweet("@VilleDeTest bonjour")
    post = fake_graph.add_post("Fête de la musique")
    fake_graph.add_comment(post, "Super !")
    fake_graph.fail("feed", 400, {"error": {"message": "Error validating access token: Session has expired",
                                            "type": "OAuthException", "code": 190, "error_subcode": 463}},
                    times=99)
    scheduler = worker.build_scheduler(settings, registry.build_enabled(settings))
    scheduler.run_all()
    db = open_db(settings.db_path)
    try:
        assert repo.connector_health(db, "facebook").status == "reconnect_needed"
        assert repo.connector_health(db, "x").status == "ok"
        assert "PAGE-TOKEN" not in (repo.connector_health(db, "facebook").last_error or "")
    finally:
        db.close()
    assert [u for u in _uids(settings) if u.startswith("x:")]


def test_a_crashing_job_does_not_stop_the_worker(settings, monkeypatch, caplog):
    calls = []

    def boom(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(worker, "sync_connector", boom)
    stop = threading.Event()
    worker.run(settings, registry.build_enabled(settings), stop=stop, max_loops=1)
    assert calls and "crashed" in caplog.text


def test_x_calls_are_counted_against_the_monthly_budget(settings, fake_x, fake_graph):
    from services.connections import assembly, x_budget

    for i in range(3):
        fake_x.add_tweet(f"@VilleDeTest question {i}")
    connectors = assembly.enabled_connectors(settings, only=("x",))
    worker.build_scheduler(settings, connectors).run_all()
    db = open_db(settings.db_path)
    try:
        status = x_budget.budget_status(db, settings.get)
        assert status.spent_usd > 0 and sum(r.units for r in status.rows) >= 3
    finally:
        db.close()
