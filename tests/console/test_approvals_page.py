"""The Approbations page through AppTest: directors only; each submitted reply with the message it answers (and its
risk), the charter results and the diff; approve (and send to the demo outbox), request changes, the four-eyes
rule refused by the service; saved replies managed by directors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.ui.deps import AGENT_KEY
from core import audit, repo
from core.models import DraftState
from services.inbox import replies
from tests.conftest import make_mention

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
PAGE = "console/ui/pages/approvals.py"
UID = "x:demo-1"
RESIDENT = "Les poubelles débordent rue des Lilas, c'est <b>honteux</b> !!"
BODY = "Bonjour, désolé pour ce problème : le service propreté passe demain matin."


@pytest.fixture
def setup(db_path, db, agents, now, monkeypatch):
    """Julie (needs approval) has submitted a reply to a risky demo mention."""
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    monkeypatch.setattr("console.ui.deps.now", lambda: now)
    repo.upsert_mentions(db, [replace(make_mention(RESIDENT, pid="demo-1"), account="demo")], now=now,
                         scores=[repo.Scores(risk_score=0.85, risk_flags=({"kind": "insult", "label": "insulte"},),
                                             priority=8)])
    julie = repo.update_agent(db, agents["julie"].id, needs_approval=True)
    draft = replies.create_draft(db, julie, mention_uid=UID, body=BODY, now=now)
    return replies.submit(db, julie, draft.id, now=now)


@pytest.fixture
def app(setup):
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def open_as(app: AppTest, agent) -> AppTest:
    app.run()
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def texts(elements) -> list[str]:
    """Element values without Markdown escapes."""
    return [str(e.value).replace("\\", "") for e in elements]


@pytest.mark.parametrize("who", ["julie", "karim", "marc", "admin"])
def test_other_roles_are_refused(db_path, agents, setup, who):
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=30)
    page.session_state[AGENT_KEY] = agents[who].id
    page.run()
    assert not page.exception
    assert any("réservée à la direction de la communication" in e for e in texts(page.error))
    assert any("ne permet pas de valider les réponses" in c for c in texts(page.caption))
    assert not page.button and not page.tabs and not page.text


def test_navigation_offers_the_page_to_directors_only(app, agents):
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)
    open_as(app, agents["sophie"])
    assert app.title[0].value == "Approbations"


def test_director_sees_the_reply_the_mention_its_risk_and_the_charter(app, agents, setup):
    open_as(app, agents["sophie"])
    assert [t.label for t in app.tabs] == ["À valider (1)", "Modèles de réponse"]
    shown = texts(app.text)
    assert RESIDENT in [t.value for t in app.text]  # resident's text verbatim, never as HTML
    assert all("<b>" not in m.value for m in app.markdown)
    assert f"{BODY}\n— Julie" in shown
    assert any("Risque : 85%" in w and "insulte" in w for w in texts(app.warning))
    reasons = next(c for c in texts(app.caption) if c.startswith("Validation requise"))
    assert "risque élevé" in reasons and "avertissements de la charte" in reasons and "cet agent" in reasons
    findings = next(t.value for t in app.table if "Passage" in t.value.columns).map(
        lambda v: str(v).replace("\\", ""))  # cells are Markdown-escaped
    # the determiner agrees with the replacement (« cette difficulté », not « ce difficulté »: issue #17)
    assert list(findings["Règle"]) == ["Termes déconseillés"] and list(findings["Passage"]) == ["ce problème"]
    assert list(findings["Suggestion"]) == ["cette difficulté"]
    assert not [c for c in app.code if c.language == "diff"]  # first submission: nothing to compare with


def test_approve_and_send_reaches_the_demo_outbox_signed(app, db, db_path, agents, setup):
    open_as(app, agents["sophie"])
    app.button(key=f"approve_{setup.id}").click().run()
    assert any("validée et envoyée" in s for s in texts(app.success)), texts(app.error)
    draft = repo.get_draft(db, setup.id)
    assert draft.state is DraftState.SENT and draft.approver_id == agents["sophie"].id
    outbox = [json.loads(line) for line in (db_path.parent / "demo-outbox.jsonl").read_text().splitlines()]
    assert outbox[-1]["text"] == f"{BODY}\n— Julie"
    events = [(e["event"], e["actor"]) for e in audit.events_for(db, UID)]
    assert ("reply-approved", "sophie@valmont.fr") in events and ("reply-sent", "sophie@valmont.fr") in events
    assert any("Aucune réponse en attente" in i for i in texts(app.info))


def test_approve_without_sending_leaves_it_to_the_author(app, db, agents, setup):
    open_as(app, agents["sophie"])
    app.button(key=f"approve_only_{setup.id}").click().run()
    assert any("son auteur peut l'envoyer" in s for s in texts(app.success))
    assert repo.get_draft(db, setup.id).state is DraftState.APPROVED


def test_request_changes_needs_a_comment_then_shows_the_diff_on_resubmission(app, db, agents, setup, now):
    open_as(app, agents["sophie"])
    app.button(key=f"request_changes_{setup.id}").click().run()
    assert any("Expliquez les modifications" in e for e in texts(app.error))
    assert repo.get_draft(db, setup.id).state is DraftState.SUBMITTED
    app.text_area(key=f"changes_comment_{setup.id}").input("Évitez « problème », précisez l'heure.")
    app.button(key=f"request_changes_{setup.id}").click().run()
    assert any("Modifications demandées" in s for s in texts(app.success))
    draft = repo.get_draft(db, setup.id)
    assert draft.state is DraftState.CHANGES_REQUESTED
    assert draft.comment == "Évitez « problème », précisez l'heure."
    assert [e["properties"]["comment"] for e in audit.events_for(db, UID) if e["event"] == "changes-requested"] == [
        "Évitez « problème », précisez l'heure."]
    julie = repo.get_agent(db, agents["julie"].id)
    replies.edit(db, julie, setup.id, body="Bonjour, le service propreté passe demain à 8 h.", now=now)
    replies.submit(db, julie, setup.id, now=now)
    app.run()
    assert any("depuis la soumission précédente" in c for c in texts(app.caption))
    diff = next(c.value for c in app.code if c.language == "diff")
    assert f"-{BODY}" in diff and "+Bonjour, le service propreté passe demain à 8 h." in diff


def test_director_cannot_approve_her_own_reply(app, db, agents, now, setup):
    sophie = agents["sophie"]
    own = replies.submit(db, sophie, replies.create_draft(db, sophie, mention_uid=UID, body=BODY, now=now).id,
                         now=now)
    open_as(app, sophie)
    assert any("Vous êtes l'auteur" in i for i in texts(app.info))
    app.button(key=f"approve_{own.id}").click().run()
    assert any("quatre yeux" in e for e in texts(app.error))
    app.text_area(key=f"changes_comment_{own.id}").input("à revoir")
    app.button(key=f"request_changes_{own.id}").click().run()
    assert any("quatre yeux" in e for e in texts(app.error))
    assert repo.get_draft(db, own.id).state is DraftState.SUBMITTED
    assert not [e for e in audit.events_for(db, UID) if e["event"] == "reply-approved"]


def test_approval_is_refused_when_the_text_changed_after_it_was_shown(app, db, agents, now, setup):
    open_as(app, agents["sophie"])
    replies.edit(db, repo.get_agent(db, agents["julie"].id), setup.id, body="Texte remplacé entre-temps.", now=now)
    app.button(key=f"approve_{setup.id}").click().run()
    assert any("a changé depuis son ouverture" in e for e in texts(app.error))
    assert repo.get_draft(db, setup.id).state is DraftState.SUBMITTED


def test_director_manages_saved_replies(app, db, agents):
    open_as(app, agents["sophie"])
    assert any("Aucun modèle" in i for i in texts(app.info))
    app.text_input(key="saved_new_title").input("Collecte")
    app.text_area(key="saved_new_body").input("Bonjour {prenom}, le service {service} est prévenu : {lien}")
    app.button(key="saved_create").click().run()
    assert any("Modèle « Collecte » créé" in s for s in texts(app.success)), texts(app.error)
    (saved,) = repo.list_saved_replies(db)
    assert "Bonjour Camille, le service Propreté est prévenu : https://www.valmont.fr" in texts(app.text)
    app.text_area(key=f"saved_body_{saved['id']}").input("Bonjour {prenom}, c'est transmis au service {service}.")
    app.button(key=f"saved_update_{saved['id']}").click().run()
    assert repo.get_saved_reply(db, saved["id"])["body"] == "Bonjour {prenom}, c'est transmis au service {service}."
    # refused by the charter (a banned term) and by the variable check
    app.text_input(key="saved_new_title").input("Mauvais")
    app.text_area(key="saved_new_body").input("C'est débile, {prenom}.")
    app.button(key="saved_create").click().run()
    assert any("La charte bloque ce modèle" in e and "débile" in e for e in texts(app.error))
    app.text_area(key="saved_new_body").input("Bonjour {nom}")
    app.button(key="saved_create").click().run()
    assert any("Variable inconnue" in e for e in texts(app.error))
    app.button(key=f"saved_remove_{saved['id']}").click().run()
    assert repo.list_saved_replies(db) == []
    events = [e["properties"]["action"] for e in audit.events_for(db, f"saved-reply:{saved['id']}")]
    assert events == ["created", "updated", "removed"]


def test_editing_an_approved_reply_comes_back_with_the_diff_against_the_approved_text(app, db, agents, now, setup):
    open_as(app, agents["sophie"])
    app.button(key=f"approve_only_{setup.id}").click().run()
    assert any("Aucune réponse en attente" in i for i in texts(app.info))
    julie = repo.get_agent(db, agents["julie"].id)
    replies.edit(db, julie, setup.id, body="Bonjour, le service propreté passe ce soir.", now=now)
    app.run()
    assert [t.label for t in app.tabs][0] == "À valider (1)"
    assert any("depuis le texte validé précédemment" in c for c in texts(app.caption))
    diff = next(c.value for c in app.code if c.language == "diff")
    assert f"-{BODY}" in diff and "+Bonjour, le service propreté passe ce soir." in diff


def test_a_failed_send_keeps_the_approval_and_says_so(app, db, agents, setup, monkeypatch):
    from core.errors import Unavailable

    class Down:
        def reply(self, mention, text):
            raise Unavailable("sandbox en panne")

    monkeypatch.setattr("services.connections.assembly.connector_for", lambda settings, mention: Down())
    open_as(app, agents["sophie"])
    app.button(key=f"approve_{setup.id}").click().run()
    assert any("validée, mais l'envoi n'a pas abouti" in e and "sandbox en panne" in e for e in texts(app.error))
    draft = repo.get_draft(db, setup.id)
    # an outage is an uncertain outcome (the reply may be out): never resent blindly, a person checks
    assert draft.state is DraftState.TO_VERIFY and draft.approver_id == agents["sophie"].id
