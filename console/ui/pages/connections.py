"""Connexions: each connector's state (configured, last sync, counts, last error), the worker, "sync now"."""

from datetime import datetime

import streamlit as st
from sqlite_utils import Database

from console.messages import READING_LABELS
from console.messages.labels import (
    REALTIME_CHANNEL_LABELS,
    REALTIME_FALLBACK,
    REALTIME_STATE_LABELS,
    RECONNECT_HELP,
    RECONNECT_HELP_DEFAULT,
    RECONNECT_TITLE,
    RETRY_LABEL,
    TOKEN_INVALID,
    UNAVAILABLE_LABELS,
    token_expiry_text,
)
from console.ui import deps, page
from console.ui.integrations import connexions as integrations_view
from core.clock import format_paris
from core.errors import SessionExpired
from core.settings_schema import MediaSettings
from services.connections import status as connections
from services.connections import streaming, x_budget

STATUS = {"ok": "✅ OK", "error": "⚠️ Erreur", "reconnect_needed": "🔑 Reconnexion nécessaire",
          "rate_limited": "⏳ Limite d'appels atteinte", "never": "— jamais synchronisé"}


def _sync_now(name: str) -> None:
    def call(db: Database, now: datetime) -> None:
        agent = deps.current_agent(db)
        if agent is None:
            raise SessionExpired(reason="session_unknown")
        connections.request_sync(db, deps.settings(), name, actor=agent, now=now)
    page.run(call, f"Synchronisation de « {name} » demandée au service de synchronisation.")


# The counters of the last synchronisation (services/connections/ingest.py), in French (issue #17).
SYNC_COUNT_LABELS = {"fetched": "reçus", "inserted": "nouveaux", "updated": "mis à jour", "revised": "modifiés",
                     "skipped": "ignorés", "deleted": "supprimés", "hidden": "masqués", "errors": "erreurs"}
def _retry(name: str) -> None:
    def call(db: Database, now: datetime) -> None:
        agent = deps.current_agent(db)
        if agent is None:
            raise SessionExpired(reason="session_unknown")
        connections.retry_connector(db, deps.settings(), name, actor=agent, now=now)
    page.run(call, f"« {name} » : nouvel essai demandé au worker.")


ctx = page.preamble("Connexions", agent="optional")  # the state is shown to all; "sync now" needs an agent
ov = page.load(lambda db: connections.overview(db, ctx.settings, now=ctx.now))
live = page.load(streaming.channel_states)

if ov.worker_alive:
    st.success("Service de synchronisation et de publication en marche — dernier signe de vie "
               f"{connections.format_age(ov.worker_beat_age_s)}.")
else:
    st.warning("Le service de synchronisation et de publication ne tourne pas (dernier signe de vie : "
               f"{connections.format_age(ov.worker_beat_age_s)}). Sans lui, ni synchronisation ni publication "
               "programmée : prévenez l'administrateur du serveur (la console démarrée par « parvis up » le lance "
               "avec elle).")

# Issue #20: X bills every direct-message call; the city's X budget does not cover them.
X_DIRECT_MESSAGES = ("Messages privés X : non activés. X facture chaque appel aux messages privés et le budget X "
                     "de la ville ne les prévoit pas ; invitez les habitants à écrire sur un autre canal "
                     "(Messenger, Instagram, Mastodon, Bluesky).")

