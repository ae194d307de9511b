"""Audit page, the audit log: filter events by date, actor, event and object; export the selection."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from console.messages.labels import (
    AUDIT_EVENT_LABELS,
    AUDIT_FIELD_LABELS,
    MODERATION_ACTION_LABELS,
    RISK_LABELS,
    ROLE_LABELS,
)
from console.ui import deps, page
from console.ui.audit.common import allowed, download_block, period_bounds, run_action, stale_note
from core.clock import format_paris, from_iso
from core.errors import ParvisError
from core.models import Agent
from moderation import legal
from services.accounts.permissions import Action
from services.archive import audit_trail
from services.archive.exports import AuditSelection

PAGE_SIZE = 100
EXPORT_KEY = "audit_export_events"
SYSTEM_ACTORS = ("system:worker", "system:cli")


def _selection(agents: list[Agent]) -> tuple[AuditSelection, int]:
    c1, c2, c3 = st.columns(3)
    period = c1.date_input("Période", value=[], key="audit_ev_period", format="DD/MM/YYYY")
    labels = {a.email: f"{a.name} ({a.email})" for a in agents}
    labels.update({s: f"Système ({s})" for s in SYSTEM_ACTORS})
    actors = c2.multiselect("Acteur", list(labels), format_func=labels.__getitem__, key="audit_ev_actors",
                            placeholder="Tous")
    events = c3.multiselect("Événement", audit_trail.event_names(), key="audit_ev_events", placeholder="Tous",
                            format_func=lambda e: AUDIT_EVENT_LABELS.get(e, e))
    c4, c5 = st.columns([3, 1])
    subject = c4.text_input("Objet (ex. x:1790012, archive:12, draft:5)", key="audit_ev_subject")
    page_no = c5.number_input("Page", min_value=1, value=1, step=1, key="audit_ev_page")
    since, until = period_bounds(period)
    return (AuditSelection(since=since, until=until, actors=tuple(actors), events=tuple(events),
                           subject=subject.strip() or None), int(page_no))


# Codes some fields hold, read in French where the value is one of them (any other value is shown as it is).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "action": MODERATION_ACTION_LABELS, "flags": RISK_LABELS, "reason": legal.DISMISS_REASONS_FR,
    "ground": {g.code.value: g.label_fr for g in legal.GROUNDS},
    "via": {"api": "réponse de la plateforme", "lookup": "vérification sur la plateforme", "person": "une personne",
            "api-after-takeover": "réponse de la plateforme (après reprise)"},
}


def readable(details: str, limit: int = 300) -> str:
    """An event's properties as « champ : valeur » in French (the raw JSON stays in the exports)."""
    try:
        props = json.loads(details)
    except (TypeError, ValueError):
        return details[:limit]
    if not isinstance(props, dict):
        return details[:limit]

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "oui" if v else "non"
        if isinstance(v, list | tuple):
            return ", ".join(value(x) for x in v) or "—"
        if isinstance(v, dict):
            return ", ".join(f"{k} : {value(x)}" for k, x in v.items()) or "—"
        return "—" if v is None or v == "" else str(v)

    def coded(key: str, v: Any) -> Any:
        codes = VALUE_LABELS.get(key)
        if codes is None:
            return v
        if isinstance(v, list):
            return [codes.get(x, x) if isinstance(x, str) else x for x in v]
        return codes.get(v, v) if isinstance(v, str) else v

    text = " · ".join(f"{AUDIT_FIELD_LABELS.get(k, k)} : {value(coded(k, v))}" for k, v in props.items())
    return text[:limit] + ("…" if len(text) > limit else "")


def _export(agent: Agent, selection: AuditSelection, allow_broken: bool) -> None:
    run_action(lambda db: (audit_trail.audit_download(db, selection, actor=agent, now=deps.now(),
                                                      allow_broken=allow_broken), selection),
               lambda v: f"Export préparé : {v[0].result.items} événement(s) (inscrit au journal d'audit).",
               store=EXPORT_KEY)


def events_tab(agent: Agent, agents: list[Agent], allow_broken: bool) -> None:
    """Filters, one page of events (newest first) with their fingerprints, and the export of the selection."""
    selection, page_no = _selection(agents)
    try:
        with deps.db() as db:
            rows, total = audit_trail.search_events(db, selection, actor=agent, limit=PAGE_SIZE,
                                                    offset=(page_no - 1) * PAGE_SIZE)
    except ParvisError as err:
        page.error(err)
        return
    st.caption(f"{total} événement(s) · page {page_no} · du plus récent au plus ancien")
    if rows:
        st.dataframe([{"N°": r["id"], "Date": format_paris(from_iso(r["at"]), "%d/%m/%Y %H:%M:%S"),
                       "Acteur": r["actor"], "Rôle": ROLE_LABELS.get(r["role"], r["role"]),
                       "Événement": AUDIT_EVENT_LABELS.get(r["event"], r["event"]),
                       "Objet": r["subject"], "Détails": readable(r["details"]), "Empreinte": r["hash"][:16] + "…"}
                      for r in rows], hide_index=True, width="stretch", key="audit_ev_table")
    else:
        st.info("Aucun événement ne correspond à ces filtres.")
    if allowed(agent, Action.AUDIT_EXPORT):
        st.button("Préparer l'export de la sélection (CSV, JSON, PDF)", key="export_audit", on_click=_export,
                  args=(agent, selection, allow_broken),
                  help="Toute la sélection, sans pagination ; l'export est audité.")
        stale_note(EXPORT_KEY, selection)
        download_block(EXPORT_KEY, "le journal")
