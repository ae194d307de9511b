"""The période de réserve is visible where it matters (issue #17): a post « promesse tenue » during the réserve
shows the finding — its French name, never the rule code — to the author in the Calendrier form and to the
approving director before the « Valider » button."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.clock import PARIS, utcnow
from editorial.charter import Election, ReserveSettings
from services.editorial import calendar, post_review
from services.editorial import charter as charters

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
PAGE = "console/ui/pages/calendar.py"
TEXT = "Promesse tenue : la nouvelle école est ouverte."


@pytest.fixture
def app(db_path, db, agents, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    base = charters.current(db).charter
    ballot = (utcnow() + timedelta(days=40)).date()
    reserve = replace(base.reserve, elections=(Election(name="Municipales", rounds=(ballot,)),))
    charters.save(db, agents["sophie"], replace(base, reserve=reserve), now=utcnow())
    assert isinstance(reserve, ReserveSettings)
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def open_as(app: AppTest, agent) -> AppTest:
    app.run()
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def warnings(app: AppTest) -> list[str]:
    return [w.value.replace("\\", "") for w in app.warning]


def test_the_author_sees_the_reserve_finding_in_the_form(app, agents):
    open_as(app, agents["julie"])
    app.multiselect(key="calendar_new_accounts").select("demo").run()
    app.text_area(key="calendar_new_text").input(TEXT).run()
    shown = warnings(app)
    assert any("Période de réserve : valorisation du bilan" in w and "« Promesse tenue »" in w for w in shown), shown
    assert not any("reserve_bilan" in w for w in shown)


def test_the_director_sees_it_before_approving(app, db, agents):
    at = datetime.combine(utcnow().astimezone(PARIS).date() + timedelta(days=2), time(10))
    post = calendar.create_post(db, agents["julie"], text=TEXT, accounts=["demo"], at=at, now=utcnow())
    post_review.submit_post(db, agents["julie"], post.id, now=utcnow())
    open_as(app, agents["sophie"])
    app.session_state["calendar_selected"] = post.id
    app.run()
    assert not app.exception
    assert any("À relire avant de valider" in m.value for m in app.markdown)
    shown = warnings(app)
    assert any("Période de réserve : valorisation du bilan" in w for w in shown), shown
    assert not any("reserve_bilan" in w for w in shown)
    assert app.button(key=f"approve_{post.id}")  # the finding is shown on the same screen as « Valider »
