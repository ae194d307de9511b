"""Reply composer in the inbox detail pane (wired to services.replies once the editorial workflow lands)."""

from __future__ import annotations

import streamlit as st

from core.models import Agent, InboxItem


def composer(item: InboxItem, agent: Agent) -> None:
    """Write a reply to ``item`` as ``agent``."""
    st.caption("Réponse : bientôt disponible.")
