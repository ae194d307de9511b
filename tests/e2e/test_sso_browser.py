"""End-to-end single sign-on in headless Chromium against a real OpenID Connect provider (issue #15, finding 4).

The provider is `oidc-provider-mock` (a Flask/Authlib OpenID provider made for tests) on 127.0.0.1; the console
runs `streamlit_app.py` with the repository's `.streamlit/secrets.toml.example` (addresses pointed at the
provider) as its secrets file. Streamlit does the real authorization-code flow (discovery, redirect, code
exchange, ID-token signature check); Parvis maps the identity. Nothing stubs ``st.user``.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import repo
from core.db import open_db, write_transaction
from core.models import Role
from tests.conftest import NOW
from tests.e2e.server import ROOT, console_server, free_port

pytestmark = pytest.mark.e2e

WAIT = 30_000
SIGN_IN = "Connexion à Parvis"
KEYCLOAK = "Se connecter avec Keycloak"


@pytest.fixture
def provider(monkeypatch) -> Iterator[str]:
    """A real OpenID Connect provider on 127.0.0.1 (plain HTTP, so Authlib's transport check is relaxed)."""
    oidc = pytest.importorskip("oidc_provider_mock")
    from werkzeug.serving import make_server

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    server = make_server("127.0.0.1", 0, oidc.app(require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def _provider_user(base: str, sub: str, **claims: object) -> None:
    request = urllib.request.Request(f"{base}/users/{sub}", data=json.dumps(claims).encode(), method="PUT",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status < 300


def _secrets_from_example(tmp_path: Path, provider: str, port: int) -> Path:
    """The shipped example, with the addresses of this test: Parvis's callback, the Keycloak provider and its
    issuer (Streamlit exports the top-level PARVIS_* keys of its secrets file to the environment)."""
    text = (ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^PARVIS_SSO_ISSUERS = .*$", f'PARVIS_SSO_ISSUERS = "{provider}"', text)
    for old, new in (("https://parvis.valmont.fr/oauth2callback", f"http://127.0.0.1:{port}/oauth2callback"),
                     ('"change-me"', '"a-long-random-cookie-secret-for-the-browser-test"'),
                     ("https://sso.valmont.fr/realms/valmont/.well-known/openid-configuration",
                      f"{provider}/.well-known/openid-configuration")):
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _seed(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    with write_transaction(db):
        repo.create_agent(db, email="sophie@valmont.fr", name="Sophie Laurent", initials="SL", role=Role.DIRECTOR,
                          now=NOW)
        repo.create_agent(db, email="admin@valmont.fr", name="Admin Parvis", initials="AP", role=Role.ADMIN, now=NOW)
    db.close()


def _sign_in_at_provider(page, sub: str) -> None:
    """Click the Keycloak button, then authorise ``sub`` on the provider's own page."""
    page.get_by_role("button", name=KEYCLOAK).click()
    page.locator("input[name=sub]").wait_for(timeout=WAIT)
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def _end_provider_session_if_asked(page) -> None:
    """st.logout() sends the browser to the provider's end-session page, which asks for a click."""
    end = page.get_by_role("button", name="End session")
    end.wait_for(timeout=WAIT)
    end.click()


def _expect_sign_in_page(page) -> None:
    page.get_by_role("button", name=KEYCLOAK).wait_for(timeout=WAIT)
    expect(page.get_by_text(SIGN_IN).first).to_be_visible()
    expect(page.get_by_text("Boîte de réception")).to_have_count(0)


def test_sso_sign_in_binding_sign_out_and_expiry_in_a_browser(browser, provider, tmp_path):
    db_path = tmp_path / "data" / "parvis.db"
    _seed(db_path)
    _provider_user(provider, "kc-sophie", email="sophie@valmont.fr", email_verified=True, name="Sophie Laurent")
    _provider_user(provider, "kc-other", email="sophie@valmont.fr", email_verified=True, name="Not Sophie")
    port = free_port()
    secrets = _secrets_from_example(tmp_path, provider, port)
    env = {"PARVIS_AUTH": "sso", "PARVIS_SSO_ISSUERS": provider, "AUTHLIB_INSECURE_TRANSPORT": "1"}  # as the file
    with console_server(db_path, extra_env=env, port=port, options=("--secrets.files", str(secrets))) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        _expect_sign_in_page(page)
        expect(page.get_by_label("Mot de passe")).to_have_count(0)  # PARVIS_AUTH=sso: no password form

        # 1. the whole authorization-code flow: Parvis -> provider -> callback -> Parvis, signed in
        _sign_in_at_provider(page, "kc-sophie")
        page.get_by_text("Boîte de réception", exact=True).first.wait_for(timeout=WAIT)
        expect(page.get_by_text("Sophie Laurent — Direction de la communication")).to_be_visible(timeout=WAIT)
        db = open_db(db_path)
        sophie = repo.agent_by_email(db, "sophie@valmont.fr")
        assert repo.sso_binding(db, sophie.id) == (provider, "kc-sophie")

        # 2. sign out ends the provider login too: a reload does not sign in again
        page.get_by_role("button", name="Se déconnecter").click()
        _end_provider_session_if_asked(page)
        _expect_sign_in_page(page)
        page.reload(wait_until="domcontentloaded")
        _expect_sign_in_page(page)

        # 3. signed in again, then idle past the limit: the 30-day provider cookie does not reopen the console
        _sign_in_at_provider(page, "kc-sophie")
        page.get_by_text("Boîte de réception", exact=True).first.wait_for(timeout=WAIT)
        with write_transaction(db):  # 2 hours without activity (PARVIS_SESSION_IDLE_MINUTES: 30)
            db.execute("UPDATE sessions SET last_seen_at = '2000-01-01T00:00:00+00:00'")
        page.reload(wait_until="domcontentloaded")  # a new browser session: only the provider cookie is left
        _end_provider_session_if_asked(page)
        _expect_sign_in_page(page)
        page.reload(wait_until="domcontentloaded")
        _expect_sign_in_page(page)

        # 4. another identity at the provider with the same verified e-mail is refused: the account is bound
        _sign_in_at_provider(page, "kc-other")
        page.get_by_text("déjà lié à une autre identité").wait_for(timeout=WAIT)
        expect(page.get_by_text("Boîte de réception")).to_have_count(0)
        assert repo.sso_binding(db, sophie.id) == (provider, "kc-sophie")
        events = [r[0] for r in db.execute("SELECT event FROM audit_log ORDER BY id")]
        db.close()
        assert events.count("sso-subject-bound") == 1 and "signed-out" in events
        page.close()
