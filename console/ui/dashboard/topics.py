"""Topics section of the "Tableau de bord": groups of similar messages, and one saved reply to a whole group.

Each reply of a group goes through the editorial reply code (services.inbox.replies): composed from the saved reply
for that mention, signed, checked against the charter, then sent through the mention's connector — or submitted
for a director's approval when it needs one — and audited like a reply written in the inbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import streamlit as st

from console.messages import message_for
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, page
from console.ui.components import md_escape
from console.ui.dashboard.charts import CSV_LABEL, channel
from core.clock import format_paris
from core.errors import ParvisError
from core.models import Agent, InboxItem
from services.accounts import permissions
from services.connections import assembly
from services.inbox import replies, saved_replies, triage
from services.reports.dashboard import DashboardConfig, DashboardFilters, to_csv
from services.reports.topics import Topic, answer_group, topics_for, topics_table

TOPICS_TTL_S = 300
SHOWN = 10
SKIP_FR = {"already_answered": "déjà traité", "hidden": "masqué", "deleted": "supprimé",
           "not_found": "introuvable"}


@st.cache_data(ttl=TOPICS_TTL_S, max_entries=32, show_spinner="Regroupement des messages semblables…")
def cached_topics(db_key: str, filters: DashboardFilters) -> list[Topic]:
    """Topics of the selection, cached a few minutes per database and filters (grouping takes seconds)."""
    with deps.db() as db:
        return topics_for(db, filters, DashboardConfig.from_settings(deps.settings()), now=deps.now())


def may_answer(agent: Agent) -> bool:
    """Whether ``agent`` may answer a group with a saved reply (the reply services check it again)."""
    return permissions.can(agent, permissions.Action.REPLY_COMPOSE) and permissions.can(
        agent, permissions.Action.SAVED_REPLY_USE)


def answer_topic(agent: Agent, uids: Sequence[str], saved_id: int, topic_id: str) -> None:
    """Callback: send the saved reply to every open mention of the group (or submit it for approval)."""
    done = {"sent": 0, "submitted": 0}
    try:
        with deps.db() as db:
            settings, now = deps.settings(), deps.now()
            connector = partial(assembly.connector_for, settings)

            def reply_fn(item: InboxItem) -> None:
                body = saved_replies.fill(db, agent, saved_id, item=item)
                done[replies.send_or_submit(db, agent, item, body, connector, now=now)] += 1

            result = answer_group(db, uids, reply_fn)
    except ParvisError as err:
        page.flash("error", message_for(err))
        return
    finally:
        cached_topics.clear()
        st.session_state[f"dashboard_confirm_{topic_id}"] = False
    parts = [f"{done['sent']} réponse(s) envoyée(s)"]
    if done["submitted"]:
        parts.append(f"{done['submitted']} soumise(s) à la validation de la direction")
    if result.skipped:
        reasons = sorted({SKIP_FR.get(reason, reason) for _, reason in result.skipped})
        parts.append(f"{len(result.skipped)} ignorée(s) ({', '.join(reasons)})")
    if result.failed:
        parts.append(f"{len(result.failed)} en échec — {message_for(result.errors[0])}")
    page.flash("error" if result.failed else "ok", " ; ".join(parts) + ".")


def _answer_box(agent: Agent, topic: Topic, saved: list[saved_replies.SavedReply]) -> None:
    n = len(topic.open_uids)
    if not n:
        st.caption("Tous les messages de ce groupe ont déjà reçu une réponse.")
        return
    if not saved:
        st.caption("Aucun modèle de réponse : la direction peut en créer pour répondre à tout un groupe.")
        return
    titles = {s.id: s.title for s in saved}
    pick = st.selectbox("Modèle de réponse pour tout le groupe", [0, *titles], key=f"dashboard_saved_{topic.id}",
                        format_func=lambda i: titles.get(i, "—"), placeholder=CHOOSE_ONE)
    if not pick:
        return
    try:
        with deps.db() as db:
            item = triage.get_item(db, topic.open_uids[0])
            body = saved_replies.fill(db, agent, int(pick), item=item)
            composed = replies.compose(db, agent, body=body, platform=item.mention.platform, now=deps.now(),
                                       mention_uid=item.uid)
    except ParvisError as err:
        page.error(err)
        return
    st.caption("Aperçu pour le premier message (le prénom est adapté à chaque habitant) :")
    st.text(composed.signed_text)
    for finding in composed.result.findings:
        (st.error if str(finding.severity) == "block" else st.warning)(finding.message)
    if composed.needs_approval:
        st.info("Ces réponses demandent une validation : elles seront soumises à la direction.")
    confirmed = st.checkbox(f"Je confirme l'envoi de {n} réponse(s) publique(s) signée(s)",
                            key=f"dashboard_confirm_{topic.id}")
    st.button(f"Répondre à tout le groupe ({n})", key=f"answer_group_{topic.id}", type="primary",
              disabled=composed.blocked or not confirmed, on_click=answer_topic,
              args=(agent, topic.open_uids, int(pick), topic.id))


def topics_section(agent: Agent, topics: list[Topic]) -> None:
    """Groups « N messages sur … » with examples (personal data removed) and the group answer."""
    st.caption("Messages semblables regroupés (les plus récents de la sélection) ; exemples sans données "
               "personnelles.")
    st.download_button(CSV_LABEL, data=to_csv(topics_table(topics)), file_name="sujets.csv", mime="text/csv",
                       key="dashboard_csv_sujets", on_click="ignore", disabled=not topics)
    if not topics:
        st.info("Aucun groupe de messages semblables sur cette période.")
        return
    saved: list[saved_replies.SavedReply] = []
    if may_answer(agent):
        with deps.db() as db:
            saved = saved_replies.list_saved(db, agent)
    else:
        st.caption("Lecture seule : votre rôle ne permet pas de répondre aux habitants.")
    for topic in topics[:SHOWN]:
        with st.container(border=True):
            st.markdown(f"**{topic.count} messages sur « {md_escape(topic.label)} »**")
            meta = [f"{len(topic.open_uids)} sans réponse",
                    ", ".join(f"{channel(c)} {k}" for c, k in sorted(topic.channels.items())),
                    f"du {format_paris(topic.first_at)} au {format_paris(topic.last_at)}"]
            if topic.campaign:
                meta.append(f"{topic.duplicates} copies quasi identiques en moins de 72 h : campagne de "
                            "copier-coller ?")
            elif topic.duplicates:
                meta.append(f"{topic.duplicates} messages presque identiques")
            st.caption(" · ".join(meta))
            for example in topic.examples:
                st.text(example)
            if may_answer(agent):
                _answer_box(agent, topic, saved)
