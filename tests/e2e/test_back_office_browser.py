"""End-to-end: an agent sends an urgent report to the back office (a fake Open311 GeoReport v2 server) from the
inbox and sees « transmis », then « résolu » once the crew closed it and the worker's poll saw it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core import repo
from core.config import Settings
from core.db import open_db, write_transaction
from core.models import Author, Mention, Platform, Role
from core.repo import integrations as integrations_repo
from services.integrations import open311
from tests.conftest import NOW
from tests.e2e.server import console_server
from tests.e2e.steps import click_row
from tests.fakes.georeport import FakeGeoReport

pytestmark = pytest.mark.e2e
URGENT = {"kind": "urgent", "score": 0.95, "spans": [[0, 5]], "reason": "Signalement urgent"}


def _seed(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    with write_transaction(db):
        repo.create_agent(db, email="julie@valmont.fr", name="Julie Martin", initials="JM",
                          role=Role.COMMUNITY_MANAGER, now=NOW)
        m = Mention(platform=Platform.X, platform_id="u1", text="Arbre tombé sur la chaussée avenue Foch, danger !",
                    author=Author(platform_id="u-9", handle="camille", display_name="Camille"),
                    created_at=NOW - timedelta(minutes=5), raw={"coordinates": {"lat": 48.85, "long": 2.35}})
        repo.upsert_mentions(db, [m], now=NOW, scores=[repo.Scores(priority=95, risk_score=0.95,
                                                                   risk_flags=(URGENT,))])
        repo.add_tag(db, m.uid, "arbre")
        integrations_repo.set_service_map(db, "arbre", "ARB-02", agent_id=None, now=NOW)
    db.close()


def test_an_agent_forwards_an_urgent_report_and_sees_transmis_then_resolu(browser, tmp_path, httpserver):
    fake = FakeGeoReport()
    endpoint = fake.install(httpserver)
    env = {"PARVIS_OPEN311_ENDPOINT": endpoint, "PARVIS_OPEN311_API_KEY": "key-311",
           "PARVIS_OPEN311_JURISDICTION_ID": "valmont.fr", "PARVIS_DEMO": "0"}
    db_path = tmp_path / "parvis.db"
    _seed(db_path)
    with console_server(db_path, extra_env=env) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("1 message(s)").wait_for(timeout=30_000)
        click_row(page)
        page.get_by_text("Envoyer au back-office").first.click()
        page.get_by_label("Service").first.wait_for(timeout=10_000)
        page.get_by_role("button", name="Envoyer au back-office").click()
        page.get_by_text("Back-office : transmis").first.wait_for(timeout=30_000)
        assert fake.posts and fake.posts[0]["service_code"] == "ARB-02"
        # the crew closes it; the worker's poll (its job, run here) sees it
        fake.set_status("1001", "closed", "Arbre dégagé")
        settings = Settings(data_dir=db_path.parent, db_path=db_path,
                            values=dict(env))
        db = open_db(db_path)
        try:
            assert open311.poll(db, settings, now=NOW + timedelta(minutes=10), force=True) == 1
        finally:
            db.close()
        page.reload(wait_until="domcontentloaded")
        page.get_by_text("1 message(s)").wait_for(timeout=30_000)
        click_row(page)
        page.get_by_text("Back-office : résolu").first.wait_for(timeout=30_000)
        page.get_by_text("Arbre dégagé").first.wait_for(timeout=10_000)
        page.screenshot(path=str(tmp_path / "back-office.png"), full_page=True)
        page.close()
