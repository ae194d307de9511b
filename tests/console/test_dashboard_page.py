"""The "Tableau de bord" page through Streamlit's AppTest: every role, the charts, CSV files equal to the service
tables, the report and FAQ downloads, and one saved reply sent (signed, audited) to every open message of a topic."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.testing.v1 import AppTest

from core import audit, repo
from core.db import write_transaction
from core.models import DraftState, Platform, Role, Status
from services.accounts import permissions
from services.inbox import saved_replies
from services.reports import dashboard
from services.reports.topics import topics_for
from tests.conftest import NOW, make_mention
from tests.dashboard.topics_data import GROUPS

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
PAGE = "console/ui/pages/dashboard.py"
TODAY = date(2026, 11, 23)  # NOW in Paris
CHART_TABLES = ("volume", "reponses_par_canal", "delais_par_canal", "delais_par_agent", "backlog", "sentiment",
                "risques")


class _Downloads:
    """Reads what the download buttons of the last run would give the browser (static or deferred data)."""

    def __init__(self) -> None:
        self.managers: list[app_test_module.MediaFileManager] = []

    def file_of(self, app: AppTest, key: str):
        proto = app.download_button(key=key).proto
        manager = self.managers[-1]
        url = proto.url or manager.execute_deferred(proto.deferred_file_id)  # deferred: built on click
        return manager.read_file(os.path.basename(url))

    def bytes_of(self, app: AppTest, key: str) -> bytes:
        return self.file_of(app, key).content


@pytest.fixture
def downloads(monkeypatch) -> _Downloads:
    captured = _Downloads()

    class Capturing(app_test_module.MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            captured.managers.append(self)

    monkeypatch.setattr(app_test_module, "MediaFileManager", Capturing)
    return captured


@pytest.fixture
def city(db, agents):
    """The demo city: a swimming-pool topic (one already answered), a noise topic, answered Facebook comments."""
    uids = []
    with write_transaction(db):
        for i, text in enumerate(GROUPS["piscine"] + GROUPS["bruit"]):
            m = replace(make_mention(text, pid=f"demo-{i}", author=f"habitant{i}",
                                     created_at=NOW - timedelta(hours=i + 1)), account="demo")
            scores = repo.Scores(sentiment="negative" if i % 2 else "neutral",
                                 risk_flags=({"kind": "insult", "score": 0.9, "spans": []},) if i == 3 else ())
            repo.upsert_mentions(db, [m], now=NOW, scores=[scores])
            uids.append(m.uid)
        for i in range(3):
            m = replace(make_mention(f"Merci pour le marché {i}", platform=Platform.FACEBOOK, pid=f"fb-{i}",
                                     created_at=NOW - timedelta(days=3, hours=i)), account="demo")
            repo.upsert_mentions(db, [m], now=NOW, scores=[repo.Scores(sentiment="positive")])
            repo.create_draft(db, mention_uid=m.uid, author_id=agents["karim"].id, body="Merci", signed_text="Merci KB",
                              platform=Platform.FACEBOOK, state=DraftState.SENT,
                              now=NOW - timedelta(days=3, hours=i) + timedelta(hours=2))
        repo.set_status(db, uids[1], Status.ANSWERED, now=NOW)
        repo.add_tag(db, uids[0], "piscine")
    return uids


@pytest.fixture
def app(db_path, city, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    monkeypatch.setattr("console.ui.deps.now", lambda: NOW)
    return AppTest.from_file(ENTRYPOINT, default_timeout=60)


def open_as(app: AppTest, agent) -> AppTest:
    app.run()
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def charts(app: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in app.get("vega_lite_chart")]


def default_filters() -> dashboard.DashboardFilters:
    since, until = dashboard.period(TODAY - timedelta(days=29), TODAY)
    return dashboard.DashboardFilters(since=since, until=until)


@pytest.mark.parametrize("name", ["julie", "sophie", "marc", "admin"])
def test_every_role_sees_the_dashboard_and_only_editors_can_answer(app, agents, name):
    open_as(app, agents[name])
    assert app.title[0].value == "Tableau de bord"
    titles = {str(spec.get("title")) for spec in charts(app)}
    assert len(charts(app)) == len(CHART_TABLES)  # one chart per service table
    assert "Messages reçus par jour et par canal" in titles
    assert any("90e centile" in t for t in titles) and any("Signalements de risque" in t for t in titles)
    assert "**7 messages sur « piscine fermée »**" in [m.value for m in app.markdown]  # 8 sent, one a stray
    assert "Pourquoi la piscine municipale est fermée depuis lundi ?" in [t.value for t in app.text]
    can_answer = agents[name].role in (Role.COMMUNITY_MANAGER, Role.DIRECTOR)
    captions = [c.value for c in app.caption]
    assert any("Lecture seule" in c for c in captions) is not can_answer
    assert any("Aucun modèle de réponse" in c for c in captions) is can_answer  # none saved yet


def test_a_role_without_inbox_access_gets_no_dashboard(app, agents, monkeypatch):
    monkeypatch.setitem(permissions.MATRIX, Role.LEGAL, frozenset())
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["marc"].id).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)


def test_csv_downloads_are_the_service_tables(app, agents, db, downloads):
    open_as(app, agents["sophie"])
    expected = dashboard.load_dashboard(db, default_filters(), dashboard.DashboardConfig(), now=NOW).tables()
    assert expected["volume"] and expected["delais_par_agent"] and expected["risques"]
    for name in (*CHART_TABLES, "jours"):
        got = downloads.bytes_of(app, f"dashboard_csv_{name}").decode("utf-8")
        assert got == dashboard.to_csv(expected[name]), name
    assert "Karim Benali" in downloads.bytes_of(app, "dashboard_csv_delais_par_agent").decode()
    app.multiselect(key="dashboard_platforms").select("facebook").run()
    volume = downloads.bytes_of(app, "dashboard_csv_volume").decode().splitlines()
    assert volume == ["day,channel,mentions,answered", "2026-11-20,facebook,3,3"]  # the filter applies


def test_report_and_faq_downloads(app, agents, downloads):
    open_as(app, agents["marc"])
    app.date_input(key="dashboard_report_period").set_value((TODAY - timedelta(days=6), TODAY)).run()
    pdf = downloads.bytes_of(app, "dashboard_report_download")
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    app.radio(key="dashboard_report_format").set_value("csv").run()
    report_csv = downloads.file_of(app, "dashboard_report_download")
    assert report_csv.filename == "rapport-2026-11-17-2026-11-23.csv"
    text = report_csv.content.decode()
    assert text.startswith("section,dimension,metric,value") and "totaux,,mentions,16" in text
    faq = downloads.bytes_of(app, "dashboard_faq_download").decode()
    assert faq.startswith("<!DOCTYPE html>") and "Questions fréquentes" in faq


def test_group_answer_sends_one_signed_reply_per_open_mention(app, agents, db, city, db_path):
    sophie = agents["sophie"]
    saved = saved_replies.create(db, sophie, title="Piscine", now=NOW,
                                 body="Bonjour {prenom}, la piscine rouvre lundi après les travaux.")
    topic = next(t for t in topics_for(db, default_filters(), dashboard.DashboardConfig(), now=NOW)
                 if "piscine" in t.label)
    assert city[1] in topic.uids and city[1] not in topic.open_uids  # already answered
    open_as(app, sophie)
    app.selectbox(key=f"dashboard_saved_{topic.id}").select(saved.id).run()
    assert any(t.value.startswith("Bonjour Habitant") and "Sophie" in t.value for t in app.text)  # preview
    assert app.button(key=f"answer_group_{topic.id}").disabled  # not confirmed yet
    app.checkbox(key=f"dashboard_confirm_{topic.id}").check().run()
    app.button(key=f"answer_group_{topic.id}").click().run()
    assert not app.exception
    assert any(f"{len(topic.open_uids)} réponse(s) envoyée(s)" in s.value for s in app.success), \
        [e.value for e in app.error]

    outbox = [json.loads(line) for line in (db_path.parent / "demo-outbox.jsonl").read_text().splitlines()]
    replies = [r for r in outbox if r.get("kind") == "reply"]
    assert len(replies) == len(topic.open_uids)
    assert all("la piscine rouvre lundi" in r["text"] and "Sophie" in r["text"] for r in replies)
    for uid in topic.open_uids:
        sent = [d for d in repo.drafts_for(db, uid) if d.state is DraftState.SENT]
        assert len(sent) == 1 and sent[0].author_id == sophie.id
        assert repo.get_item(db, uid).status is Status.ANSWERED
        events = [e["event"] for e in audit.events_for(db, uid)]
        assert "reply-drafted" in events and "reply-sent" in events
    assert repo.drafts_for(db, city[1]) == []  # the message answered earlier gets nothing
    assert audit.verify_chain(db).ok


def test_group_answer_is_submitted_for_approval_when_the_agent_needs_it(app, agents, db, db_path):
    karim = repo.update_agent(db, agents["karim"].id, needs_approval=True)
    saved = saved_replies.create(db, agents["sophie"], title="Bruit", now=NOW,
                                 body="Bonjour {prenom}, la police municipale passera ce soir.")
    topic = next(t for t in topics_for(db, default_filters(), dashboard.DashboardConfig(), now=NOW)
                 if "bruit" in t.label)
    open_as(app, karim)
    app.selectbox(key=f"dashboard_saved_{topic.id}").select(saved.id).run()
    assert any("soumises à la direction" in i.value for i in app.info)
    app.checkbox(key=f"dashboard_confirm_{topic.id}").check().run()
    app.button(key=f"answer_group_{topic.id}").click().run()
    assert any(f"{len(topic.open_uids)} soumise(s) à la validation" in s.value for s in app.success)
    assert not (db_path.parent / "demo-outbox.jsonl").exists()  # nothing public before a director approves
    for uid in topic.open_uids:
        assert [d.state for d in repo.drafts_for(db, uid)] == [DraftState.SUBMITTED]
        assert repo.get_item(db, uid).status is not Status.ANSWERED
