"""Who is using the console: the open demo picker, local password sessions, or single sign-on (st.login).

Parvis's own session (a token in ``st.session_state``, and under ``parvis up`` in an ``HttpOnly`` cookie so that a
reload or a new tab keeps it: console/web/cookies.py, decision 0160) is the only proof of sign-in. A provider login
(``st.user``, a 30-day cookie) opens one through :func:`services.accounts.sso.sign_in_sso`; when Parvis's session
ends (idle, too old, signed out), the provider login is ended too (``st.logout()``), so it cannot silently open a
new one.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import timedelta

import streamlit as st
from sqlite_utils import Database

from console.messages import message_for
from console.ui import deps, page
from console.web import cookies
from core.errors import ParvisError, SessionExpired
from core.models import Agent
from services.accounts import auth, open_mode, sso, users

TOKEN_KEY = "auth_token"
COOKIE_CODES_KEY = "auth_cookie_codes"  # one-time codes of the cookies this browser has still to fetch
OPEN_AGENT_DAYS = 30
SSO_REFUSED_KEY = "auth_sso_refused"  # the provider login Parvis refused in this browser session (not retried)
PROVIDER_LABELS = {"default": "le fournisseur d'identité", "proconnect": "ProConnect", "keycloak": "Keycloak",
                   "entra": "Microsoft Entra ID"}
_CLAIMS = ("iss", "sub", "email", "email_verified", "iat")


def sso_providers() -> list[str]:
    """The providers of ``[auth]`` in `.streamlit/secrets.toml`: ``default`` when ``[auth]`` itself names a
    client, then each ``[auth.<name>]`` section (what ``st.login(name)`` accepts)."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets.toml at all
        return []
    if not isinstance(section, Mapping):
        return []
    named = [str(k) for k, v in section.items() if isinstance(v, Mapping) and "client_id" in v]
    return (["default"] if "client_id" in section else []) + named


def sso_configured() -> bool:
    """True when `.streamlit/secrets.toml` configures at least one provider for st.login (OIDC)."""
    return bool(sso_providers())


def policy() -> auth.AuthPolicy:
    """The sign-in rules from the settings."""
    return auth.AuthPolicy.from_settings(deps.settings())


def mode(db: Database) -> str:
    """open | local | sso (see services.accounts.open_mode.auth_mode)."""
    return open_mode.auth_mode(db, deps.settings())


def _peer() -> str | None:
    """The TCP peer's address; None for this machine (Streamlit's word for loopback) or outside a server."""
    peer = st.context.ip_address
    return peer if isinstance(peer, str) else None


def open_mode_allowed() -> bool:
    """Whether this request may use the open mode (server and browser on this machine, no proxy)."""
    return open_mode.open_mode_reachable(st.get_option("server.address"), _peer(), dict(st.context.headers))


def client_address() -> str | None:
    """The browser's IP address for throttling: the TCP peer, or behind a proxy on this machine the last
    ``X-Forwarded-For`` entry (the one that proxy saw); None when unknown (this machine)."""
    peer = _peer()
    if peer:
        return peer
    forwarded = st.context.headers.get("X-Forwarded-For") or ""
    return forwarded.split(",")[-1].strip() or None


def _sso_logged_in() -> bool:
    return sso_configured() and bool(st.user.get("is_logged_in"))


def _end_provider_login() -> None:
    """End the provider login too (its cookie would otherwise open a new session without asking)."""
    if _sso_logged_in():
        st.logout()


# ---- cookies (console/web/cookies.py) --------------------------------------------------------------------------

def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # noqa: BLE001 - outside a server (AppTest)
        return None
    return value if isinstance(value, str) and value else None


def order_cookie(name: str, value: str | None, max_age: timedelta = timedelta(0)) -> None:
    """Have this browser set (or clear, ``value=None``) a cookie: a one-time code fetched by
    :func:`render_cookie_requests`. Nothing under ``streamlit run``, where the route does not exist."""
    if not cookies.SERVED["route"]:
        return
    code = cookies.HANDOFFS.issue(cookies.CookieOrder(name, value, int(max_age.total_seconds())))
    st.session_state[COOKIE_CODES_KEY] = [*st.session_state.get(COOKIE_CODES_KEY, []), code]


