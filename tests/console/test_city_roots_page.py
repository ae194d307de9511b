"""« Fil » shows the city's post above the replies for the roots the connectors record (decisions 0212, 0285):
its text verbatim, its date and link; an Instagram photo without a caption says so instead of an empty line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import repo
from core.models import Platform
from tests.conftest import make_mention

ENTRYPOINT = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def test_fil_shows_the_city_post_fetched_by_the_connector(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    reply = make_mention("@VilleDeTest Jusqu'à quand ?", pid="r1", author="camille", conversation_id="c1",
                         in_reply_to="c1")
    comment = make_mention("Magnifique 😍", platform=Platform.INSTAGRAM, pid="ig1", author="lea",
                           conversation_id="media1", in_reply_to="media1")
    repo.upsert_mentions(db, [reply, comment], now=now)
    repo.record_city_posts(db, [
        repo.CityPost(platform="x", platform_id="c1", text="Piscine fermée lundi **travaux**",
                      published_at=now - timedelta(days=1), permalink="https://x.com/i/web/status/c1",
                      source="fetched"),
        repo.CityPost(platform="instagram", platform_id="media1", text="", published_at=now - timedelta(days=2),
                      permalink="https://www.instagram.com/p/Cmedia1/", source="fetched")], now=now)
    app = _opened(agents, "x:r1")
    assert not app.exception
    assert any("Publication de la Ville" in m.value for m in app.markdown)
    assert "Piscine fermée lundi **travaux**" in [t.value for t in app.text]  # verbatim, never markup
    assert _links(app) == ["Voir la publication"]
    app.session_state["inbox_selected"] = "instagram:ig1"
    app.run()
    assert not app.exception
    assert any("Publication de la Ville" in m.value for m in app.markdown)
    assert any(c.value == "Publication sans texte" for c in app.caption)


def _links(app: AppTest) -> list[str]:
    return [b.proto.label for b in app.get("link_button")]


def _opened(agents, uid: str) -> AppTest:
    """The inbox as Julie sees it with ``uid`` open."""
    app = AppTest.from_file(ENTRYPOINT, default_timeout=30)
    app.run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    app.session_state["inbox_selected"] = uid
    app.run()
    return app


def test_fil_says_the_city_post_was_edited_then_deleted_and_shows_what_it_said(db_path, db, agents, now,
                                                                                monkeypatch):
    """Decision 0305: residents may have answered an earlier version; a deleted root keeps the text read."""
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    reply = make_mention("@villedetest Jusqu'à quand ?", platform=Platform.MASTODON, pid="m1", author="camille",
                         conversation_id="s1", in_reply_to="s1")
    repo.upsert_mentions(db, [reply], now=now)
    repo.record_city_posts(db, [repo.CityPost(platform="mastodon", platform_id="s1", text="Travaux du 3 au 7 juin",
                                              published_at=now - timedelta(days=1), source="fetched",
                                              permalink="https://social.ville-test.fr/@villedetest/s1")], now=now)
    repo.record_city_post_change(db, "mastodon", "s1", "edited", now=now, old_text="Travaux du 3 au 7 juin",
                                 new_text="Travaux **reportés**")
    repo.record_city_post_change(db, "mastodon", "s1", "deleted", now=now)
    app = _opened(agents, "mastodon:m1")
    assert not app.exception
    texts = [t.value for t in app.text]
    assert texts.index("Travaux **reportés**") < texts.index("Travaux du 3 au 7 juin")  # current, then before
    captions = [c.value for c in app.caption]
    assert any(c.startswith("Supprimée sur la plateforme") for c in captions)
    assert any(c.startswith("Modifiée sur la plateforme") for c in captions)
    assert any(e.label == "Versions précédentes de la publication (1)" for e in app.expander)
    assert "Voir la publication" not in _links(app)  # deleted: no dead link
