"""The inbox detail pane: conversation, author history, notes, and the actions (each calls a service)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.messages import SENTIMENT_LABELS, STATUS_LABELS
from console.messages.labels import CHOOSE_ONE, models_text
from console.ui import components, deps, page
from console.ui.inbox import duplicates as inbox_duplicates
from console.ui.inbox import table as inbox_table
from console.ui.integrations import inbox as integrations_view
from core.clock import format_paris
from core.errors import ParvisError
from core.models import Agent
from moderation.rich import is_rich_version
from services.accounts import permissions
from services.inbox import triage as inbox
from services.moderation import actions as moderation_actions


def _assign(uid: str, actor: Agent, key: str) -> None:
    value = st.session_state.get(key)
    page.run(inbox.assign, "Assignation enregistrée.", uid=uid, agent_id=None if value in (None, 0) else int(value),
         actor=actor)


def _status(uid: str, actor: Agent, key: str) -> None:
    page.run(inbox.change_status, "Statut modifié.", uid=uid, status=st.session_state[key], actor=actor)


def _tag(uid: str, actor: Agent, key: str) -> None:
    value = (st.session_state.get(key) or "").strip()
    if value:
        page.run(inbox.add_tag, f"Étiquette « {value} » ajoutée.", uid=uid, tag=value, actor=actor)
        st.session_state[key] = ""


def _sentiment(uid: str, actor: Agent, key: str) -> None:
    label = st.session_state.get(key)
    if label:
        page.run(moderation_actions.correct_sentiment, "Sentiment corrigé (servira au prochain entraînement).",
             uid=uid, label=label, actor=actor)


def _note(uid: str, actor: Agent, key: str) -> None:
    page.run(inbox.add_note, "Note interne ajoutée.", uid=uid, text=st.session_state.get(key, ""), actor=actor)
    st.session_state[key] = ""


@st.fragment(run_every=inbox.PRESENCE_HEARTBEAT.total_seconds())
def _presence(uid: str, agent: Agent) -> None:
    """Who else has this message open, refreshed by a heartbeat while the pane stays open (so a colleague who
    left disappears within a minute and a half: services/inbox/triage.PRESENCE_WINDOW)."""
    try:
        with deps.db() as db:
            others = inbox.presence(db, uid, agent, now=deps.now())
    except ParvisError:
        return
    if others:
        st.warning("Également ouvert par : " + ", ".join(a.name for a in others))


def _triage_controls(uid: str, item: Any, agent: Agent, agents: list[Agent]) -> None:
    """Assign, status, sentiment, tag: only for a role that may triage (legal staff read)."""
    ids = [0, *[a.id for a in agents if permissions.can(a, permissions.Action.INBOX_TRIAGE)]]
    label = {0: "— personne —", **{a.id: a.name for a in agents}}
    c1, c2 = st.columns(2)
    c1.button("M'assigner", key=f"assign_me_{uid}", on_click=page.run, args=(inbox.assign, "Assigné à vous."),
              kwargs={"uid": uid, "agent_id": agent.id, "actor": agent}, width="stretch")
    c1.selectbox("Assigner à", ids, index=ids.index(item.assigned_to) if item.assigned_to in ids else 0,
                 format_func=label.__getitem__, key=f"assignee_{uid}", on_change=_assign,
                 args=(uid, agent, f"assignee_{uid}"), placeholder=CHOOSE_ONE)
    choices = [item.status, *inbox.allowed_statuses(item.status)]
    c2.selectbox("Statut", [str(s) for s in choices], format_func=STATUS_LABELS.__getitem__, key=f"status_{uid}",
                 on_change=_status, args=(uid, agent, f"status_{uid}"), placeholder=CHOOSE_ONE)
    c2.selectbox("Corriger le sentiment", ["", *SENTIMENT_LABELS], key=f"sentiment_{uid}",
                 format_func=lambda v: SENTIMENT_LABELS.get(v, "—"), on_change=_sentiment,
                 args=(uid, agent, f"sentiment_{uid}"), placeholder=CHOOSE_ONE)
    c2.text_input("Ajouter une étiquette", key=f"tag_{uid}", on_change=_tag, args=(uid, agent, f"tag_{uid}"),
                  placeholder="voirie, propreté…")


def _thread_count(d: Any) -> int:
    """What « Fil » shows: the city's post, the context read on the platform (without the city's post twice),
    the inbox items and the city's replies."""
    context = [p for p in d.context if not (d.root is not None and p.get("own"))]
    return (d.root is not None) + len(context) + len(d.thread) + len(d.city_replies)


def _root_changes(revisions: list[dict[str, Any]]) -> None:
    """What the platform showed of the city's post since Parvis read it (decision 0305): its deletion (the text
    above is kept) and its earlier versions, since residents may have answered one of them."""
    deleted = [r for r in revisions if r["change"] == "deleted"]
    if deleted:
        st.caption(f"Supprimée sur la plateforme (vu le {format_paris(deleted[0]['seen_at'])}) : texte conservé "
                   "tel que lu.")
    edits = [r for r in revisions if r["change"] == "edited"]
    if not edits:
        return
    st.caption("Modifiée sur la plateforme : les réponses ont pu porter sur une version précédente.")
    with st.expander(f"Versions précédentes de la publication ({len(edits)})"):
        for rev in reversed(edits):  # the newest change first
            st.caption(f"Avant la modification vue le {format_paris(rev['seen_at'])}")
            st.text(rev.get("old_text") or "(sans texte)")


