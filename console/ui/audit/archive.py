"""Audit page, legal archive: search and filter published messages, export them, one message's whole history."""

from __future__ import annotations

import json

import streamlit as st

from console.messages import PLATFORM_LABELS, ROLE_LABELS
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, page
from console.ui.audit.common import allowed, download_block, period_bounds, run_action, stale_note
from console.ui.components import md_escape
from core.clock import format_paris
from core.errors import ParvisError
from core.models import Agent
from services.accounts.permissions import Action
from services.archive import audit_trail
from services.archive import published as archive
from services.archive.published import ArchiveFilter

PAGE_SIZE = 50
SELECTED_KEY = "audit_selected"
EXPORT_KEY = "audit_export_archive"
STATUS_LABELS = {"published": "Publié", "edited": "Modifié depuis", "hidden": "Masqué", "deleted": "Supprimé"}
CHANGE_LABELS = {"edited": "Modifié", "deleted": "Supprimé", "hidden": "Masqué", "unhidden": "Ré-affiché"}
KIND_LABELS = {"reply": "Réponse", "post": "Publication", "private_reply": "Réponse privée"}
SECONDS = "%d/%m/%Y %H:%M:%S"


def _filters(agents: list[Agent]) -> ArchiveFilter:
    c1, c2, c3, c4 = st.columns(4)
    period = c1.date_input("Période de publication", value=[], key="audit_arch_period", format="DD/MM/YYYY")
    emails = {a.email: f"{a.name} ({a.email})" for a in agents}
    agent = c2.selectbox("Agent (auteur ou approbateur)", ["", *emails], format_func=lambda e: emails.get(e, "Tous"),
                         key="audit_arch_agent", placeholder=CHOOSE_ONE)
    platforms = c3.multiselect("Plateforme", list(PLATFORM_LABELS), format_func=PLATFORM_LABELS.__getitem__,
                               key="audit_arch_platforms", placeholder="Toutes")
    status = c4.selectbox("Statut", ["", *STATUS_LABELS], format_func=lambda s: STATUS_LABELS.get(s, "Tous"),
                          key="audit_arch_status", placeholder=CHOOSE_ONE)
    c5, c6, c7 = st.columns([2, 1, 1])
    keyword = c5.text_input("Mot-clé (texte publié)", key="audit_arch_keyword")
    account = c6.text_input("Compte (ex. @valmont)", key="audit_arch_account")
    page_no = c7.number_input("Page", min_value=1, value=1, step=1, key="audit_arch_page")
    since, until = period_bounds(period)
    return ArchiveFilter(since=since, until=until, agent=agent or None, platforms=tuple(platforms),
                         account=account.strip() or None, status=status or None, keyword=keyword.strip(),
                         limit=PAGE_SIZE, offset=(int(page_no) - 1) * PAGE_SIZE)


def _export(agent: Agent, filters: ArchiveFilter, allow_broken: bool) -> None:
    run_action(lambda db: (audit_trail.archive_download(db, filters, actor=agent, now=deps.now(),
                                                        allow_broken=allow_broken), filters),
               lambda v: f"Export préparé : {v[0].result.items} message(s) (inscrit au journal d'audit).",
               store=EXPORT_KEY)


def archive_tab(agent: Agent, agents: list[Agent], allow_broken: bool) -> None:
    """Filters, the result table (select a row for its history) and the export of the whole selection."""
    filters = _filters(agents)
    try:
        with deps.db() as db:
            messages, total = archive.search(db, filters, viewer=agent)
    except ParvisError as err:
        page.error(err)
        return
    st.caption(f"{total} message(s) archivé(s) correspondant aux filtres")
    if not messages:
        st.info("Aucun message archivé ne correspond à ces filtres.")
    else:
        rows = [{"N°": m.id, "Publié le": format_paris(m.published_at), "Type": KIND_LABELS.get(m.kind, m.kind),
                 "Plateforme": PLATFORM_LABELS.get(m.platform, m.platform), "Compte": m.account,
                 "Auteur": m.author_name or m.author, "Approbateur": m.approver_name or m.approver or "—",
                 "Statut": STATUS_LABELS.get(m.status, m.status), "Texte publié": m.text[:160]} for m in messages]
        event = st.dataframe(rows, hide_index=True, on_select="rerun", selection_mode="single-row",
                             key="audit_arch_table", width="stretch")
        picked = event.selection.rows if event and event.selection else []
        pick = messages[picked[0]].id if picked else None
        if pick != st.session_state.get("audit_last_pick"):  # a new row selected: open its history
            st.session_state["audit_last_pick"] = pick
            if pick is not None:
                st.session_state[SELECTED_KEY] = pick
    if allowed(agent, Action.AUDIT_EXPORT):
        st.button("Préparer l'export de la sélection (CSV, JSON, PDF)", key="export_archive", on_click=_export,
                  args=(agent, filters, allow_broken),
                  help="Toute la sélection, sans pagination ; l'export est audité.")
        stale_note(EXPORT_KEY, filters)
        download_block(EXPORT_KEY, "l'archive")
    selected = st.session_state.get(SELECTED_KEY)
    if selected is not None:
        st.divider()
        history_panel(int(selected))


