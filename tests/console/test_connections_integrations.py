"""The Connexions page's integrations section through Streamlit's AppTest: a person toggles their e-mail notices
(stored, audited), an administrator adds a webhook endpoint (its secret shown once) and sees the delivery log, a
community manager sees neither the endpoints nor the back-office mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import audit
from core.repo import integrations as integrations_repo
from services.integrations import notices

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
PAGE = "console/ui/pages/connections.py"


@pytest.fixture
def app(db_path, agents, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DEMO", "0")
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def open_as(app: AppTest, agent) -> AppTest:
    app.run()
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_a_person_toggles_a_notice(app, db, agents):
    open_as(app, agents["sophie"])
    assert any(s.value == "Mes notifications par e-mail" for s in app.subheader)
    toggle = app.toggle(key="notice_approval")
    assert toggle.value is True  # a director gets approvals by default
    toggle.set_value(False).run()
    assert not app.exception, app.exception
    assert notices.preferences(db, agents["sophie"])["approval"] is False
    assert "notice-preference-changed" in audit.event_names(db)


def test_an_administrator_adds_a_webhook_endpoint(app, db, agents):
    open_as(app, agents["admin"])
    app.text_input(key="webhook_url").input("https://grc.valmont.fr/parvis").run()
    app.multiselect(key="webhook_events").select("reply.sent").run()
    app.button(key="webhook_add").click().run()
    assert not app.exception, app.exception
    [endpoint] = integrations_repo.endpoints(db)
    assert endpoint.url == "https://grc.valmont.fr/parvis" and endpoint.events == ("reply.sent",)
    assert any(endpoint.secret == c.value for c in app.code)  # shown once
    assert any("Aucun événement envoyé" in c.value for c in app.caption)


def test_a_community_manager_does_not_manage_endpoints(app, agents):
    open_as(app, agents["julie"])
    assert not [t for t in app.text_input if t.key == "webhook_url"]
    assert any(s.value == "Webhooks sortants" for s in app.subheader)
