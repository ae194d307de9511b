"""Approbations page pieces: one submitted reply to decide on, and the saved replies (modèles de réponse)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import streamlit as st

from console.messages import PLATFORM_LABELS, message_for
from console.ui import components, deps, page
from console.ui.charter.rules import SEVERITY_ICON, findings_table
from console.ui.components import md_escape
from core.clock import format_paris
from core.errors import ParvisError
from core.models import Agent
from editorial.charter import rule_label
from editorial.templates import SAMPLE_VALUES, VARIABLES, render_template
from editorial.workflow import APPROVAL_REASONS_FR
from services.connections import assembly
from services.inbox import replies, saved_replies
from services.publishing import approvals

BASELINE_FR = {"approved": "Modifications depuis le texte validé précédemment",
               "submitted": "Modifications depuis la soumission précédente"}


def _approve(director: Agent, draft_id: int, seen_text: str, send: bool) -> None:
    """Approve (never one's own: the service refuses), then send it now through its account's connector."""
    try:
        with deps.db() as db:
            now = deps.now()
            draft = replies.approve(db, director, draft_id, now=now, seen_text=seen_text)
            if not send or draft.scheduled_at is not None:
                page.flash("ok", "Réponse validée : " + (
                    "elle partira à l'heure programmée." if draft.scheduled_at else "son auteur peut l'envoyer."))
                return
            try:
                connector = assembly.connector_for_mention_uid(deps.settings(), db, draft.mention_uid)
                replies.send(db, director, draft_id, connector, now=now)
            except ParvisError as err:  # the approval stands; the message says whether to retry or to check
                page.flash("error", "Réponse validée, mais l'envoi n'a pas abouti : " + message_for(err))
                return
    except ParvisError as err:
        page.flash("error", message_for(err))
        return
    page.flash("ok", "Réponse validée et envoyée.")


def _request_changes(director: Agent, draft_id: int, key: str) -> None:
    def call(db: Any, now: datetime) -> str:
        replies.request_changes(db, director, draft_id, comment=str(st.session_state.get(key, "")), now=now)
        st.session_state[key] = ""
        return "Modifications demandées : la réponse retourne à son auteur."
    page.run(call)


def _findings(text: str, records: Sequence[Mapping[str, Any]]) -> None:
    if not records:
        st.caption("Charte : aucune remarque.")
        return
    findings_table([{"Gravité": SEVERITY_ICON.get(str(f.get("severity")), str(f.get("severity"))),
                     "Règle": rule_label(f.get("code")),
                     "Passage": text[int(f.get("start") or 0):int(f.get("end") or 0)],
                     "Explication": f.get("message"), "Suggestion": f.get("suggestion") or ""} for f in records])


def approval_card(director: Agent, entry: approvals.ApprovalItem, *, risk_threshold: float) -> None:
    """One reply waiting for approval: the message it answers (with its risk), the text, diff, charter, actions."""
    draft, item = entry.draft, entry.item
    did = draft.id
    with st.container(border=True):
        when = format_paris(draft.submitted_at or draft.updated_at)
        st.markdown(md_escape(f"Réponse n° {did} de {entry.author.name} — soumise le {when} — "
                              f"{PLATFORM_LABELS.get(str(draft.platform), str(draft.platform))}"))
        if draft.approval_reasons:
            st.caption("Validation requise : " + ", ".join(APPROVAL_REASONS_FR.get(r, r)
                                                             for r in draft.approval_reasons))
        left, right = st.columns(2)
        with left:
            st.markdown("**Message d'origine**")
            if item is None:
                st.caption("Message d'origine introuvable.")
            else:
                st.markdown(components.item_header(item))
                components.resident_text(item.mention.text)
                risk = f"Risque : {item.risk_score:.0%}"
                if item.risk_flags:
                    risk += " — " + components.risk_summary(item)
                risk += f" · Sentiment : {components.sentiment_label(item)}"
                (st.warning if item.risk_score >= risk_threshold else st.caption)(md_escape(risk))
        with right:
            st.markdown("**Réponse proposée** (telle qu'elle sera publiée)")
            st.text(draft.signed_text)
            with deps.db() as db:
                kind, before = approvals.baseline(db, draft)
            if before is not None:
                st.caption(BASELINE_FR[kind])
                st.code("\n".join(approvals.diff_lines(before, draft.signed_text)), language="diff",
                        wrap_lines=True)
        st.markdown(f"**Charte** (version {draft.charter_version if draft.charter_version is not None else '—'})")
        _findings(draft.signed_text, draft.charter_result)
        if draft.author_id == director.id:
            st.info("Vous êtes l'auteur de cette réponse : un autre membre de la direction doit la valider.")
        c1, c2, c3 = st.columns([1, 1, 2])
        c1.button("Valider et envoyer" if draft.scheduled_at is None else "Valider (envoi programmé)",
                  key=f"approve_{did}", type="primary", on_click=_approve,
                  args=(director, did, draft.signed_text, True))
        c2.button("Valider sans envoyer", key=f"approve_only_{did}", on_click=_approve,
                  args=(director, did, draft.signed_text, False))
        c3.text_area("Commentaire pour l'auteur", key=f"changes_comment_{did}", height=68,
                     placeholder="Ce qu'il faut modifier…")
        c3.button("Demander des modifications", key=f"request_changes_{did}", on_click=_request_changes,
                  args=(director, did, f"changes_comment_{did}"))


def _create_saved(director: Agent) -> None:
    def call(db: Any, now: datetime) -> str:
        saved = saved_replies.create(db, director, title=str(st.session_state.get("saved_new_title", "")),
                                     body=str(st.session_state.get("saved_new_body", "")), now=now)
        st.session_state["saved_new_title"] = st.session_state["saved_new_body"] = ""
        return f"Modèle « {saved.title} » créé."
    page.run(call)


def _update_saved(director: Agent, reply_id: int, active: bool) -> None:
    def call(db: Any, now: datetime) -> str:
        saved = saved_replies.update(db, director, reply_id, now=now, active=active,
                                     title=str(st.session_state.get(f"saved_title_{reply_id}", "")),
                                     body=str(st.session_state.get(f"saved_body_{reply_id}", "")))
        return f"Modèle « {saved.title} » {'enregistré' if active else 'supprimé'}."
    page.run(call)


def saved_replies_tab(director: Agent) -> None:
    """Directors create, edit and remove saved replies; each is checked against the charter when saved."""
    st.caption("Variables possibles : " + ", ".join("{" + v + "}" for v in VARIABLES)
               + " (prénom de l'auteur du message, service, lien). Chaque modèle est contrôlé par la charte.")
    try:
        with deps.db() as db:
            saved = saved_replies.list_saved(db, director)
    except ParvisError as err:
        page.error(err)
        return
    if not saved:
        st.info("Aucun modèle de réponse.")
    for s in saved:
        with st.expander(s.title):
            st.text_input("Titre", value=s.title, key=f"saved_title_{s.id}")
            st.text_area("Texte", value=s.body, key=f"saved_body_{s.id}")
            st.caption("Exemple rempli :")
            st.text(render_template(s.body, SAMPLE_VALUES))
            c1, c2 = st.columns(2)
            c1.button("Enregistrer", key=f"saved_update_{s.id}", on_click=_update_saved, args=(director, s.id, True))
            c2.button("Supprimer", key=f"saved_remove_{s.id}", on_click=_update_saved, args=(director, s.id, False))
    st.markdown("**Nouveau modèle**")
    st.text_input("Titre du modèle", key="saved_new_title", placeholder="Collecte des déchets")
    st.text_area("Texte du modèle", key="saved_new_body",
                 placeholder="Bonjour {prenom}, le service {service} a été prévenu. Plus d'infos : {lien}")
    st.button("Créer le modèle", key="saved_create", on_click=_create_saved, args=(director,))
