"""End-to-end in headless Chromium (issue #20): a community manager answers a Messenger conversation inside Meta's
24-hour window; the same send in a conversation outside the window is refused before any call, with the reason; a
legal agent sees the archived private answer; an administrator (no ``private.read``) sees neither the private
items nor their count by author."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import audit, repo
from core.db import open_db, write_transaction
from core.models import PRIVATE_KIND, Platform, Role
from tests.conftest import NOW, make_mention
from tests.e2e.server import console_server
from tests.e2e.steps import choose_agent, click_row, open_inbox, type_reply

pytestmark = pytest.mark.e2e

ANSWER = "Bonjour, merci : une équipe passe demain matin récupérer les encombrants."
WAIT = 30_000


def _seed(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    now = datetime.now(UTC)
    with write_transaction(db):
        for email, name, initials, role in (("julie@valmont.fr", "Julie Martin", "JM", Role.COMMUNITY_MANAGER),
                                            ("marc@valmont.fr", "Marc Petit", "MP", Role.LEGAL),
                                            ("admin@valmont.fr", "Admin Parvis", "AP", Role.ADMIN)):
            repo.create_agent(db, email=email, name=name, initials=initials, role=role, now=NOW)
        inside = replace(make_mention("Bonjour, j'habite au 14 rue des Tilleuls, les encombrants sont devant.",
                                      platform=Platform.FACEBOOK, pid="m_e2e_inside", author="camille",
                                      conversation_id="t_e2e1", created_at=now - timedelta(hours=1)),
                         account="demo", kind=PRIVATE_KIND, raw={"channel": "messenger"})
        outside = replace(make_mention("Bonjour, où en est mon dossier de stationnement ?",
                                       platform=Platform.FACEBOOK, pid="m_e2e_outside", author="yves",
                                       conversation_id="t_e2e2", created_at=now - timedelta(hours=30)),
                          account="demo", kind=PRIVATE_KIND, raw={"channel": "messenger"})
        public = replace(make_mention("Les encombrants sont toujours là, c'est honteux !", platform=Platform.FACEBOOK,
                                      pid="demo-e2e-public", author="camille", created_at=now - timedelta(hours=2)),
                         account="demo", kind="comment")
        repo.upsert_mentions(db, [inside, outside, public], now=NOW,
                             scores=[repo.Scores(priority=9), repo.Scores(priority=5), repo.Scores(priority=1)])
    db.close()


def _outbox(db_path: Path) -> list[dict]:
    path = db_path.parent / "demo-outbox.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_private_answer_window_archive_and_roles(browser, tmp_path):
    db_path = tmp_path / "parvis.db"
    _seed(db_path)
    with console_server(db_path) as url:
        page = open_inbox(browser, url, height=1100, timeout=WAIT)

        # the community manager sees the private conversations and answers the one inside the window
        choose_agent(page, "Julie Martin — Community manager", sidebar=True)
        page.get_by_text("3 message(s)").wait_for(timeout=WAIT)
        click_row(page, 0)
        page.get_by_text("fenêtre de réponse de Meta : il reste", exact=False).wait_for(timeout=WAIT)
        type_reply(page, ANSWER)
        send = page.locator("button").filter(has_text="Envoyer").filter(has_not_text="brouillon").first
        expect(send).to_be_enabled(timeout=WAIT)
        send.click()
        page.get_by_text("Réponse envoyée", exact=False).first.wait_for(timeout=WAIT)
        sent = [r for r in _outbox(db_path) if r["kind"] == "private_reply"]
        assert [r["mention_uid"] for r in sent] == ["facebook:m_e2e_inside"]
        assert not any(r["kind"] == "reply" for r in _outbox(db_path))

        # outside the window (the answered conversation has left the open list): the composer says so, and the
        # send is refused before any call, with the reason
        page.get_by_text("2 message(s)").wait_for(timeout=WAIT)
        click_row(page, 0)
        page.get_by_text("@yves", exact=False).first.wait_for(timeout=WAIT)
        page.get_by_text("plus de 24 heures", exact=False).first.wait_for(timeout=WAIT)
        type_reply(page, ANSWER)
        send = page.locator("button").filter(has_text="Envoyer").filter(has_not_text="brouillon").first
        expect(send).to_be_enabled(timeout=WAIT)
        send.click()
        page.get_by_text("Réponse privée refusée avant tout envoi", exact=False).first.wait_for(timeout=WAIT)
        assert len([r for r in _outbox(db_path) if r["kind"] == "private_reply"]) == 1

        # a legal agent sees the archived private answer
        choose_agent(page, "Marc Petit — Service juridique", sidebar=True)
        page.get_by_role("link", name="Audit").click()
        page.get_by_text("1 message(s) archivé(s)", exact=False).wait_for(timeout=WAIT)

        # the administrator sees neither the private answer in the archive nor the private items or their count
        choose_agent(page, "Admin Parvis — Administrateur", sidebar=True)
        page.get_by_text("0 message(s) archivé(s)", exact=False).wait_for(timeout=WAIT)
        page.get_by_role("link", name="Boîte de réception").click()
        page.get_by_text("1 message(s)").wait_for(timeout=WAIT)
        click_row(page, 0)
        page.get_by_text("Auteur (0)", exact=True).wait_for(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
        page.close()

    db = open_db(db_path)
    (draft,) = repo.drafts_for(db, "facebook:m_e2e_inside")
    assert draft.state.value == "sent"
    events = [e["event"] for e in audit.events_for(db, "facebook:m_e2e_outside")]
    assert "private-reply-refused" in events and "private-conversation-read" in events
    db.close()
