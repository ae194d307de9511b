"""End-to-end in headless Chromium on the demo city (issue #17): the threat is on the first screen of the moderation
queue and of the inbox; the storm's flood is worked through with a filter and one bulk dismissal; the director sees
the période de réserve finding of a post before approving it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import repo
from core.clock import PARIS, utcnow
from core.config import Settings
from core.db import open_db
from core.models import DraftState, Status
from core.repo import posts as posts_repo
from editorial.charter import Election
from services.connections import demo as demo_service
from services.editorial import calendar, post_review
from services.editorial import charter as charters
from services.moderation import queue as mq
from tests.e2e.server import console_server
from tests.e2e.steps import choose_agent, open_inbox

pytestmark = pytest.mark.e2e
WAIT = 60_000
THREAT = "mettre le feu à la mairie"
POST = "Promesse tenue : la nouvelle école Jules-Ferry ouvre ses portes."


def _seed(db_path: Path) -> int:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    now = utcnow()
    settings = Settings(data_dir=db_path.parent, db_path=db_path)
    demo_service.load_demo(db, settings, now=now)
    team = {a.name: a for a in repo.list_agents(db)}
    base = charters.current(db).charter
    ballot = (now + timedelta(days=40)).date()
    charters.save(db, team["Sophie Laurent"], replace(base, reserve=replace(
        base.reserve, elections=(Election(name="Municipales", rounds=(ballot,)),))), now=now)
    for waiting in posts_repo.posts_in_states(db, [DraftState.SUBMITTED]):  # the demo's own post awaiting approval:
        post_review.request_changes(db, team["Sophie Laurent"], waiting.id, comment="Plus tard.", now=now)  # ours alone
    at = datetime.combine(now.astimezone(PARIS).date() + timedelta(days=2), time(10))
    post = calendar.create_post(db, team["Julie Martin"], text=POST, accounts=["demo"], at=at, now=now)
    post_review.submit_post(db, team["Julie Martin"], post.id, now=now)
    db.close()
    return post.id


def _on_first_screen(page, text: str) -> None:
    """``text`` is shown within the first viewport height, without scrolling."""
    found = page.get_by_text(text, exact=False).first
    found.wait_for(timeout=WAIT)
    box = found.bounding_box()
    assert box is not None and box["y"] < page.viewport_size["height"], box


def test_queue_threat_first_bulk_dismissal_and_reserve_seen_before_approval(browser, tmp_path):
    db_path = tmp_path / "parvis.db"
    post_id = _seed(db_path)
    with console_server(db_path) as url:
        page = open_inbox(browser, url, width=1440, height=900, timeout=WAIT)
        choose_agent(page, "Julie Martin — Community manager", timeout=WAIT)
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "inbox.png"))
        # the inbox's grid is drawn on a canvas: its first rows are checked on the same data below
        page.get_by_role("link", name="Modération").click()
        page.get_by_text("File de modération").wait_for(timeout=WAIT)
        page.get_by_text(THREAT, exact=False).first.wait_for(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "queue.png"))
        _on_first_screen(page, THREAT)
        # filter the storm, then one bulk dismissal of everything the filter matches
        page.get_by_text("Filtres et recherche").click()
        page.get_by_label("Recherche dans le texte").fill("arbre")
        page.get_by_label("Recherche dans le texte").press("Enter")
        page.get_by_text("message(s) correspondent").first.wait_for(timeout=WAIT)
        page.get_by_text("Action groupée").click()
        page.get_by_text("Tous ceux du filtre").click()
        button = page.get_by_role("button", name="Classer sans suite (")
        expect(button).to_be_enabled(timeout=WAIT)
        button.click()
        page.get_by_text("classé(s) sans suite").first.wait_for(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "dismissed.png"))
        # the director sees the réserve finding before approving
        choose_agent(page, "Sophie Laurent — Direction de la communication", timeout=WAIT)
        page.get_by_role("link", name="Calendrier").click()
        page.get_by_role("tab", name="File d'attente").click()
        page.get_by_text("À valider (1)").wait_for(timeout=WAIT)
        grid = page.locator("[data-testid='stDataFrame']").filter(has_text=POST[:20]).first
        grid.wait_for(timeout=WAIT)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
        page.get_by_text("À relire avant de valider").wait_for(timeout=WAIT)
        page.get_by_text("Période de réserve : valorisation du bilan", exact=False).first.wait_for(timeout=WAIT)
        expect(page.get_by_role("button", name="Valider", exact=True)).to_be_visible(timeout=WAIT)
        assert page.get_by_text("reserve_bilan").count() == 0
        page.screenshot(path=str(tmp_path / "reserve.png"), full_page=True)
        page.close()
    db = open_db(db_path)
    left = mq.queue(db, 0.5, utcnow(), limit=1000)
    assert any(THREAT in i.item.mention.text for i in left)
    assert not any("arbre" in i.item.mention.text.lower() for i in left)
    dismissed = [i for i in repo.list_inbox(db, repo.InboxQuery(statuses=("closed",), search="arbre", limit=500))]
    assert dismissed and all(i.status is Status.CLOSED for i in dismissed)
    top = repo.list_inbox(db, repo.InboxQuery(limit=15))  # the inbox's first screen, in its default order
    assert any(THREAT in i.mention.text for i in top)
    assert post_id
    db.close()
