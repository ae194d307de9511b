"""End-to-end (Chromium, `parvis up`, sign-in on): the first administrator created with the setup code of the
server's log, an agent created in « Comptes » who chooses a password with the code shown once and signs in; the
session survives a reload and a new tab, and sign-out closes it everywhere (console/web/cookies.py)."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.server import parvis_up
from tests.e2e.steps import redeem_invitation

pytestmark = pytest.mark.e2e
PASSWORD = "un mot de passe solide"


def _signed_in(page, name: str) -> None:
    page.get_by_text(name).first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Se déconnecter").wait_for(timeout=30_000)


def test_first_admin_creates_an_agent_who_signs_in_and_stays_signed_in(browser, tmp_path):
    db_path = tmp_path / "data" / "parvis.db"
    db_path.parent.mkdir(parents=True)
    with parvis_up(db_path, extra_env={"PARVIS_AUTH": "local"}) as url:
        log_path = db_path.parent / "parvis-up.log"
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("Premier administrateur").first.wait_for(timeout=60_000)
        assert "python -m console" not in page.content()  # no CLI command for staff
        deadline = time.monotonic() + 30
        while not (found := re.search(r"setup code ([A-Z0-9-]{19})", log_path.read_text())):
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.5)
        setup = page.locator("[data-testid='stForm']").filter(has_text="Code d'installation")
        setup.get_by_label("Code d'installation (journal du serveur)").fill(found.group(1))
        setup.get_by_label("Nom et prénom").fill("Anne Roy")
        setup.get_by_label("Adresse e-mail").fill("anne@ville.fr")
        setup.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
        setup.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
        setup.get_by_role("button", name="Créer l'administrateur").click()
        _signed_in(page, "Anne Roy")

        page.goto(f"{url}/comptes", wait_until="domcontentloaded")
        page.get_by_text("Nouveau compte").first.click()
        form = page.locator("[data-testid='stForm']").filter(has_text="Créer le compte")
        form.get_by_label("Nom et prénom").fill("Nora Diallo")
        form.get_by_label("Adresse e-mail").fill("nora@ville.fr")
        form.get_by_role("button", name="Créer le compte et son code d'invitation").click()
        notice = page.get_by_text("Code à transmettre à Nora Diallo")
        notice.wait_for(timeout=60_000)
        code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", notice.inner_text()).group(0)
        page.get_by_role("button", name="Se déconnecter").click()
        page.get_by_text("J'ai un code d'invitation").first.wait_for(timeout=60_000)

        page.get_by_text("J'ai un code d'invitation").first.click()
        redeem_invitation(page, "nora@ville.fr", code, PASSWORD)
        _signed_in(page, "Nora Diallo")
        time.sleep(1.5)  # the session cookie's image is fetched
        cookie = next(c for c in context.cookies() if c["name"] == "parvis_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        page.reload(wait_until="domcontentloaded")  # F5 keeps the session
        _signed_in(page, "Nora Diallo")
        other = context.new_page()  # and so does a new tab
        other.goto(url, wait_until="domcontentloaded")
        _signed_in(other, "Nora Diallo")
        other.get_by_role("button", name="Se déconnecter").click()
        other.get_by_label("Mot de passe", exact=True).wait_for(timeout=60_000)
        page.reload(wait_until="domcontentloaded")  # revoked server-side: the first tab is signed out too
        page.get_by_label("Mot de passe", exact=True).wait_for(timeout=60_000)
        assert page.locator("[data-testid='stException']").count() == 0
        context.close()
