"""Near-copies in the inbox detail: the same message posted by others, answered together with one reply."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import streamlit as st

from console.messages import message_for
from console.ui import components, deps, page
from core.errors import ParvisError
from core.models import Agent, InboxItem
from services.accounts import permissions
from services.connections import assembly
from services.inbox import duplicates, replies
from services.reports.topics import answer_group


def _answer_all(agent: Agent, uids: Sequence[str], key: str) -> None:
    body = (st.session_state.get(key) or "").strip()
    if not body:
        page.flash("error", "Rédigez d'abord la réponse ci-dessus : elle partira à chacun de ces messages.")
        return
    done = {"sent": 0, "submitted": 0}
    try:
        with deps.db() as db:
            settings, now = deps.settings(), deps.now()
            connector = partial(assembly.connector_for, settings)

            def reply_fn(item: InboxItem) -> None:
                done[replies.send_or_submit(db, agent, item, body, connector, now=now)] += 1

            result = answer_group(db, uids, reply_fn)
    except ParvisError as err:
        page.flash("error", message_for(err))
        return
    st.session_state[key] = ""
    text = f"{done['sent']} réponse(s) envoyée(s)"
    if done["submitted"]:
        text += f", {done['submitted']} soumise(s) à la validation de la direction"
    if result.skipped or result.failed:
        text += f", {len(result.skipped) + len(result.failed)} non envoyée(s)"
    page.flash("ok", text + ".")


def near_copies(item: InboxItem, agent: Agent, composer_key: str) -> None:
    """List the open near-copies of ``item``; one button sends the composer's reply to all of them and to it."""
    try:
        with deps.db() as db:
            copies = duplicates.near_copies(db, item, viewer=agent, now=deps.now())
    except ParvisError as err:
        page.error(err)
        return
    if not copies:
        return
    with st.expander(f"Messages presque identiques ({len(copies)})", expanded=True):
        for other in copies[:20]:
            st.markdown(components.item_header(other))
            components.resident_text(other.mention.text)
        if permissions.can(agent, permissions.Action.REPLY_COMPOSE):
            st.button(f"Envoyer la réponse rédigée à ces {len(copies) + 1} messages", key=f"dup_answer_{item.uid}",
                      on_click=_answer_all, args=(agent, [item.uid, *[c.uid for c in copies]], composer_key))
