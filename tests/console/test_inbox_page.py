"""The inbox page through Streamlit's AppTest: list, filters, search, detail, actions; text shown verbatim."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import repo
from core.errors import PermissionDenied
from core.models import Status
from services.inbox import triage as inbox_service
from tests.conftest import NOW, make_mention

ENTRYPOINT = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def app(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    mentions = [
        make_mention("Très déçu, la collecte n'est pas passée rue des Lilas", pid="m1", author="camille",
                     conversation_id="m1"),
        make_mention("Moi non plus, 3 semaines !", pid="m2", author="lea", conversation_id="m1", in_reply_to="m1"),
        make_mention("<script>alert(1)</script> **gras** [lien](http://evil.example)", pid="m3", author="troll"),
        make_mention("Merci pour le marché de Noël 🎄", pid="m4", author="paul",
                     created_at=now - timedelta(days=2)),
    ]
    repo.upsert_mentions(db, mentions, now=now,
                         scores=[repo.Scores(priority=p) for p in (8, 3, 5, 1)])
    at = AppTest.from_file(ENTRYPOINT, default_timeout=30)
    return at


def test_inbox_lists_open_mentions_by_priority(app):
    app.run()
    assert not app.exception
    assert app.title[0].value == "Boîte de réception"
    table = app.dataframe[0].value
    assert list(table["Auteur"]) == ["@camille", "@troll", "@lea", "@paul"]
    assert "4 message(s)" in app.caption[0].value


def test_search_without_accents(app):
    app.run()
    app.text_input(key="inbox_search").input("decu").run()
    assert list(app.dataframe[0].value["Auteur"]) == ["@camille"]


def test_status_filter_and_empty_state(app, db, agents, now):
    repo.set_status(db, "x:m4", Status.CLOSED, now=now)
    app.run()
    assert "@paul" not in list(app.dataframe[0].value["Auteur"])
    app.multiselect(key="inbox_statuses").select("closed").run()
    assert list(app.dataframe[0].value["Auteur"]) == ["@paul"]
    app.text_input(key="inbox_search").input("introuvablemotzz").run()
    assert any("Aucun message" in i.value for i in app.info)


def test_detail_pane_assign_tag_note(app, db, agents):
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    app.session_state["inbox_selected"] = "x:m1"
    app.run()
    assert not app.exception
    texts = [t.value for t in app.text]
    assert "Très déçu, la collecte n'est pas passée rue des Lilas" in texts
    assert "Moi non plus, 3 semaines !" in texts  # the thread
    app.button(key="assign_me_x:m1").click().run()
    item = repo.get_item(db, "x:m1")
    assert item.assigned_to == agents["julie"].id and item.status is Status.ASSIGNED
    app.text_input(key="tag_x:m1").input("propreté").run()
    assert repo.get_item(db, "x:m1").tags == ("propreté",)
    app.text_area(key="note_x:m1").input("Vu avec le service propreté").run()
    app.button(key="add_note_x:m1").click().run()
    assert [n.text for n in repo.notes_for(db, "x:m1")] == ["Vu avec le service propreté"]
    assert any("Note interne ajoutée" in s.value for s in app.success)


def test_resident_text_is_never_rendered_as_markup(app):
    app.run()
    app.session_state["inbox_selected"] = "x:m3"
    app.run()
    raw = "<script>alert(1)</script> **gras** [lien](http://evil.example)"
    assert raw in [t.value for t in app.text]  # st.text: shown verbatim
    for md in app.markdown:
        assert "<script>" not in md.value and "**gras**" not in md.value


def test_legal_role_cannot_act(app, agents, db):
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["marc"].id).run()
    app.session_state["inbox_selected"] = "x:m1"
    app.run()
    # issue #17: legal staff see no control their role refuses (the service still refuses: tests/security)
    keys = {w.key for w in [*app.button, *app.selectbox, *app.text_input, *app.text_area]}
    assert not {"assign_me_x:m1", "assignee_x:m1", "status_x:m1", "tag_x:m1", "note_x:m1"} & keys
    assert any("Lecture seule" in c.value for c in app.caption)
    with pytest.raises(PermissionDenied, match="role_forbids|legal"):
        inbox_service.assign(db, "x:m1", agents["marc"].id, actor=agents["marc"], now=NOW)
    assert repo.get_item(db, "x:m1").assigned_to is None


@pytest.fixture
def demo_app(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    from dataclasses import replace
    m = replace(make_mention("La piscine est-elle ouverte dimanche ?", pid="demo-x-1"), account="demo")
    repo.upsert_mentions(db, [m], now=now)
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def test_reply_is_checked_signed_and_sent_to_the_demo_outbox(demo_app, db, agents, db_path):
    import json
    app = demo_app
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    app.session_state["inbox_selected"] = "x:demo-x-1"
    app.run()
    app.text_area(key="reply_body_x:demo-x-1").input("Appelez-moi au 06 12 34 56 78").run()
    assert any("Bloquant" in e.value for e in app.error)
    assert app.button(key="send_reply_x:demo-x-1").disabled
    app.text_area(key="reply_body_x:demo-x-1").input("Bonjour, oui de 9 h à 18 h.").run()
    preview = [t.value for t in app.text]
    assert any(t.startswith("Bonjour, oui de 9 h à 18 h.") and "Julie" in t for t in preview)
    app.button(key="send_reply_x:demo-x-1").click().run()
    assert any("Réponse envoyée" in s.value for s in app.success), [e.value for e in app.error]
    outbox = [json.loads(line) for line in (db_path.parent / "demo-outbox.jsonl").read_text().splitlines()]
    assert outbox[-1]["text"].startswith("Bonjour, oui de 9 h à 18 h.") and "Julie" in outbox[-1]["text"]
    assert repo.get_item(db, "x:demo-x-1").status.value == "answered"
    # issue #17: where it went, the detail stays open, and the city's reply shows in « Fil »
    assert any("statut « Répondu »" in s.value for s in app.success)
    assert app.session_state["inbox_selected"] == "x:demo-x-1"
    assert any("Réponse de la Ville" in m.value for m in app.markdown)
    assert any(t.startswith("Bonjour, oui de 9 h à 18 h.") for t in (t.value for t in app.text))


def test_a_reply_left_to_verify_is_settled_from_the_inbox(app, db, agents, now):
    from core.errors import Unavailable
    from core.models import DraftState
    from services.inbox import replies

    class Down:  # a timeout: the reply may be out, and this connector cannot search the conversation
        def reply(self, mention, text):
            raise Unavailable("délai dépassé")

    draft = replies.create_draft(db, agents["julie"], mention_uid="x:m1", body="Bonjour, la collecte passe ce soir.",
                                 now=now)
    with pytest.raises(Unavailable):
        replies.send(db, agents["julie"], draft.id, Down(), now=now)
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    app.session_state["inbox_selected"] = "x:m1"
    app.run()
    assert any("À vérifier" in w.value for w in app.warning)
    assert not [b for b in app.button if b.key == f"send_draft_{draft.id}"]  # no blind "send again"
    app.text_input(key=f"verify_link_{draft.id}").input("https://x.com/valmont/status/777").run()
    app.button(key=f"verify_yes_{draft.id}").click().run()
    assert any("marquée publiée" in s.value for s in app.success), [e.value for e in app.error]
    sent = repo.get_draft(db, draft.id)
    assert sent.state is DraftState.SENT and sent.platform_post_id == "777"


def test_agent_corrects_the_sentiment_label(app, db, agents):
    from core.repo import moderation as moderation_repo
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    app.session_state["inbox_selected"] = "x:m4"
    app.run()
    app.selectbox(key="sentiment_x:m4").select("negative").run()
    assert repo.get_item(db, "x:m4").sentiment == "negative"
    assert [f.label for f in moderation_repo.sentiment_feedback(db)] == ["negative"]


def test_an_instagram_photo_tag_offers_no_reply_box(app, db, agents, now):
    from dataclasses import replace

    from core.models import Platform
    from services.inbox import replies

    tag = replace(make_mention("Super journée au parc avec @villedevalmont", pid="ig-tag-1", author="ines"),
                  platform=Platform.INSTAGRAM, kind="tag")
    answerable = replace(make_mention("@villedevalmont la piscine ouvre quand ?", pid="ig-men-1", author="ines"),
                         platform=Platform.INSTAGRAM, kind="mention")
    repo.upsert_mentions(db, [tag, answerable], now=now)
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    app.session_state["inbox_selected"] = "instagram:ig-tag-1"
    app.run()
    assert not app.exception
    assert any("application Instagram" in i.value for i in app.info)
    assert "reply_body_instagram:ig-tag-1" not in [t.key for t in app.text_area]
    with pytest.raises(replies.ReplyImpossible):  # and the service refuses it whatever the page shows
        replies.create_draft(db, agents["julie"], mention_uid="instagram:ig-tag-1", body="Merci !", now=now)
    app.session_state["inbox_selected"] = "instagram:ig-men-1"
    app.run()
    assert "reply_body_instagram:ig-men-1" in [t.key for t in app.text_area]  # an @mention can be answered
