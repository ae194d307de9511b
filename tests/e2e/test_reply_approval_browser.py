"""End-to-end in headless Chromium: a community manager drafts a reply in the inbox, the charter blocks it, she fixes
it and submits it (her replies need approval), a director approves it on the Approbations page, and it reaches the
demo outbox signed with her name."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import audit, repo
from core.db import open_db, write_transaction
from core.models import DraftState, Role
from tests.conftest import NOW, make_mention
from tests.e2e.server import console_server
from tests.e2e.steps import choose_agent, click_row, open_inbox, type_reply

pytestmark = pytest.mark.e2e

BLOCKED = "Bonjour, appelez Mme Durand au 06 12 34 56 78 pour la piscine."
FIXED = "Bonjour, la piscine est ouverte dimanche de 9 h à 18 h."
WAIT = 30_000


def _seed(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    with write_transaction(db):
        repo.create_agent(db, email="julie@valmont.fr", name="Julie Martin", initials="JM",
                          role=Role.COMMUNITY_MANAGER, needs_approval=True, now=NOW)
        repo.create_agent(db, email="sophie@valmont.fr", name="Sophie Laurent", initials="SL", role=Role.DIRECTOR,
                          now=NOW)
        mention = replace(make_mention("La piscine est-elle ouverte dimanche ?", pid="demo-e2e-1", author="camille"),
                          account="demo")
        repo.upsert_mentions(db, [mention], now=NOW, scores=[repo.Scores(priority=5)])
    db.close()


def _idle(page) -> None:
    """The run (or the inbox fragment's rerun) has ended: Streamlit has removed the elements of the previous render
    (while it runs, the old composer and the new one can both be in the page)."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=WAIT)


def test_reply_blocked_fixed_approved_and_sent_signed(browser, tmp_path):
    db_path = tmp_path / "parvis.db"
    _seed(db_path)
    with console_server(db_path) as url:
        page = open_inbox(browser, url, height=1000, timeout=WAIT)
        choose_agent(page, "Julie Martin — Community manager")
        page.get_by_text("1 message(s)").wait_for(timeout=WAIT)
        click_row(page)
        page.get_by_label("Votre réponse").wait_for(timeout=WAIT)

        # the charter blocks a resident's phone number: the send button stays disabled
        type_reply(page, BLOCKED)
        page.get_by_text("Bloquant", exact=False).first.wait_for(timeout=WAIT)
        expect(page.get_by_role("button", name="Soumettre pour validation")).to_be_disabled(timeout=WAIT)

        # fixed: no more blocking finding, and her replies go to approval
        type_reply(page, FIXED)
        page.get_by_text("Validation requise", exact=False).first.wait_for(timeout=WAIT)
        page.get_by_text("Bloquant", exact=False).first.wait_for(state="detached", timeout=WAIT)
        _idle(page)
        submit = page.get_by_role("button", name="Soumettre pour validation")
        expect(submit).to_be_enabled(timeout=WAIT)  # auto-waits while Streamlit re-renders the composer
        submit.click()
        page.get_by_text("Réponse soumise à la validation de la direction.").wait_for(timeout=WAIT)
        assert not (db_path.parent / "demo-outbox.jsonl").exists() or FIXED not in (
            db_path.parent / "demo-outbox.jsonl").read_text()

        # the director approves it on the Approbations page
        choose_agent(page, "Sophie Laurent — Direction de la communication")
        page.get_by_role("link", name="Approbations").click()
        page.get_by_text("À valider (1)").wait_for(timeout=WAIT)
        page.get_by_text("La piscine est-elle ouverte dimanche ?").first.wait_for(timeout=WAIT)
        page.get_by_role("button", name="Valider et envoyer").click()
        page.get_by_text("Réponse validée et envoyée.").wait_for(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "approved.png"), full_page=True)
        page.close()

    outbox = [json.loads(line) for line in (db_path.parent / "demo-outbox.jsonl").read_text().splitlines()]
    assert [r["text"] for r in outbox if r["kind"] == "reply"] == [f"{FIXED}\n— Julie"]
    assert outbox[-1]["mention_uid"] == "x:demo-e2e-1"
    db = open_db(db_path)
    (draft,) = repo.drafts_for(db, "x:demo-e2e-1")
    assert draft.state is DraftState.SENT and draft.approver_id == 2 and draft.author_id == 1
    events = [e["event"] for e in audit.events_for(db, "x:demo-e2e-1")]
    assert events.index("reply-submitted") < events.index("reply-approved") < events.index("reply-sent")
    assert repo.get_item(db, "x:demo-e2e-1").status.value == "answered"
    db.close()
