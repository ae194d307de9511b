"""Parvis console: the router. Sets up the page, identifies the agent, shows the pages their role allows."""

import streamlit as st

from console import deps, nav
from console.messages import ROLE_LABELS, message_for
from core import repo
from core.errors import ParvisError

st.set_page_config(page_title="Parvis", page_icon=":material/forum:", layout="wide")

try:
    with deps.db() as database:
        agent = deps.current_agent(database)
        agents = repo.list_agents(database)
except ParvisError as err:
    st.error(message_for(err))
    st.stop()

with st.sidebar:
    st.markdown("### Parvis")
    if agents:
        ids = [a.id for a in agents]
        labels = {a.id: f"{a.name} — {ROLE_LABELS.get(a.role, a.role)}" for a in agents}
        current = agent.id if agent else ids[0]
        chosen = st.selectbox("Agent", ids, index=ids.index(current) if current in ids else 0,
                              format_func=labels.__getitem__, key="sidebar_agent")
        if chosen != (agent.id if agent else None):
            deps.set_current_agent(chosen)
            with deps.db() as database:
                agent = deps.current_agent(database)
    else:
        st.warning("Aucun agent. Lancez `python -m console demo` ou `python -m console users add`.")

page = st.navigation(nav.pages_for(agent))
page.run()