def render_cookie_requests() -> None:
    """Render a 1×1 image per cookie still to fetch (until the route has redeemed its code)."""
    codes = [c for c in st.session_state.get(COOKIE_CODES_KEY, []) if cookies.HANDOFFS.pending(c)]
    st.session_state[COOKIE_CODES_KEY] = codes
    if codes:
        st.html("".join(f'<img src="{cookies.COOKIE_PATH}?code={html.escape(c)}" alt="" width="1" height="1">'
                        for c in codes))


def open_mode_agent(db: Database) -> Agent | None:
    """Open mode: the agent picked in this tab, else the one this browser picked last (its cookie)."""
    agent = deps.current_agent(db)
    if agent is not None:
        return agent
    remembered = _cookie(cookies.AGENT_COOKIE)
    if remembered and remembered.isdigit() and any(a.id == int(remembered) for a in users.list_agents(db)):
        deps.set_current_agent(int(remembered))
        return deps.current_agent(db)
    return None


def remember_open_agent(agent_id: int) -> None:
    """Open mode: keep ``agent_id`` for this browser's next tabs and reloads."""
    order_cookie(cookies.AGENT_COOKIE, str(agent_id), timedelta(days=OPEN_AGENT_DAYS))


def signed_in_agent(db: Database, current_mode: str) -> Agent | None:
    """The agent of this browser session under ``current_mode``, or None (then show the sign-in page)."""
    if current_mode == "open":
        return open_mode_agent(db)
    rules = policy()
    token = st.session_state.get(TOKEN_KEY)
    from_cookie = False
    if not token:
        token = _cookie(cookies.SESSION_COOKIE)
        from_cookie = bool(token)
    if token:
        try:
            agent = auth.resolve_session(db, token, now=deps.now(), policy=rules)
        except ParvisError as err:
            st.session_state.pop(TOKEN_KEY, None)
            if from_cookie:
                order_cookie(cookies.SESSION_COOKIE, None)
            if not (from_cookie and getattr(err, "reason", "") == "session_unknown"):  # signed out elsewhere
                page.flash("error", message_for(err))
            _end_provider_login()
            return None
        st.session_state[TOKEN_KEY] = token
        return agent
    if not _sso_logged_in():
        return None
    identity = sso.SsoIdentity.from_claims({k: st.user.get(k) for k in _CLAIMS})
    if st.session_state.get(SSO_REFUSED_KEY) == identity.login_key:
        return None
    try:
        session = sso.sign_in_sso(db, identity, now=deps.now(), policy=rules)
    except SessionExpired as err:
        page.flash("error", message_for(err))
        st.logout()
        return None
    except ParvisError as err:
        page.flash("error", message_for(err))
        st.session_state[SSO_REFUSED_KEY] = identity.login_key
        return None
    st.session_state[TOKEN_KEY] = session.token
    _keep(session)
    return session.agent


def _keep(session: auth.Session) -> None:
    """Keep ``session`` in this browser's cookie until its absolute limit."""
    order_cookie(cookies.SESSION_COOKIE, session.token, max(session.expires_at - deps.now(), timedelta(0)))


def sso_refused() -> bool:
    """Whether the provider login of this browser was refused (the sign-in page offers to change account)."""
    return _sso_logged_in() and SSO_REFUSED_KEY in st.session_state


def sign_in(email: str, password: str) -> None:
    """Check a local password and open a session (errors shown on the sign-in page)."""
    with deps.db() as db:
        try:
            session = auth.sign_in(db, email, password, now=deps.now(), policy=policy(), address=client_address())
        except ParvisError as err:
            page.flash("error", message_for(err))
            return
    st.session_state[TOKEN_KEY] = session.token
    _keep(session)
    page.clear_flash()


def sign_out() -> None:
    """Close the session (and the SSO login, if any)."""
    token = st.session_state.pop(TOKEN_KEY, None)
    st.session_state.pop(SSO_REFUSED_KEY, None)
    if token:
        with deps.db() as db:
            auth.sign_out(db, token, now=deps.now())  # revoked server-side: the cookie opens nothing any more
    order_cookie(cookies.SESSION_COOKIE, None)
    _end_provider_login()


def change_sso_account() -> None:
    """Forget a refused provider login and end it, to sign in with another identity."""
    st.session_state.pop(SSO_REFUSED_KEY, None)
    _end_provider_login()


def agents(db: Database) -> list[Agent]:
    """Active agents (for the open-mode picker)."""
    return users.list_agents(db)


def password_holders(db: Database) -> int:
    """Active agents who can sign in with a password."""
    return users.count_agents_with_password(db)