def _thread(uid: str, d: Any, agents: list[Agent]) -> None:
    """The city's post the conversation answers first (its root), then the conversation, the city's replies in it
    (from Parvis's sent replies) placed at their time."""
    names = {a.id: a.name for a in agents}
    root = d.root
    if root is not None:
        st.markdown(f"**📣 Publication de la Ville** · {format_paris(root.published_at)}")
        if root.text:
            st.text(root.text)
        else:  # an Instagram photo without a caption: its date and link still say which post
            st.caption("Publication sans texte")
        _root_changes(d.root_revisions)
        if root.permalink.startswith("https://") and not getattr(root, "deleted_at", None):  # gone: no dead link
            st.link_button("Voir la publication", root.permalink)
        st.divider()
    for post in d.context:  # the thread's start read on the platform (Bluesky), root first: resident text
        if root is not None and post.get("own"):
            continue  # the city's post, shown above
        if post.get("state") == "not_found":
            st.markdown("**Message supprimé** · début du fil")
        elif post.get("state") == "blocked":
            st.markdown("**Message masqué** · auteur bloqué")
        elif post.get("state") == "erased":
            st.markdown("**Message effacé (RGPD)** · contexte du fil")
        else:
            who = "Compte de la Ville" if post.get("own") else f"@{post.get('handle', '')}"
            st.markdown(f"**{components.md_escape(who)}** · contexte du fil")
            components.resident_text(str(post.get("text") or ""))
    entries: list[tuple[Any, int, Any]] = [(it.mention.created_at, 0, it) for it in d.thread]
    entries += [(r.sent_at or r.updated_at, 1, r) for r in d.city_replies]
    for _at, kind, entry in sorted(entries, key=lambda e: (e[0], e[1])):
        if kind == 0:
            marker = "➡️ " if entry.uid == uid else ""
            st.markdown(marker + components.item_header(entry))
            components.resident_text(entry.mention.text)
        else:
            when = format_paris(entry.sent_at) if entry.sent_at else "envoi à vérifier"
            st.markdown(f"**↩️ Réponse de la Ville** · {components.md_escape(names.get(entry.author_id, ''))} · "
                        f"{when}")
            st.text(entry.signed_text)


def detail_pane(uid: str, agent: Agent, agents: list[Agent]) -> None:
    """Render the selected mention with its thread, history, notes and action widgets."""
    try:
        with deps.db() as db:
            d = inbox.detail(db, uid, viewer=agent, now=deps.now())
    except ParvisError as err:
        page.error(err)
        return
    item = d.item
    presence_slot = st.empty()  # filled after the message is shown: its heartbeat is a write (issue #17)
    if d.assignee and d.assignee.id != agent.id:
        st.warning(f"Assigné à {d.assignee.name}")
    with st.container(key=inbox_table.HEADING_KEY):  # the focus goes there when the message opens (decision 0293)
        st.markdown(components.item_header(item))
    components.resident_text(item.mention.text)
    with presence_slot.container():
        _presence(uid, agent)
    tier = " — analyse approfondie" if is_rich_version(item.model_version) else ""
    meta = [f"Sentiment : {components.sentiment_label(item)}{tier}",
            f"Priorité : {components.fr_number(item.priority, 1)}"]
    if item.risk_flags:
        meta.append("Risques : " + components.risk_summary(item))
    if item.tags:
        meta.append("Étiquettes : " + ", ".join(item.tags))
    if item.mention.quote_of:
        meta.append(f"Cite le message {item.mention.quote_of}")
    if not item.mention.author.known:
        meta.append("Auteur non communiqué par la plateforme")
    st.caption(components.md_escape(" · ".join(meta)))
    models = models_text(item.model_version, item.risk_model_version)
    if models:  # "by what": the sentiment model / tier and the risk (toxicity) model, as stored (decision 0325)
        st.caption(components.md_escape(models))
    if item.mention.permalink and item.mention.permalink.startswith("https://"):
        st.link_button("Voir sur la plateforme", item.mention.permalink)
    if item.edited_at or item.deleted_at or d.revisions:
        with st.expander("Modifications vues sur la plateforme"):
            for rev in d.revisions:
                st.text(f"{format_paris(rev['seen_at'])} — {rev['change']}: {rev.get('old_text') or ''}")

    tabs = components.kept_tabs(["Actions", f"Fil ({_thread_count(d)})",
                                 f"Auteur ({len(d.author_history)})", f"Notes ({len(d.notes)})"], "inbox_detail_tab")
    with tabs[0]:
        if permissions.can(agent, permissions.Action.INBOX_TRIAGE):
            _triage_controls(uid, item, agent, agents)
            integrations_view.back_office(item, agent)  # the back office's requests (issue #19)
        else:
            st.caption("Lecture seule : votre rôle ne permet ni d'assigner, ni de changer le statut, ni "
                       "d'étiqueter les messages.")
        reply_box = st.container()
        from console.ui.inbox import composer as reply_composer  # composer lives with the editorial workflow

        with reply_box:
            reply_composer.composer(item, agent)
            inbox_duplicates.near_copies(item, agent, f"reply_body_{uid}")
    with tabs[1]:
        _thread(uid, d, agents)
    with tabs[2]:
        if not d.author_history:
            st.caption("Aucun autre message de cet auteur.")
        for it in d.author_history:
            st.markdown(components.item_header(it))
            components.resident_text(it.mention.text)
    with tabs[3]:
        names = {a.id: a.name for a in agents}
        for note in d.notes:
            st.caption(f"{names.get(note.agent_id, '?')} · {format_paris(note.created_at)}")
            st.text(note.text)
        if permissions.can(agent, permissions.Action.INBOX_TRIAGE):
            st.text_area("Nouvelle note interne", key=f"note_{uid}", max_chars=inbox.MAX_NOTE_LEN)
            st.button("Ajouter la note", key=f"add_note_{uid}", on_click=_note, args=(uid, agent, f"note_{uid}"))
