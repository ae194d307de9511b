"""Logs: one line per event, JSON on demand, request id on the line, no secret, no resident's text at INFO."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from connectors.demo.connector import DemoConnector
from console import logs
from console.web.middleware import RequestIdMiddleware
from console.web.routes import parvis_routes
from core.config import Settings
from services.connections.ingest import sync_connector


@pytest.fixture
def captured():
    """Parvis's handler on the root logger, writing into a buffer; the previous configuration restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_secrets = set(logs._secrets)  # noqa: SLF001
    buffer = io.StringIO()

    def install(fmt: str, settings: Settings | None = None) -> io.StringIO:
        logs.configure(logging.INFO, fmt=fmt, stream=buffer, settings=settings, force=True)
        return buffer

    yield install
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)
    logs._secrets.clear()  # noqa: SLF001
    logs._secrets.update(saved_secrets)  # noqa: SLF001


def test_json_lines_carry_the_request_id_fields_and_the_traceback_on_one_line(captured):
    out = captured("json")
    token = logs.REQUEST_ID.set("req-123456")
    try:
        logging.getLogger("parvis.test").info("hello %s", "world", extra={"fields": {"status": 200}})
        try:
            raise ValueError("line one\nline two")
        except ValueError:
            logging.getLogger("parvis.test").exception("failed")
    finally:
        logs.REQUEST_ID.reset(token)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == "hello world" and first["request_id"] == "req-123456" and first["status"] == 200
    assert first["level"] == "INFO" and first["logger"] == "parvis.test" and first["ts"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: line one\nline two" in second["exc"]


def test_text_lines_escape_newlines(captured):
    out = captured("text")
    try:
        raise RuntimeError("a\nb")
    except RuntimeError:
        logging.getLogger("parvis.test").exception("broken\nmessage")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "broken\\nmessage" in lines[0] and "RuntimeError: a\\nb" in lines[0]


def test_log_format_comes_from_the_environment():
    assert logs.log_format({"PARVIS_LOG_FORMAT": "JSON"}) == "json"
    assert logs.log_format({}) == "text"
    assert logs.log_format({"PARVIS_LOG_FORMAT": "xml"}) == "text"


def test_secret_values_are_masked_whoever_logs_them(captured, tmp_path):
    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "p.db",
                        values={"PARVIS_X_BEARER_TOKEN": "AAAA-very-secret-bearer", "PARVIS_DEMO": "1",
                                "PARVIS_FB_PAGE_TOKEN": "fb-page-token-42", "PARVIS_SYNC_INTERVAL_S": "60"})
    out = captured("json", settings)
    logging.getLogger("tweepy.client").warning("GET with Authorization: Bearer %s", "AAAA-very-secret-bearer")
    logging.getLogger("parvis.test").error("token fb-page-token-42 refused", exc_info=ValueError("fb-page-token-42"))
    text = out.getvalue()
    assert "very-secret" not in text and "fb-page-token-42" not in text
    assert text.count("***") >= 3
    assert "60" in logs.mask("every 60 s")  # short or ordinary values are not secrets


def test_no_residents_text_at_info_during_a_sync_and_http_requests(captured, db, db_path, now):
    out = captured("json")
    demo = DemoConnector(clock=lambda: now, history_days=2)
    sync_connector(db, demo, now=now)
    sync_connector(db, DemoConnector(clock=lambda: now + timedelta(hours=3), history_days=2),
                   now=now + timedelta(hours=3))
    settings = Settings(data_dir=db_path.parent, db_path=db_path, values={})
    app = Starlette(routes=parvis_routes(settings), middleware=[Middleware(RequestIdMiddleware)])
    client = TestClient(app)
    for path in ("/readyz", "/metrics", "/webhooks/meta?hub.verify_token=xyz"):
        client.get(path)
    texts = [r[0] for r in db.execute("SELECT text FROM mentions") if len(r[0]) >= 12]
    handles = [r[0] for r in db.execute("SELECT author_handle FROM mentions") if len(r[0]) >= 6]
    assert len(texts) > 10
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    info = [line for line in lines if line["level"] in ("DEBUG", "INFO")]
    assert any("sync demo" in line["msg"] for line in info) and any(line["logger"] == "parvis.http" for line in info)
    dump = json.dumps(info, ensure_ascii=False)
    assert not [t for t in texts if t in dump], "a resident's text was logged at INFO"
    assert not [h for h in handles if h in dump], "a resident's handle was logged at INFO"
    assert "xyz" not in dump, [line for line in info if "xyz" in json.dumps(line)]
