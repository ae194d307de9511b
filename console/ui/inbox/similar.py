"""Similar answers in the inbox detail: three past conversations the city answered, each reply copyable into the
composer as a draft (services/inbox/similar.py; nothing is sent from here)."""

from __future__ import annotations

import streamlit as st

from console.ui import components, deps, page
from core.clock import format_paris
from core.errors import ParvisError
from core.models import Agent, InboxItem
from services.inbox import similar


def _copy(key: str, body: str) -> None:
    st.session_state[key] = body


def similar_answers(item: InboxItem, agent: Agent, composer_key: str) -> None:
    """List the three most similar answered conversations; « Reprendre » puts a reply into ``composer_key``."""
    try:
        with deps.db() as db:
            found = similar.similar_answers(db, item, viewer=agent)
    except ParvisError as err:
        page.error(err)
        return
    if not found:
        return
    with st.expander(f"Réponses déjà envoyées à des messages proches ({len(found)})", expanded=True):
        for i, answer in enumerate(found):
            with st.container(border=True):
                st.caption(f"Message d'un habitant · {answer.platform}")
                components.resident_text(answer.text)
                st.caption(f"Réponse signée envoyée le {format_paris(answer.sent_at)}")  # type: ignore[arg-type]
                st.text(answer.reply)
                st.button("Reprendre cette réponse comme brouillon", key=f"similar_copy_{item.uid}_{i}",
                          on_click=_copy, args=(composer_key, answer.body))
