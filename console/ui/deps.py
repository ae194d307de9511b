"""The one seam between Streamlit and the core: settings, a DB connection per rerun, the current agent, now.

Pages import this module and services; they never run SQL. A sqlite3 connection is opened per rerun (cheap)
rather than cached, because Streamlit serves sessions on several threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import streamlit as st
from sqlite_utils import Database

from core.clock import utcnow
from core.config import Settings, location_env
from core.db import open_db
from core.models import Agent
from services.accounts import users

AGENT_KEY = "auth_agent_id"


@st.cache_resource(max_entries=8)
def _settings_for(location: tuple[str, ...]) -> Settings:  # the argument is the cache key
    return Settings.load()


def settings() -> Settings:
    """Settings, loaded once per process (and again if PARVIS_DB / PARVIS_CONFIG / PARVIS_DATA_DIR change)."""
    return _settings_for(location_env())


@contextmanager
def db() -> Iterator[Database]:
    """A connection for this rerun, closed at the end of the ``with`` block."""
    database = open_db(settings().db_path)
    try:
        yield database
    finally:
        database.close()


def now() -> datetime:
    """Current time (UTC)."""
    return utcnow()


def current_agent(database: Database) -> Agent | None:
    """The signed-in agent of this browser session, or None."""
    agent_id = st.session_state.get(AGENT_KEY)
    if agent_id is None:
        return None
    try:
        agent = users.get_agent(database, int(agent_id))
    except Exception:  # noqa: BLE001 - a deleted agent just signs the session out
        st.session_state.pop(AGENT_KEY, None)
        return None
    return agent if agent.active else None


def set_current_agent(agent_id: int | None) -> None:
    """Sign this session in as ``agent_id`` (None: sign out)."""
    if agent_id is None:
        st.session_state.pop(AGENT_KEY, None)
    else:
        st.session_state[AGENT_KEY] = int(agent_id)
