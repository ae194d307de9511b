"""Which pages each role sees (role-conditional navigation; the services enforce the rules anyway)."""

from __future__ import annotations

import streamlit as st

from core.models import Agent


def pages_for(agent: Agent | None) -> list[st.Page]:
    """The pages shown to ``agent`` (the inbox for everyone)."""
    pages = [
        st.Page("console/pages/inbox.py", title="Boîte de réception", icon=":material/inbox:", default=True,
                url_path="inbox"),
        st.Page("console/pages/connections.py", title="Connexions", icon=":material/hub:", url_path="connexions"),
    ]
    return pages
