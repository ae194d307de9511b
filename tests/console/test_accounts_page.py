"""The « Comptes » page (AppTest): who sees it, an invitation code shown once and used on the sign-in page, a role
change and a deactivation, the director's signature section; the first administrator created with the setup code."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import audit, repo
from core.clock import utcnow as deps_now
from core.models import Role
from services.accounts import auth, codes

ENTRYPOINT = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGE = "console/ui/pages/accounts.py"


@pytest.fixture
def app(db_path, db, agents, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def open_as(app: AppTest, agent) -> AppTest:
    app.run()
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_only_admins_and_directors_open_it(app, agents):
    for who in ("julie", "marc"):  # not in their navigation
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            open_as(app, agents[who])
    open_as(app, agents["sophie"])  # the director: signatures only
    assert not app.error and not [b for b in app.button if "Donner un code" in b.label]
    assert any("signature" in b.label for b in app.button)


def test_admin_creates_an_agent_whose_code_works_once(app, db, agents, monkeypatch):
    open_as(app, agents["admin"])
    app.text_input(key="accounts_new_name").input("Nora Diallo")
    app.text_input(key="accounts_new_email").input("nora@valmont.fr")
    app.selectbox(key="accounts_new_role").select(Role.COMMUNITY_MANAGER)
    next(b for b in app.button if b.label.startswith("Créer le compte")).click().run()
    assert not app.exception, app.exception
    shown = [s.value for s in app.success if "Code à transmettre à Nora Diallo" in s.value]
    assert shown, [s.value for s in app.success]
    code = shown[0].split("**")[1]
    nora = repo.agent_by_email(db, "nora@valmont.fr")
    assert nora is not None and nora.role is Role.COMMUNITY_MANAGER
    app.run()
    assert not [s for s in app.success if code in s.value]  # shown once
    codes.redeem_code(db, "nora@valmont.fr", code, "mon mot de passe à moi", now=deps_now())
    assert auth.sign_in(db, "nora@valmont.fr", "mon mot de passe à moi", now=deps_now()).agent.id == nora.id
    assert "account-code-issued" in audit.event_names(db)


def test_admin_changes_a_role_and_deactivates(app, db, agents):
    open_as(app, agents["admin"])
    app.selectbox(key="accounts_chosen").select(agents["karim"].id).run()
    app.selectbox(key=f"accounts_role_{agents['karim'].id}").select(Role.DIRECTOR).run()
    app.button(key=f"accounts_set_role_{agents['karim'].id}").click().run()
    assert repo.get_agent(db, agents["karim"].id).role is Role.DIRECTOR
    app.button(key=f"accounts_off_{agents['karim'].id}").click().run()
    assert not repo.get_agent(db, agents["karim"].id).active


def test_first_admin_from_the_sign_in_page(app, db, agents, monkeypatch, caplog):
    monkeypatch.setenv("PARVIS_AUTH", "local")
    monkeypatch.setattr(codes, "_SETUP", codes._Setup())
    with caplog.at_level(logging.WARNING, logger="parvis.accounts"):
        app.run()
    assert app.title[0].value == "Connexion à Parvis"
    code = codes.setup_code()
    assert code in caplog.text and not any(code in m.value for m in app.markdown)
    app.text_input(key="signin_setup_code").input(code)
    app.text_input(key="signin_setup_name").input("Anne Roy")
    app.text_input(key="signin_setup_email").input("anne@valmont.fr")
    app.text_input(key="signin_setup_pw1").input("un long mot de passe")
    app.text_input(key="signin_setup_pw2").input("un long mot de passe")
    next(b for b in app.button if b.label == "Créer l'administrateur").click().run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Boîte de réception"
    assert "Anne Roy" in app.sidebar.caption[0].value
    assert not any("Premier administrateur" in e.label for e in app.expander)
