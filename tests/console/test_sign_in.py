"""Sign-in in the console: open demo mode, local passwords with growing delays, SSO through st.user (mocked here;
the real flow against an OpenID provider: tests/e2e/test_sso_browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import audit, repo
from services.accounts import auth
from tests.conftest import NOW

ENTRYPOINT = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def app(db_path, db, agents, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.delenv("PARVIS_AUTH", raising=False)  # the mode these agents give (tests/console/conftest.py)
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def test_open_mode_without_passwords_shows_the_picker_and_a_warning(app, monkeypatch):
    monkeypatch.setenv("PARVIS_AUTH", "open")
    app.run()
    assert not app.exception
    # the open mode is said once, on the page (with how to require sign-in), not again in the sidebar (issue #17)
    banners = [w.value for w in app.warning if "Mode ouvert" in w.value]
    assert len(banners) == 1 and "PARVIS_AUTH=local" in banners[0]
    assert not app.sidebar.warning
    assert app.sidebar.selectbox(key="sidebar_agent")
    assert app.title[0].value == "Boîte de réception"


def test_local_mode_requires_sign_in_and_slows_down_guessing(app, db, agents, now, monkeypatch):
    monkeypatch.setattr("console.ui.deps.now", lambda: NOW)  # every attempt at the same instant
    repo.set_agent_credentials(db, agents["julie"].id, password_hash=auth.hash_password("correct horse battery 9"))
    app.run()
    assert app.title[0].value == "Connexion à Parvis"
    for _ in range(5):
        app.text_input(key="signin_email").input("julie@valmont.fr")
        app.text_input(key="signin_password").input("wrong password")
        app.button[0].click().run()
    assert app.error and app.title[0].value == "Connexion à Parvis"
    app.text_input(key="signin_password").input("correct horse battery 9")
    app.button[0].click().run()
    assert app.title[0].value == "Connexion à Parvis"  # made to wait after 3 failures, even with the right password
    assert any("réessayez dans" in e.value for e in app.error)
    assert "sign-in-failed" in audit.event_names(db)


def test_local_sign_in_then_sign_out(app, db, agents):
    repo.set_agent_credentials(db, agents["julie"].id, password_hash=auth.hash_password("correct horse battery 9"))
    app.run()
    app.text_input(key="signin_email").input("julie@valmont.fr")
    app.text_input(key="signin_password").input("correct horse battery 9")
    app.button[0].click().run()
    assert app.title[0].value == "Boîte de réception"
    assert "Julie Martin" in app.sidebar.caption[0].value
    app.button(key="sidebar_signout").click().run()
    assert app.title[0].value == "Connexion à Parvis"


def test_sso_user_is_mapped_to_an_existing_agent(app, db, agents, monkeypatch, tmp_path):
    monkeypatch.setenv("PARVIS_AUTH", "sso")
    monkeypatch.setenv("PARVIS_SSO_ISSUERS", "https://sso.valmont.fr/realms/valmont")
    monkeypatch.setattr("console.ui.session.sso_configured", lambda: True)
    iat = int(__import__("time").time())
    app.user = {"is_logged_in": True, "email": "sophie@valmont.fr", "email_verified": True, "name": "Sophie",
                "iss": "https://sso.valmont.fr/realms/valmont", "sub": "s-1", "iat": iat}
    app.run()
    assert app.title[0].value == "Boîte de réception"
    assert "Sophie Laurent" in app.sidebar.caption[0].value
    app2 = AppTest.from_file(ENTRYPOINT, default_timeout=30)
    app2.user = {"is_logged_in": True, "email": "stranger@example.org", "email_verified": True,
                 "iss": "https://sso.valmont.fr/realms/valmont", "sub": "s-2", "iat": iat}
    app2.run()
    assert app2.title[0].value == "Connexion à Parvis"
    assert any("Aucun compte Parvis" in e.value for e in app2.error)
