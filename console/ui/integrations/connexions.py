"""The Connexions page's integrations section (issue #19): one's own e-mail notices, the messages « à vérifier »,
the outgoing webhooks' delivery log and endpoints, the back office's service mapping. Every action is a service
call (services/integrations); administrators alone see the endpoints and the mapping."""

from __future__ import annotations

import streamlit as st

from console.messages.labels import (
    CHANNEL_LABELS,
    CHOOSE_MANY,
    CHOOSE_ONE,
    EMAIL_NOTICE_LABELS,
    OUTBOX_STATE_LABELS,
    WEBHOOK_EVENT_LABELS,
)
from console.ui import deps, page
from core.clock import format_paris
from core.models import Agent
from services import integrations
from services.accounts.permissions import Action, can
from services.integrations import hooks_out, notices, open311


def _toggle(agent: Agent, notice: str) -> None:
    enabled = bool(st.session_state.get(f"notice_{notice}"))
    page.run(notices.set_preference, "Préférence enregistrée.", agent=agent, which=notice, enabled=enabled)


def my_notices(agent: Agent) -> None:
    """« Mes notifications par e-mail »: one toggle per notice."""
    st.subheader("Mes notifications par e-mail")
    chosen = page.load(lambda db: notices.preferences(db, agent))
    for notice, label in EMAIL_NOTICE_LABELS.items():
        st.toggle(label, value=chosen.get(notice, False), key=f"notice_{notice}", on_change=_toggle,
                  args=(agent, notice))


def _settle(key: int, sent: bool, agent: Agent) -> None:
    page.run(integrations.settle, "Message vérifié.", settings=deps.settings(), agent=agent, key=key, sent=sent)


def to_verify(agent: Agent) -> None:
    """Messages whose sending is uncertain: a person says whether they arrived (never resent by Parvis)."""
    if not (can(agent, Action.MODERATE) or can(agent, Action.CONNECTORS_MANAGE)):
        return
    rows = page.load(lambda db: integrations.to_verify(db, agent))
    if not rows:
        return
    st.subheader("Messages sortants « à vérifier »")
    for row in rows:
        with st.container(border=True):
            st.text(f"{CHANNEL_LABELS.get(row.channel, row.channel)} · {row.topic} · {row.recipient} · "
                    f"{format_paris(row.created_at)}")
            st.text(row.error)
            c1, c2 = st.columns(2)
            c1.button("Arrivé", key=f"verify_yes_{row.id}", on_click=_settle, args=(row.id, True, agent))
            c2.button("Pas arrivé", key=f"verify_no_{row.id}", on_click=_settle, args=(row.id, False, agent))


def _add_endpoint(agent: Agent) -> None:
    url = st.session_state.get("webhook_url", "")
    events = st.session_state.get("webhook_events", [])
    result = page.run(hooks_out.add_endpoint, "Destination ajoutée.", agent=agent, url=url, events=events)
    if result is not None:
        st.session_state["webhook_new_secret"] = result[1]


def webhooks(agent: Agent) -> None:
    """The delivery log (everyone who reads the inbox) and, for administrators, the endpoints."""
    st.subheader("Webhooks sortants")
    log = page.load(lambda db: hooks_out.delivery_log(db, agent))
    if log:
        st.dataframe([{"Date": format_paris(r.created_at), "Événement": WEBHOOK_EVENT_LABELS.get(r.topic, r.topic),
                       "Destination": r.recipient.split(" ", 1)[-1], "État": OUTBOX_STATE_LABELS.get(r.state, r.state),
                       "Tentatives": r.attempts, "Dernière erreur": r.error} for r in log], hide_index=True)
    else:
        st.caption("Aucun événement envoyé.")
    if not can(agent, Action.CONNECTORS_MANAGE):
        return
    for ep in page.load(lambda db: hooks_out.endpoints(db, agent)):
        c1, c2 = st.columns([4, 1])
        c1.text(f"{ep.url} · " + ", ".join(WEBHOOK_EVENT_LABELS.get(e, e) for e in ep.events))
        c2.button("Désactiver" if ep.active else "Réactiver", key=f"webhook_toggle_{ep.id}",
                  on_click=page.callback(hooks_out.set_active, "Destination modifiée.", agent=agent,
                                         endpoint_id=ep.id, active=not ep.active))
    with st.expander("Ajouter une destination"):
        st.text_input("Adresse (https://…)", key="webhook_url")
        st.multiselect("Événements", list(WEBHOOK_EVENT_LABELS), format_func=WEBHOOK_EVENT_LABELS.__getitem__,
                       key="webhook_events", placeholder=CHOOSE_MANY)
        st.button("Ajouter", key="webhook_add", on_click=_add_endpoint, args=(agent,))
    secret = st.session_state.pop("webhook_new_secret", None)
    if secret:
        st.info("Secret de signature (affiché une seule fois, à copier dans l'outil destinataire) :")
        st.code(secret, language=None)


def _map(agent: Agent) -> None:
    page.run(open311.set_mapping, "Association enregistrée.", agent=agent,
             tag=st.session_state.get("open311_tag", ""), service_code=st.session_state.get("open311_code", ""))


def back_office(agent: Agent) -> None:
    """Administrators map Parvis tags to the back office's service codes."""
    settings = deps.settings()
    if not open311.configured(settings) or not can(agent, Action.CONNECTORS_MANAGE):
        return
    st.subheader("Back-office (Open311)")
    refresh = st.button("Recharger la liste des services", key="open311_refresh")
    services = page.load(lambda db: open311.services(db, settings, now=deps.now(), refresh=refresh))
    names = {str(s.get("service_code")): str(s.get("service_name", "")) for s in services}
    mapping = page.load(open311.mapping)
    if mapping:
        st.dataframe([{"Étiquette": tag, "Service": f"{code} — {names.get(code, '?')}"} for tag, code in
                      mapping.items()], hide_index=True)
    c1, c2, c3 = st.columns([2, 3, 1])
    c1.text_input("Étiquette", key="open311_tag")
    c2.selectbox("Service", ["", *names], format_func=lambda c: f"{c} — {names[c]}" if c else "— retirer —",
                 key="open311_code", placeholder=CHOOSE_ONE)
    c3.button("Associer", key="open311_map", on_click=_map, args=(agent,))


def section(agent: Agent | None) -> None:
    """The whole section (nothing without a signed-in agent)."""
    if agent is None:
        return
    st.divider()
    my_notices(agent)
    to_verify(agent)
    webhooks(agent)
    back_office(agent)
