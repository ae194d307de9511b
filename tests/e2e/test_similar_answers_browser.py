"""End-to-end: similar answers in the inbox detail, and copying one into the composer (issue #21)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from core import repo
from core.db import open_db, write_transaction
from core.models import DraftState, Role
from tests.conftest import NOW, make_mention
from tests.e2e.server import console_server
from tests.e2e.steps import click_row, open_inbox

pytestmark = pytest.mark.e2e
REPLY = "Bonjour, le service propreté passera demain matin rue des Lilas."


def _seed(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    with write_transaction(db):
        agent = repo.create_agent(db, email="julie@valmont.fr", name="Julie Martin", initials="JM",
                                  role=Role.COMMUNITY_MANAGER, now=NOW)
        old = make_mention("Les poubelles de la rue des Lilas ne sont pas ramassées", pid="s1", author="lea",
                           created_at=NOW - timedelta(days=20))
        new = make_mention("Toujours pas de ramassage des poubelles chez nous", pid="s2", author="paul")
        repo.upsert_mentions(db, [old, new], now=NOW, scores=[repo.Scores(priority=1), repo.Scores(priority=9)])
        repo.set_status(db, old.uid, repo.Status.ANSWERED, now=NOW)
        draft = repo.create_draft(db, mention_uid=old.uid, author_id=agent.id, body=REPLY,
                                  signed_text=REPLY + " ^JM", platform=old.platform, now=NOW - timedelta(days=20))
        repo.save_draft(db, dataclasses.replace(draft, state=DraftState.SENT, sent_at=NOW - timedelta(days=19)))
    db.close()


def test_similar_answers_show_and_copy_into_the_composer(browser, tmp_path):
    db_path = tmp_path / "parvis.db"
    _seed(db_path)
    with console_server(db_path) as url:
        page = open_inbox(browser, url, height=1200)
        page.get_by_text("1 message(s)").wait_for(timeout=30_000)  # the answered one is not open
        click_row(page)
        page.get_by_text("Réponses déjà envoyées à des messages proches (1)").wait_for(timeout=30_000)
        page.get_by_text(REPLY + " ^JM").wait_for(timeout=10_000)
        page.get_by_text("Réponse signée envoyée le").wait_for(timeout=10_000)
        page.get_by_role("button", name="Reprendre cette réponse comme brouillon").click()
        box = page.get_by_label("Votre réponse")
        page.wait_for_function("t => [...document.querySelectorAll('textarea')].some(a => a.value === t)", arg=REPLY,
                               timeout=30_000)
        assert box.input_value() == REPLY  # a draft to edit: nothing was sent
        page.get_by_text("Aperçu tel que publié :").wait_for(timeout=30_000)
        page.close()
    db = open_db(db_path)
    try:
        assert [d.state for d in repo.drafts_for(db, "x:s2")] == []
    finally:
        db.close()
