"""Connexion: local account (e-mail + password) and, when configured, single sign-on (ProConnect, Keycloak, Entra).

Under ``PARVIS_AUTH=sso`` the password form is only the emergency access of the break-glass administrator
(``PARVIS_AUTH_BREAK_GLASS``), folded away.
"""

import streamlit as st

from console.ui import deps, page, session

ctx = page.preamble("Connexion à Parvis", agent="none")  # its flash: why the last sign-in failed
with deps.db() as db:
    mode = session.mode(db)
    holders = session.password_holders(db)
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
    if holders == 0 and not providers:
        st.info("Aucun compte n'a encore de mot de passe : l'administrateur en définit un "
                "(`python -m console users set-password ADRESSE`) ou configure la connexion unique.")
st.caption("Pas encore de compte ? L'administrateur le crée : `python -m console users add`.")
