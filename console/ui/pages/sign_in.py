"""Connexion: local account (e-mail + password) and, when configured, single sign-on (ProConnect, Keycloak, Entra).

Under ``PARVIS_AUTH=sso`` the password form is only the emergency access of the break-glass administrator
(``PARVIS_AUTH_BREAK_GLASS``), folded away.
"""

import streamlit as st

from console.messages import message_for
from console.ui import deps, page, session
from core.errors import ParvisError
from services.accounts import codes

ctx = page.preamble("Connexion à Parvis", agent="none")  # its flash: why the last sign-in failed
with deps.db() as db:
    mode = session.mode(db)
    first_admin = codes.needs_first_admin(db)
providers = session.sso_providers()


def _password_form() -> None:
    with st.form("signin_form"):
        email = st.text_input("Adresse e-mail", key="signin_email")
        password = st.text_input("Mot de passe", type="password", key="signin_password")
        submitted = st.form_submit_button("Se connecter", type="primary")
    if submitted:
        session.sign_in(email, password)
        st.rerun()


def _sso_buttons() -> None:
    for name in providers:
        label = session.PROVIDER_LABELS.get(name, name.capitalize())
        st.button(f"Se connecter avec {label}", key=f"signin_sso_{name}", on_click=st.login,
                  args=(None if name == "default" else name,), type="primary" if mode == "sso" else "secondary")
    if session.sso_refused():
        st.button("Changer de compte chez le fournisseur d'identité", key="signin_sso_change",
                  on_click=session.change_sso_account)


def _code_form() -> None:
    """An invitation or reset code from the administrator: choose one's password, then sign in."""
    with st.form("signin_code_form", clear_on_submit=False):
        email = st.text_input("Adresse e-mail", key="signin_code_email")
        code = st.text_input("Code reçu de l'administrateur", key="signin_code_code")
        first = st.text_input("Nouveau mot de passe", type="password", key="signin_code_pw1")
        second = st.text_input("Confirmez le mot de passe", type="password", key="signin_code_pw2")
        submitted = st.form_submit_button("Choisir mon mot de passe et me connecter")
    if submitted:
        if first != second:
            page.alert("error", "Les deux mots de passe diffèrent.")
            return
        try:
            with deps.db() as db:
                codes.redeem_code(db, email, code, first, now=deps.now(), policy=session.policy(),
                                  address=session.client_address())
        except ParvisError as err:
            page.alert("error", message_for(err))
            return
        session.sign_in(email, first)
        st.rerun()


def _first_admin_form() -> None:
    """No administrator can sign in yet: create one with the setup code of the server's log."""
    codes.setup_code()  # printed in the server's log, never here
    st.info("Aucun administrateur ne peut encore se connecter. Créez le premier avec le code d'installation "
            "écrit dans le journal du serveur (la ligne « First administrator: enter the setup code … »).")
    with st.form("signin_setup_form"):
        code = st.text_input("Code d'installation (journal du serveur)", key="signin_setup_code")
        name = st.text_input("Nom et prénom", key="signin_setup_name")
        email = st.text_input("Adresse e-mail", key="signin_setup_email")
        first = st.text_input("Mot de passe", type="password", key="signin_setup_pw1")
        second = st.text_input("Confirmez le mot de passe", type="password", key="signin_setup_pw2")
        submitted = st.form_submit_button("Créer l'administrateur", type="primary")
    if submitted:
        if first != second:
            page.alert("error", "Les deux mots de passe diffèrent.")
            return
        try:
            with deps.db() as db:
                codes.create_first_admin(db, code, email=email, name=name, password=first, now=deps.now(),
                                         policy=session.policy())
        except ParvisError as err:
            page.alert("error", message_for(err))
            return
        session.sign_in(email, first)
        st.rerun()


if mode == "sso":
    if providers:
        _sso_buttons()
    else:
        st.error("La connexion unique est exigée, mais aucun fournisseur d'identité n'est configuré dans "
                 "`.streamlit/secrets.toml` (section [auth]).")
    if ctx.settings.auth.break_glass:
        with st.expander("Accès de secours (administrateur)"):
            _password_form()
else:
    _password_form()
    if providers:
        st.divider()
        _sso_buttons()
    with st.expander("J'ai un code d'invitation ou de réinitialisation"):
        _code_form()
    if first_admin:
        with st.expander("Premier administrateur", expanded=True):
            _first_admin_form()
st.caption("Pas encore de compte, ou mot de passe oublié ? L'administrateur de Parvis vous donne un code à usage "
           "unique (page « Comptes »).")
