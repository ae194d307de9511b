"""Modération: crisis banner, flagged messages above the threshold (highest priority first) with the reasons,
actions with their legal ground, director confirmations for elected officials, time to action against the target,
hidden messages and banned authors (unhide, lift a ban where the platform allows it), and the acts sent to a
platform whose outcome is still being recorded or is « à vérifier » (decision 0051).

Community managers and directors act; legal staff read (escalations reach them); administrators are refused.
The services check the roles again.
"""

from datetime import timedelta

import streamlit as st

from console import deps
from console import moderation_view as view
from console.components import md_escape
from console.messages import message_for
from core.errors import ParvisError
from core.models import Role
from moderation import legal
from services import moderation_actions, moderation_bans, moderation_queue
from services.permissions import Action, can

REFUSAL = "Accès refusé : votre rôle ne permet pas de consulter la file de modération."
SHOWN = 25

st.title("Modération")
view.show_flash()
try:
    settings = deps.settings()
    now = deps.now()
    with deps.db() as db:
        agent = deps.current_agent(db)
        if agent is None:
            st.warning("Choisissez votre nom d'agent dans la barre latérale.")
            st.stop()
        if not (can(agent, Action.MODERATE) or agent.role is Role.LEGAL):
            st.error(REFUSAL)
            st.stop()
        moderation_actions.finish_records(db, now=now)  # acts done on a platform whose record was delayed
        target = moderation_queue.action_target(settings)
        threshold = moderation_queue.threshold(settings)
        services = moderation_queue.municipal_services(settings)
        crisis = moderation_queue.crisis(db, now, settings)
        items = moderation_queue.queue(db, threshold, now, target=target)
        hidden = moderation_queue.hidden_items(db, now, target=target)
        banned = moderation_bans.banned_authors(db, settings, viewer=agent)
        pending = moderation_queue.pending_confirmations(db, viewer=agent)
        open_acts = moderation_queue.open_acts(db, viewer=agent)
        report = moderation_queue.time_to_action_report(db, now - timedelta(days=30), target=target)
except ParvisError as err:
    st.error(md_escape(message_for(err)))
    st.stop()

if crisis.active:
    st.error(md_escape(crisis.message_fr()), icon=":material/warning:")

target_min = target.total_seconds() / 60
c1, c2, c3 = st.columns(3)
c1.metric("À traiter", len(items))
c2.metric("Seuil de risque", f"{threshold:.2f}")
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
                a.button("Confirmer", key=f"confirm_{req.id}", on_click=lambda r=req.id: view.run(
                    moderation_actions.confirm_request, view.said("Modération confirmée et effectuée."),
                    settings=settings, request_id=r, actor=agent))
                b.button("Refuser", key=f"refuse_{req.id}", on_click=lambda r=req.id: view.run(
                    moderation_actions.refuse_request, "Demande refusée.", request_id=r, actor=agent))

if open_acts:
    st.subheader("Actions envoyées aux plateformes, à suivre")
    st.caption("Envoyées, pas encore enregistrées ou vérifiées ; ou « à vérifier » : Parvis ne peut pas savoir si "
               "la plateforme les a faites.")
    for entry in open_acts[:SHOWN]:
        view.show_open_act(entry, agent)

st.subheader("File de modération")
if not items:
    st.info("Aucun message au-dessus du seuil de risque.")
for item in items[:SHOWN]:
    view.show_item(item, agent, settings, services, target_min)
if len(items) > SHOWN:
    st.caption(f"… et {len(items) - SHOWN} autre(s) message(s), à traiter ensuite.")

if hidden:
    st.subheader("Messages masqués")
    for item in hidden[:SHOWN]:
        view.show_hidden(item, agent, settings)

if banned:
    st.subheader("Auteurs bannis")
    for entry in banned[:SHOWN]:
        view.show_banned(entry, agent, settings)
