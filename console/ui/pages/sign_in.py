"""Connexion: local account (e-mail + password) and, when configured, single sign-on (ProConnect, Keycloak, Entra)."""

import streamlit as st

from console.ui import page, session

page.preamble("Connexion à Parvis", agent="none")  # its flash: why the last sign-in failed

with st.form("signin_form"):
    email = st.text_input("Adresse e-mail", key="signin_email")
    password = st.text_input("Mot de passe", type="password", key="signin_password")
    submitted = st.form_submit_button("Se connecter", type="primary")
if submitted:
    session.sign_in(email, password)
    st.rerun()

if session.sso_configured():
    st.divider()
    st.button("Se connecter avec le fournisseur d'identité (ProConnect…)", key="signin_sso", on_click=st.login)
st.caption("Pas encore de compte ? L'administrateur le crée : `python -m console users add`.")
