"""The Modération page works through a flood (issue #17): true count, the threat first with its passage marked,
residents' hostile text shown literally, a filter then a bulk dismissal with one reason; the risk column in
French; and on the demo city the threat is on the first screen of the queue and of the inbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.ui import components
from console.ui.deps import AGENT_KEY
from core import audit, repo
from core.config import Settings
from core.models import InboxItem, Status
from services.connections import demo as demo_service
from services.moderation import queue as mq
from tests.conftest import NOW, make_mention

ROOT = Path(__file__).resolve().parents[2]
PAGE = "console/ui/pages/moderation_queue.py"
THREAT_TEXT = "Continuez et un jour quelqu'un va mettre le feu à la mairie. Et ce sera peut-être moi."
HOSTILE = "<script>alert(1)</script> **x** [lien](http://x.y) :red[rouge] connard"


@pytest.fixture
def flood(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    monkeypatch.setattr("console.ui.deps.now", lambda: now)
    storm = [replace(make_mention(f"Arbre tombé rue {i}, danger", pid=f"s{i}", author=f"a{i}"), account="demo")
             for i in range(60)]
    start = THREAT_TEXT.index("mettre le feu")
    others = [replace(make_mention(THREAT_TEXT, pid="threat", author="z"), account="demo"),
              replace(make_mention(HOSTILE, pid="hostile", author="h"), account="demo")]
    scores = [repo.Scores(risk_score=0.93, priority=89.0,
                          risk_flags=({"kind": "urgent", "score": 0.95, "spans": [[0, 11]]},))] * 60
    scores += [repo.Scores(risk_score=0.85, priority=60.0, risk_flags=(
                   {"kind": "threat", "score": 0.85, "spans": [[start, start + len("mettre le feu à la mairie")]]},
                   {"kind": "urgent", "score": 0.3, "spans": []})),
               repo.Scores(risk_score=0.8, priority=95.0, risk_flags=(
                   {"kind": "insult", "score": 0.85, "spans": [[HOSTILE.index("connard"), len(HOSTILE)]]},))]
    repo.upsert_mentions(db, [*storm, *others], now=now - timedelta(minutes=30), scores=scores)
    return db


def open_as(agent) -> AppTest:
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    page.session_state[AGENT_KEY] = agent.id
    page.run()
    assert not page.exception, page.exception
    return page


def test_marked_text_and_risk_summary_are_plain_french():
    assert components.marked_text("abc def ghi", [(4, 7), (5, 6), (99, 100)]) == "abc ⟦def⟧ ghi"
    assert components.marked_text(HOSTILE, []) == HOSTILE
    m = make_mention("x")
    it = InboxItem(mention=m, status=Status.NEW, assigned_to=None, ingested_at=m.created_at,
                   risk_flags=({"kind": "urgent"}, {"kind": "threat"}, {"kind": "weird"}))
    assert components.risk_summary(it) == "⚠ menace, urgence, autre"


def test_the_flood_is_worked_through_with_a_filter_and_one_bulk_dismissal(flood, agents, db):
    page = open_as(agents["julie"])
    assert page.metric[0].value == "62"
    assert any("menaces" in c.value for c in page.caption)  # the ranking rule is shown
    shown = [t.value for t in page.text]
    first_card = shown[0]
    assert first_card.startswith("Continuez") and "⟦mettre le feu à la mairie⟧" in first_card
    assert any(t == HOSTILE for t in shown)  # verbatim, as text (the exact text in its expander)
    assert any("⟦connard⟧" in t and "<script>" in t and "**x**" in t for t in shown)
    assert all("<script>" not in m.value and "**x**" not in m.value for m in page.markdown)
    assert any("⚠ menace" in h.value for h in page.markdown)  # French label, not « threat »
    assert all("threat" not in m.value for m in page.markdown)
    # filter the storm, then dismiss everything the filter matches with one reason
    page.multiselect(key="moderation_kinds").select("urgent").run()
    page.text_input(key="moderation_search").input("arbre").run()
    assert any("60 message(s) correspondent" in c.value for c in page.caption)
    page.radio(key="moderation_bulk_scope").set_value("filter").run()
    page.selectbox(key="moderation_bulk_reason").select("false_alarm").run()
    page.button(key="moderation_bulk_dismiss").click().run()
    assert not page.exception
    assert any("60 signalement(s) classé(s)" in s.value for s in page.success)
    assert mq.queue_count(db, 0.5, NOW) == 2
    assert repo.get_item(db, "x:s3").status is Status.CLOSED
    assert len([e for e in audit.events_for(db, "x:s3") if e["event"] == "dismissed"]) == 1


def test_picked_items_are_dismissed_together(flood, agents, db):
    page = open_as(agents["julie"])
    page.checkbox(key="moderation_pick_x:s1").check().run()
    page.checkbox(key="moderation_pick_x:s2").check().run()
    page.button(key="moderation_bulk_dismiss").click().run()
    assert any("2 signalement(s) classé(s)" in s.value for s in page.success), [e.value for e in page.error]
    assert repo.get_item(db, "x:s1").status is Status.CLOSED
    assert repo.get_item(db, "x:s4").status is Status.NEW


def test_demo_threat_on_the_first_screen_of_queue_and_inbox(db, tmp_path, now):
    settings = Settings(data_dir=tmp_path / "demo", db_path=tmp_path / "demo" / "p.db")
    demo_service.load_demo(db, settings, now=now)
    first_page = mq.queue_page(db, 0.5, now, page_size=10).items
    assert any("mettre le feu à la mairie" in i.item.mention.text for i in first_page)
    inbox_top = repo.list_inbox(db, repo.InboxQuery(limit=10))
    assert any("mettre le feu à la mairie" in i.mention.text for i in inbox_top)
    # the console's false positives are gone from the demo
    texts = {i.item.mention.text for i in mq.queue(db, 0.5, now, limit=1000)}
    assert not any("pourriez" in t for t in texts) and not any("dans le noir" in t.lower() for t in texts)


def test_each_item_names_the_model_that_scored_its_risk(db_path, db, agents, now, monkeypatch):
    """A moderator deciding on a flag sees which model raised it (decision 0325), plain text; an item scored
    before the risk model was recorded shows no model rather than a wrong one."""
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    monkeypatch.setattr("console.ui.deps.now", lambda: now)
    flag = {"kind": "insult", "score": 0.85, "spans": [[0, 7]]}
    repo.upsert_mentions(db, [replace(make_mention("connard de maire", pid="new", author="a"), account="demo"),
                              replace(make_mention("connard d'adjoint", pid="old", author="b"), account="demo")],
                         now=now - timedelta(minutes=5), scores=[
        repo.Scores(risk_score=0.8, priority=50.0, risk_flags=(flag,), model_version="offline-sentiment-3+aa+bb",
                    risk_model_version="offline-toxicity-2+cac9ae7f+a2c545eb"),
        repo.Scores(risk_score=0.8, priority=40.0, risk_flags=(flag,), model_version="offline-sentiment-2")])
    risk_lines = [c.value.replace("\\", "") for c in open_as(agents["julie"]).caption
                  if c.value.startswith("Risque")]
    assert risk_lines == ["Risque 0,80 : Insulte · modèle : offline-toxicity-2+cac9ae7f+a2c545eb",
                          "Risque 0,80 : Insulte"]
