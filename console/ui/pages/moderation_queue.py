"""Modération: crisis banner, flagged messages above the threshold (highest priority first) with the reasons,
actions with their legal ground, director confirmations for elected officials, time to action against the target,
hidden messages and banned authors (unhide, lift a ban where the platform allows it), and the acts sent to a
platform whose outcome is still being recorded or is « à vérifier » (decision 0051).

Community managers and directors act; legal staff read (escalations reach them); administrators are refused.
The services check the roles again.
"""

from datetime import timedelta
from typing import Any

import streamlit as st
from sqlite_utils import Database

from console.ui import components, page
from console.ui.components import md_escape
from console.ui.moderation import filters
from console.ui.moderation import item as view
from moderation import legal
from services.accounts.permissions import Action, can
from services.moderation import actions as moderation_actions
from services.moderation import bans as moderation_bans
from services.moderation import queue as moderation_queue

REFUSAL = "Accès refusé : votre rôle ne permet pas de consulter la file de modération."
SHOWN = 25

ctx = page.preamble("Modération", needs=lambda a: can(a, Action.MODERATION_READ), refusal=REFUSAL)
agent, settings, now = ctx.agent, ctx.settings, ctx.now


def _read(db: Database) -> tuple[Any, ...]:
    """Everything the page shows, on one connection (a malformed setting is shown like any other error); first,
    the records of acts done on a platform whose write was delayed (database busy) are completed."""
    moderation_actions.finish_records(db, now=now)
    target = moderation_queue.action_target(settings)
    threshold = moderation_queue.threshold(settings)
    return (target, threshold, moderation_queue.municipal_services(settings),
            moderation_queue.crisis(db, now, settings),
            moderation_queue.queue_page(db, threshold, now, page_size=1, target=target),
            moderation_queue.hidden_items(db, now, target=target),
            moderation_bans.banned_authors(db, settings, viewer=agent),
            moderation_queue.pending_confirmations(db, viewer=agent),
            moderation_queue.open_acts(db, viewer=agent),
            moderation_queue.time_to_action_report(db, now - timedelta(days=30), target=target))


def _confirm(request_id: int) -> None:
    page.run(moderation_actions.confirm_request, view.said("Modération confirmée et effectuée."), settings=settings,
             request_id=request_id, actor=agent)


def _refuse(request_id: int) -> None:
    page.run(moderation_actions.refuse_request, "Demande refusée.", request_id=request_id, actor=agent)


target, threshold, services, crisis, everything, hidden, banned, pending, open_acts, report = page.load(_read)

if crisis.active:
    # An emoji: a Material icon's ligature is the English word « warning » in the page's text.
    st.error(md_escape(crisis.message_fr()), icon="⚠️")

target_min = target.total_seconds() / 60
c1, c2, c3 = st.columns(3)
c1.metric("À traiter", components.fr_number(everything.total))
c2.metric("Seuil de risque", components.fr_number(threshold, 2))
c3.metric("Décisions dans l'objectif (30 j)", f"{report.within_target} / {report.decided}",
          help=f"Messages illicites traités en moins de {target_min:.0f} min après le signalement "
               "(CEDH, Sanchez c. France, 2023).")
if report.median_minutes is not None:
    st.caption(f"Délai médian de décision sur les contenus illicites : {report.median_minutes:.0f} min "
               f"(objectif {target_min:.0f} min).")

if pending:
    st.subheader("Confirmations demandées (comptes d'élus)")
    st.caption(md_escape(legal.OPPOSITION_WARNING_FR))
    for pc in pending:
        req = pc.request
        with st.container(border=True):
            st.markdown(view.components.item_header(pc.item))
            st.text(pc.item.mention.text)
            st.caption(f"Demande n° {req.id} : {view.ACTION_FR.get(req.action, req.action)} — motif « "
                       f"{view.GROUND_LABELS.get(req.ground, req.ground)} »")
            if can(agent, Action.MODERATE_CONFIRM):
                a, b = st.columns(2)
                a.button("Confirmer", key=f"confirm_{req.id}", on_click=_confirm, args=(req.id,))
                b.button("Refuser", key=f"refuse_{req.id}", on_click=_refuse, args=(req.id,))

if open_acts:
    st.subheader("Actions envoyées aux plateformes, à suivre")
    st.caption("Envoyées, pas encore enregistrées ou vérifiées ; ou « à vérifier » : Parvis ne peut pas savoir si "
               "la plateforme les a faites.")
    for entry in open_acts[:SHOWN]:
        view.show_open_act(entry, agent)

st.subheader("File de modération")
st.caption(moderation_queue.RANKING_RULE_FR)
filt = filters.filter_widgets(everything.by_kind)
matching = page.load(lambda db: moderation_queue.queue_count(db, threshold, now, filt))
page_index = filters.page_number(max(1, -(-matching // SHOWN)), matching)
result = page.load(lambda db: moderation_queue.queue_page(db, threshold, now, filt, page=page_index,
                                                          page_size=SHOWN, target=target))
if can(agent, Action.MODERATE) and result.total:
    filters.bulk_bar(filt, result.total, agent, settings)
if not result.items:
    st.info("Aucun message au-dessus du seuil de risque." if not everything.total
            else "Aucun message ne correspond à ces filtres.")
for item in result.items:
    view.show_item(item, agent, settings, services, target_min)

if hidden:
    st.subheader("Messages masqués")
    for item in hidden[:SHOWN]:
        view.show_hidden(item, agent, settings)

if banned:
    st.subheader("Auteurs bannis")
    for entry in banned[:SHOWN]:
        view.show_banned(entry, agent, settings)
