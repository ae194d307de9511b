"""The Modération page through AppTest: roles, queue with flagged spans, hide with a ground on a demo mention (demo
outbox + audit), elected authors' second confirmation, self-harm routed to help, crisis banner, acts left « à
vérifier » settled by a person."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.ui.deps import AGENT_KEY
from core import audit, repo
from core.config import Settings
from core.errors import Unavailable
from core.repo import outbox as acts_repo
from services.moderation import actions as moderation_actions
from tests.conftest import make_mention
from tests.french import raises_fr
from tests.outbox.fakes import FakeModerationPlatform

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
PAGE = "console/ui/pages/moderation_queue.py"
UID = "x:demo-1"
INSULT_TEXT = "Bande de crétins <b>incompétents</b> à la mairie"
FLAGS = ({"kind": "insult", "score": 0.9, "spans": [[9, 16]], "reason": "Propos injurieux"},)


@pytest.fixture
def setup(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    monkeypatch.setenv("PARVIS_MUNICIPAL_SERVICES", "Voirie=voirie@ville.fr")
    monkeypatch.setattr("console.ui.deps.now", lambda: now)
    demo = [replace(make_mention(INSULT_TEXT, pid="demo-1"), account="demo"),
            replace(make_mention("Je n'en peux plus, je veux en finir", pid="demo-2", author="anon"), account="demo"),
            replace(make_mention("Merci pour le marché", pid="demo-3", author="paul"), account="demo")]
    scores = [repo.Scores(risk_score=0.9, risk_flags=FLAGS, priority=90),
              repo.Scores(risk_score=0.95, risk_flags=({"kind": "self_harm", "score": 0.95, "spans": [[24, 34]]},),
                          priority=95),
              repo.Scores(risk_score=0.0, priority=10)]
    repo.upsert_mentions(db, demo, now=now - timedelta(minutes=30), scores=scores)
    return db


def open_as(agent) -> AppTest:
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=30)
    page.session_state[AGENT_KEY] = agent.id
    page.run()
    assert not page.exception, page.exception
    return page


def texts(elements) -> list[str]:
    return [str(e.value).replace("\\", "") for e in elements]


@pytest.mark.parametrize("who", ["julie", "sophie", "marc"])
def test_page_renders_for_allowed_roles(setup, agents, who):
    page = open_as(agents[who])
    assert page.title[0].value == "Modération"
    shown = [t.value for t in page.text]
    assert INSULT_TEXT in shown and "« crétins » (insulte)" in shown
    assert "Merci pour le marché" not in shown  # below the threshold
    assert all("<b>" not in m.value for m in page.markdown)
    assert any("3114" in i for i in texts(page.info))
    assert bool(page.button) is (who != "marc")  # legal staff read only


def test_admin_is_refused(setup, agents):
    page = open_as(agents["admin"])
    assert any("Accès refusé" in e for e in texts(page.error)) and not page.text


def test_navigation_lists_the_page(setup, agents):
    app = AppTest.from_file(ENTRYPOINT, default_timeout=30)
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    app.switch_page(PAGE).run()
    assert not app.exception and app.title[0].value == "Modération"


def test_hide_needs_a_ground_then_reaches_demo_outbox_and_audit(setup, db, db_path, agents):
    page = open_as(agents["julie"])
    assert page.selectbox(key=f"moderation_ground_{UID}").value == "insult_defamation"  # suggested by the flag
    page.selectbox(key=f"moderation_ground_{UID}").select("").run()
    page.button(key=f"hide_{UID}").click().run()
    assert any("Un motif légal est obligatoire" in e for e in texts(page.error))
    assert not repo.get_item(db, UID).hidden
    page.selectbox(key=f"moderation_ground_{UID}").select("insult_defamation").run()
    page.button(key=f"hide_{UID}").click().run()
    assert any("masqué" in s for s in texts(page.success)), texts(page.error)
    assert repo.get_item(db, UID).hidden
    outbox = [json.loads(line) for line in (db_path.parent / "demo-outbox.jsonl").read_text().splitlines()]
    assert outbox[-1]["kind"] == "hide" and outbox[-1]["mention_uid"] == UID
    [event] = [e for e in audit.events_for(db, UID) if e["event"] == "mention-hidden"]
    assert event["properties"]["ground"] == "insult_defamation"
    assert INSULT_TEXT in [t.value for t in page.text]  # now in "Messages masqués", with the unhide button
    page.button(key=f"unhide_{UID}").click().run()
    assert not repo.get_item(db, UID).hidden


def test_elected_author_goes_through_director_confirmation(setup, db, agents, now):
    moderation_actions.mark_author(db, UID, "opposition", actor=agents["julie"], now=now)
    page = open_as(agents["julie"])
    assert any("L.2121-27-1" in w for w in texts(page.warning))
    page.button(key=f"hide_{UID}").click().run()
    assert any("direction de la communication" in s for s in texts(page.success))
    assert not repo.get_item(db, UID).hidden
    director = open_as(agents["sophie"])
    request = director.button(key="confirm_1")
    request.click().run()
    assert any("confirmée" in s for s in texts(director.success)), texts(director.error)
    assert repo.get_item(db, UID).hidden


def test_dismiss_and_forward(setup, db, agents):
    page = open_as(agents["julie"])
    page.button(key=f"forward_{UID}").click().run()
    assert any("voirie@ville.fr" in s for s in texts(page.success))
    page.selectbox(key=f"moderation_reason_{UID}").select("criticism").run()
    page.button(key=f"dismiss_{UID}").click().run()
    assert INSULT_TEXT not in [t.value for t in page.text]
    assert [e["properties"]["reason"] for e in audit.events_for(db, UID) if e["event"] == "dismissed"] == ["criticism"]


def test_crisis_banner(setup, db, agents, now):
    burst = [make_mention(f"Honte à la mairie {i}", pid=f"c{i}", created_at=now - timedelta(minutes=i + 1))
             for i in range(8)]
    repo.upsert_mentions(db, burst, now=now, scores=[repo.Scores(sentiment="negative")] * 8)
    page = open_as(agents["julie"])
    assert any(e.startswith("Alerte") for e in texts(page.error))


def test_ban_with_a_ground_reaches_demo_outbox_then_can_be_lifted(setup, db, db_path, agents):
    page = open_as(agents["julie"])
    page.selectbox(key=f"moderation_ground_{UID}").select("").run()
    page.button(key=f"ban_{UID}").click().run()
    assert any("Un motif légal est obligatoire" in e for e in texts(page.error))
    page.selectbox(key=f"moderation_ground_{UID}").select("insult_defamation").run()
    page.button(key=f"ban_{UID}").click().run()
    assert any("banni" in s for s in texts(page.success)), texts(page.error)
    author_id = repo.get_item(db, UID).mention.author.platform_id
    outbox = [json.loads(line) for line in (db_path.parent / "demo-outbox.jsonl").read_text().splitlines()]
    assert (outbox[-1]["kind"], outbox[-1]["target"]) == ("ban", author_id)
    [event] = [e for e in audit.events_for(db, UID) if e["event"] == "author-banned"]
    assert event["properties"]["ground"] == "insult_defamation"
    assert "Auteurs bannis" in [h.value for h in page.subheader] and INSULT_TEXT in [t.value for t in page.text]
    assert not any(b.key == f"ban_{UID}" for b in page.button)  # out of the queue
    page.button(key=f"unban_x_{author_id}").click().run()
    assert any("levé" in s for s in texts(page.success)), texts(page.error)
    outbox = [json.loads(line) for line in (db_path.parent / "demo-outbox.jsonl").read_text().splitlines()]
    assert (outbox[-1]["kind"], outbox[-1]["target"]) == ("unban", author_id)
    assert "Auteurs bannis" not in [h.value for h in page.subheader]
    assert [e["event"] for e in audit.events_for(db, UID)][-1] == "author-unbanned"


def test_legal_staff_see_bans_without_the_unban_button(setup, db, db_path, agents, now):
    settings = Settings(data_dir=db_path.parent, db_path=db_path)
    moderation_actions.restrict(db, settings, UID, "ban", "threat", actor=agents["julie"], now=now)
    page = open_as(agents["marc"])
    assert "Auteurs bannis" in [h.value for h in page.subheader]
    assert not any(str(b.key).startswith("unban_") for b in page.button)


def test_an_act_left_to_verify_is_settled_from_the_page(setup, db, db_path, agents, now, monkeypatch):
    """An uncertain hide on a platform that cannot be looked up: listed « à vérifier » with what the platform said
    (escaped), and the person who looked says it is done (page.run): the mention is marked hidden."""
    platform = FakeModerationPlatform(can_look_up=False, script=["ambig_after"])
    with monkeypatch.context() as patched:
        patched.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
        with raises_fr(Unavailable, "à vérifier"):
            moderation_actions.hide(db, Settings(data_dir=db_path.parent, db_path=db_path), UID, "insult_defamation",
                                    actor=agents["julie"], now=now)
    [act] = acts_repo.acts_for(db, UID)
    assert act.state == "to_verify" and not repo.get_item(db, UID).hidden
    page = open_as(agents["julie"])
    assert any(w.startswith("À vérifier") for w in texts(page.warning))
    page.button(key=f"act_done_{act.id}").click().run()
    assert not page.exception and "Action marquée faite." in texts(page.success), texts(page.error)
    assert acts_repo.get_act(db, act.id).state == "done" and repo.get_item(db, UID).hidden
    assert [e["properties"]["via"] for e in audit.events_for(db, UID) if e["event"] == "mention-hidden"] == ["person"]
    assert not [b for b in page.button if b.key == f"act_done_{act.id}"]  # settled: no longer listed


def test_legal_staff_see_an_act_to_verify_without_the_buttons(setup, db, db_path, agents, now, monkeypatch):
    platform = FakeModerationPlatform(can_look_up=False, script=["ambig_after"])
    with monkeypatch.context() as patched:
        patched.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
        with pytest.raises(Unavailable):
            moderation_actions.hide(db, Settings(data_dir=db_path.parent, db_path=db_path), UID, "insult_defamation",
                                    actor=agents["julie"], now=now)
    page = open_as(agents["marc"])
    assert any(w.startswith("À vérifier") for w in texts(page.warning)) and not page.button