for cs in ov.connectors:
    e, h = cs.entry, cs.health
    with st.container(border=True):
        c1, c2 = st.columns([3, 1])
        c1.subheader(e.label)
        if e.name == "x":
            c1.caption(X_DIRECT_MESSAGES)
        if not e.configured:
            c1.info("Non configuré. Variables à définir : " + ", ".join(f"`{k}`" for k in e.missing))
            continue
        if not e.enabled:
            c1.caption("Désactivé.")
            continue
        for what in e.unavailable:  # declared by the API path in use: an empty list here is not "nothing to read"
            c1.caption("Non disponible : " + UNAVAILABLE_LABELS.get(what, what))
        c1.markdown(f"**État :** {STATUS.get(h.status, h.status)} · **Dernière synchro :** "
                    f"{connections.format_age(cs.last_sync_age_s)}"
                    + (f" ({format_paris(h.last_sync_at)})" if h.last_sync_at else ""))
        if cs.reconnect_needed:
            c1.error(RECONNECT_TITLE + " " + RECONNECT_HELP.get(str(e.platform), RECONNECT_HELP_DEFAULT))
            c2.button(RETRY_LABEL, key=f"retry_{e.name}", on_click=_retry, args=(e.name,))
        if cs.token is not None and (checked := cs.token.checked_at) is not None:
            t = cs.token
            expiry = f"le {format_paris(t.expires_at)}" if t.expires_at else "jamais"
            c1.caption(f"Jeton : expire {expiry} · vérifié "
                       f"{connections.format_age((ctx.now - checked).total_seconds())}"
                       + (f" · renouvelé le {format_paris(t.refreshed_at)}" if t.refreshed_at else "")
                       + (f" · droits : {', '.join(t.scopes)}" if t.scopes else ""))
            warning = cs.expiry_warning(ctx.now)
            if t.is_valid is False and not cs.reconnect_needed:
                c1.warning(TOKEN_INVALID)
            elif warning is not None and not cs.reconnect_needed:
                c1.warning(token_expiry_text(warning))
        if cs.counts:
            c1.caption(" · ".join(f"{SYNC_COUNT_LABELS.get(k, k)} : {v}" for k, v in cs.counts.items())
                       + f" · total reçu : {h.fetched_total}")
            c1.caption("Dernière synchro : " + " · ".join(f"{READING_LABELS[k]} : {v}" for k, v in cs.reading.items()))
        if cs.rejected_total:
            box = c1.expander(f"Messages refusés à la lecture ({cs.rejected_total}) : à consulter sur la plateforme")
            for r in cs.rejected:
                box.text(f"{r.item_id} · vu {r.seen} fois, dernière fois {format_paris(r.last_seen)} · "
                         f"{r.reason}" + (f" · {r.permalink}" if r.permalink else ""))
        if h.rate_limited_until:
            c1.caption(f"Appels suspendus jusqu'à {format_paris(h.rate_limited_until)}")
        if h.last_error and not cs.reconnect_needed:
            said = "Remarque de la dernière synchro" if h.status == "ok" else "Refus ou erreur de la plateforme"
            c1.text(f"{said} : {h.last_error}")
        if e.optional_missing == MediaSettings.keys("base_url"):
            c1.caption("Publication impossible : Instagram lit les images à une adresse publique ; définir "
                       f"{e.optional_missing[0]} (adresse où le dossier media/ des données est servi)")
        elif e.optional_missing:
            c1.caption("Lecture seule : pour répondre et publier, définir " + ", ".join(e.optional_missing))
        if e.name == "x":
            with deps.db() as db:
                c1.caption(x_budget.budget_status(db, deps.settings(), now=deps.now()).label)
        if cs.reconnect_needed:
            if h.last_error:
                c1.text(f"Refus de la plateforme : {h.last_error}")
        else:
            c2.button("Synchroniser maintenant", key=f"sync_{e.name}", on_click=_sync_now, args=(e.name,))

if live:
    st.subheader("Temps réel")
    for ch in live:
        with st.container(border=True):
            name = ch.name.partition(":")[2] or ch.name
            label = REALTIME_CHANNEL_LABELS.get(ch.kind, ch.kind)
            state = REALTIME_STATE_LABELS.get(ch.state, ch.state)
            age = connections.format_age((ctx.now - ch.last_event_at).total_seconds() if ch.last_event_at else None)
            st.markdown(f"**{label}** ({name}) : {state} depuis le {format_paris(ch.since)} · "
                        f"dernier événement {age} · {ch.events} reçu(s)")
            if ch.state == "reconnecting":
                st.caption(REALTIME_FALLBACK)
                if ch.detail:
                    st.text(f"Dernière erreur : {ch.detail}")

integrations_view.section(ctx.agent)  # e-mail notices, messages to verify, webhooks, back office
