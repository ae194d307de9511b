"""Parvis's routes and middleware on a plain Starlette app (the real server is in test_server.py)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.testclient import TestClient

from console.web import middleware as mw
from console.web.routes import parvis_routes
from core import repo
from core.clock import utcnow
from core.config import Settings
from core.db import write_transaction

ROOT = Path(__file__).resolve().parents[2]


def _boom(_request):
    raise RuntimeError("kaput")


def _client(settings: Settings, *, https: bool = False) -> TestClient:
    app = Starlette(routes=[*parvis_routes(settings), Route("/boom", _boom)],
                    middleware=[Middleware(mw.SecurityHeadersMiddleware), Middleware(mw.RequestIdMiddleware)])
    return TestClient(app, base_url="https://testserver" if https else "http://testserver",
                      raise_server_exceptions=False)


@pytest.fixture
def settings(db_path) -> Settings:
    return Settings(data_dir=db_path.parent, db_path=db_path, values={})


def _beat(db, age_s: float) -> None:
    now = utcnow()
    with write_transaction(db):
        repo.beat(db, "worker", pid=1, started_at=now, now=now - timedelta(seconds=age_s))


def test_healthz_answers_without_a_database(tmp_path):
    client = _client(Settings(data_dir=tmp_path, db_path=tmp_path / "none" / "parvis.db", values={}))
    r = client.get("/healthz")
    assert r.status_code == 200 and r.text == "ok\n"
    assert not (tmp_path / "none").exists()


def test_readyz_is_200_with_a_fresh_heartbeat_and_503_with_the_reason_otherwise(db, settings):
    client = _client(settings)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["worker"] == {"ok": False, "detail": "no heartbeat ever: start the worker"}
    assert r.json()["checks"]["database"]["ok"] and r.json()["checks"]["schema"]["ok"]
    _beat(db, 2)
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready" and r.json()["reason"] == ""
    _beat(db, 31)  # 6 intervals of 5 s by default
    r = client.get("/readyz")
    assert r.status_code == 503 and "is the worker running?" in r.json()["reason"]
    relaxed = Settings(data_dir=settings.data_dir, db_path=settings.db_path,
                       values={"PARVIS_READY_MAX_MISSED_BEATS": "12"})
    assert _client(relaxed).get("/readyz").status_code == 200


def test_readyz_reports_a_missing_database_an_old_schema_a_busy_writer_and_a_full_disk(db, db_path, settings, tmp_path):
    missing = Settings(data_dir=tmp_path, db_path=tmp_path / "absent.db", values={})
    r = _client(missing).get("/readyz")
    assert r.status_code == 503 and "no database at" in r.json()["reason"]
    assert not (tmp_path / "absent.db").exists()
    _beat(db, 1)
    db.execute("PRAGMA user_version = 3")
    r = _client(settings).get("/readyz")
    assert r.status_code == 503 and "run `migrate`" in r.json()["checks"]["schema"]["detail"]
    from core.db import schema_version

    db.execute(f"PRAGMA user_version = {schema_version()}")
    db.conn.execute("BEGIN IMMEDIATE")  # another writer holds the lock (a bulk import): still writable
    try:
        r = _client(settings).get("/readyz")
    finally:
        db.conn.execute("ROLLBACK")
    assert r.status_code == 200
    assert r.json()["checks"]["database"]["detail"] == "writable (another write in progress)"
    full = Settings(data_dir=settings.data_dir, db_path=settings.db_path,
                    values={"PARVIS_READY_MIN_FREE_MB": str(10**12)})
    r = _client(full).get("/readyz")
    assert r.status_code == 503 and "free some space" in r.json()["checks"]["database"]["detail"]


def test_the_worker_heartbeat_interval_matches_the_worker():
    from console import worker
    from services.operations import health

    assert health.HEARTBEAT_INTERVAL_S == worker.HEARTBEAT_S


def test_metrics_are_prometheus_text_and_every_series_is_documented(db, settings, agents, mention_factory):
    repo.upsert_mentions(db, [mention_factory("Bonjour")], now=utcnow())
    _beat(db, 3)
    r = _client(settings).get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
    names = set(re.findall(r"^# TYPE (parvis_\w+) ", r.text, re.MULTILINE))
    required = {"parvis_build_info", "parvis_mentions_ingested_total", "parvis_connector_sync_lag_seconds",
                "parvis_connector_up", "parvis_connector_last_error", "parvis_open_items",
                "parvis_outbox_queue_size", "parvis_outbox_oldest_age_seconds", "parvis_publish_lateness_seconds",
                "parvis_worker_heartbeat_age_seconds", "parvis_audit_chain_head_id", "parvis_backup_age_seconds",
                "parvis_mentions_stored", "parvis_database_size_bytes"}
    assert required <= names
    assert all(n.startswith("parvis_") for n in re.findall(r"^(\w+)[{ ]", r.text, re.MULTILINE))
    assert 'parvis_mentions_stored{platform="x"} 1.0' in r.text
    assert "parvis_open_items{band=" in r.text
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    undocumented = sorted(n for n in names if f"`{n}" not in doc and not n.startswith("parvis_process_"))
    assert not undocumented, f"document these series in docs/operations.md: {undocumented}"
    assert "Bonjour" not in r.text


def test_metrics_token_when_set(db, settings):
    protected = Settings(data_dir=settings.data_dir, db_path=settings.db_path,
                         values={"PARVIS_METRICS_TOKEN": "s3cret-token"})
    client = _client(protected)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_webhooks_are_a_404_extension_point(settings):
    client = _client(settings)
    r = client.post("/webhooks/meta", content=b"{}")
    assert r.status_code == 404 and r.json()["error"] == "no webhook handler here"


def test_security_headers_on_every_response_and_hsts_only_over_https(settings):
    plain = _client(settings).get("/healthz")
    assert plain.headers["x-frame-options"] == "DENY"
    assert plain.headers["referrer-policy"] == "same-origin"
    assert plain.headers["x-content-type-options"] == "nosniff"
    csp = plain.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "strict-transport-security" not in plain.headers
    secure = _client(settings, https=True).get("/healthz")
    assert secure.headers["strict-transport-security"].startswith("max-age=")


def test_the_csp_allows_streamlits_inline_script_by_hash(tmp_path):
    page = tmp_path / "index.html"
    page.write_text('<html><script>\n      window.prerenderReady = false\n    </script>'
                    '<script type="module" src="./static/js/index.js"></script></html>')
    hashes = mw.inline_script_hashes(page)
    assert len(hashes) == 1 and hashes[0].startswith("'sha256-")
    assert hashes[0] in mw.content_security_policy(hashes)
    assert "'unsafe-inline'" not in mw.content_security_policy(hashes).split("script-src")[1].split(";")[0]


def test_request_id_is_kept_or_generated_and_logged_without_the_query_string(settings, caplog):
    client = _client(settings)
    with caplog.at_level(logging.INFO, logger="parvis.http"):
        given = client.get("/webhooks/x?token=abcdef123456", headers={"X-Request-Id": "proxy-req-123456"})
        generated = client.get("/webhooks/y", headers={"X-Request-Id": "bad id with spaces"})
    assert given.headers["x-request-id"] == "proxy-req-123456"
    assert re.fullmatch(r"[0-9a-f]{16}", generated.headers["x-request-id"])
    lines = [r for r in caplog.records if r.name == "parvis.http"]
    assert [r.request_id for r in lines] == ["proxy-req-123456", generated.headers["x-request-id"]]
    assert "token" not in caplog.text and "abcdef123456" not in caplog.text
    assert "GET /webhooks/x 404" in caplog.text


def test_an_unexpected_error_answers_500_with_the_request_id_as_reference(settings, caplog):
    with caplog.at_level(logging.INFO, logger="parvis.http"):
        r = _client(settings).get("/boom", headers={"X-Request-Id": "ref-abcdef-42"})
    assert r.status_code == 500 and "Référence : ref-abcdef-42" in r.text
    assert r.headers["x-request-id"] == "ref-abcdef-42" and r.headers["x-frame-options"] == "DENY"
    failed = [rec for rec in caplog.records if rec.exc_info]
    assert failed and failed[0].request_id == "ref-abcdef-42"


def test_metrics_never_create_a_database(tmp_path):
    """The metrics endpoint never creates a database."""
    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "nothing.db", values={})
    r = _client(settings).get("/metrics")
    assert r.status_code == 503 and not (tmp_path / "nothing.db").exists()


def test_the_inbox_path_leads_to_the_root_where_the_inbox_is_served(settings):
    """Streamlit serves the default page at the root and answers its own path with an English « Page not found »
    box: a bookmarked or typed /inbox is redirected to the root, its query kept."""
    client = _client(settings)
    response = client.get("/inbox?mention=x:1", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "./?mention=x:1"
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "./"
