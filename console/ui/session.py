"""Who is using the console: the open demo picker, local password sessions, or single sign-on (st.login)."""

from __future__ import annotations

import streamlit as st
from sqlite_utils import Database

from console.messages import message_for
from console.ui import deps, page
from core.errors import ParvisError
from core.models import Agent
from services.accounts import auth, users

TOKEN_KEY = "auth_token"


def sso_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an ``[auth]`` section for st.login (OIDC)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml at all
        return False


def mode(db: Database) -> str:
    """open | local | sso (see services.accounts.auth.auth_mode)."""
    return auth.auth_mode(db, deps.settings())


def signed_in_agent(db: Database, current_mode: str) -> Agent | None:
    """The agent of this browser session under ``current_mode``, or None (then show the sign-in page)."""
    if current_mode == "open":
        return deps.current_agent(db)
    policy = auth.AuthPolicy.from_settings(deps.settings())
    token = st.session_state.get(TOKEN_KEY)
    if token:
        try:
            return auth.resolve_session(db, token, now=deps.now(), policy=policy)
        except ParvisError as err:
            st.session_state.pop(TOKEN_KEY, None)
            page.flash("error", message_for(err))
    if sso_configured() and st.user.get("is_logged_in") and st.user.get("email"):
        try:
            session = auth.sign_in_sso(db, str(st.user.get("email")), now=deps.now(), policy=policy)
        except ParvisError as err:
            page.flash("error", message_for(err))
            return None
        st.session_state[TOKEN_KEY] = session.token
        return session.agent
    return None


def sign_in(email: str, password: str) -> None:
    """Check a local password and open a session (errors shown on the sign-in page)."""
    with deps.db() as db:
        try:
            session = auth.sign_in(db, email, password, now=deps.now(),
                                   policy=auth.AuthPolicy.from_settings(deps.settings()))
        except ParvisError as err:
            page.flash("error", message_for(err))
            return
    st.session_state[TOKEN_KEY] = session.token
    page.clear_flash()


def sign_out() -> None:
    """Close the session (and the SSO login, if any)."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        with deps.db() as db:
            auth.sign_out(db, token, now=deps.now())
    if sso_configured() and st.user.get("is_logged_in"):
        st.logout()


def agents(db: Database) -> list[Agent]:
    """Active agents (for the open-mode picker)."""
    return users.list_agents(db)