def _person(name: str | None, email: str | None) -> str:
    return f"{name} <{email}>" if name and email else (email or name or "—")


def history_panel(message_id: int) -> None:
    """One archived message on one screen: as sent, who wrote and approved it, what it answered, what followed."""
    try:
        with deps.db() as db:
            h = archive.history(db, message_id)
    except ParvisError as err:
        page.error(err)
        return
    m = h.message
    st.subheader(f"Historique du message archivé n° {m.id}")
    st.button("Fermer l'historique", key="audit_close_history", on_click=st.session_state.pop,
              args=(SELECTED_KEY, None))
    st.markdown("**Texte tel que publié** (signature comprise)")
    st.text(m.text)
    facts = {
        "Statut actuel": STATUS_LABELS.get(m.status, m.status), "Type": KIND_LABELS.get(m.kind, m.kind),
        "Signature": m.signature or "—", "Auteur": _person(m.author_name, m.author),
        "Approbateur": _person(m.approver_name, m.approver),
        "Version de la charte": "—" if m.charter_version is None else str(m.charter_version),
        "Plateforme": PLATFORM_LABELS.get(m.platform, m.platform), "Compte": m.account or "—",
        "Identifiant sur la plateforme": m.platform_id, "Lien permanent": m.permalink or "—",
        "Publié le": format_paris(m.published_at, SECONDS), "Archivé le": format_paris(m.archived_at, SECONDS),
        "Origine": m.source or "—", "Sceau de l'archive (SHA-256)": m.record_sha256,
        "Réponse de la plateforme capturée (SHA-256)": m.payload_sha256,
    }
    st.dataframe([{"Élément": k, "Valeur": v} for k, v in facts.items()], hide_index=True, width="stretch")
    st.markdown("**Contrôle de la charte au moment de la validation**")
    if m.charter_result:
        st.dataframe([{k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                       for k, v in r.items()} for r in m.charter_result], hide_index=True, width="stretch")
    else:
        st.caption("Aucun résultat de contrôle enregistré.")
    _answered(h)
    st.markdown("**Modifications constatées après la publication** (ajoutées, jamais réécrites)")
    if h.changes:
        st.dataframe([{"Vu le": format_paris(c.seen_at, SECONDS), "Changement": CHANGE_LABELS.get(c.change, c.change),
                       "Nouveau texte": c.text or "", "Constaté par": c.actor, "Sceau (SHA-256)": c.record_sha256}
                      for c in h.changes], hide_index=True, width="stretch", key="audit_history_changes")
    else:
        st.caption("Aucune modification constatée depuis la publication.")
    st.markdown("**Journal d'audit de ce message** (rédaction, validation, publication, changements)")
    st.dataframe([{"N°": e["id"], "Date": format_paris(e["at"], SECONDS), "Acteur": e["actor"],
                   "Rôle": ROLE_LABELS.get(e["role"], e["role"]), "Événement": e["event"], "Objet": e["subject"],
                   "Détails": json.dumps(e["properties"], ensure_ascii=False)[:300]} for e in h.events],
                 hide_index=True, width="stretch")


def _answered(h: archive.MessageHistory) -> None:
    snap = h.message.in_reply_to_snapshot
    if not h.message.in_reply_to:
        return
    st.markdown("**Message auquel il répond** (tel qu'il était au moment de la publication)")
    if snap and not snap.get("missing"):
        st.caption(f"{PLATFORM_LABELS.get(snap.get('platform', ''), snap.get('platform', ''))} · "
                   f"identifiant Parvis {md_escape(h.message.in_reply_to)} · "
                   f"auteur @{md_escape(str(snap.get('author_handle', '')))}")
        st.text(str(snap.get("text", "")))
    if h.answered is not None and snap and h.answered.mention.text != snap.get("text"):
        st.markdown("Texte actuel du message reçu :")
        st.text(h.answered.mention.text)
    if h.answered_revisions:
        st.markdown("Changements du message reçu vus depuis :")
        st.dataframe([{"Vu le": format_paris(r["seen_at"], SECONDS),
                       "Changement": CHANGE_LABELS.get(r["change"], r["change"]),
                       "Ancien texte": r["old_text"] or "", "Nouveau texte": r["new_text"] or ""}
                      for r in h.answered_revisions], hide_index=True, width="stretch")
