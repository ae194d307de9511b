"""Approbations: the communication director decides on submitted replies and manages the saved replies.

Only directors may approve or request changes (services.accounts.permissions); everyone else gets a clear refusal.
The four-eyes rule (the approver is never the author) is enforced by services.inbox.replies, whose refusal is shown.
"""

import streamlit as st

from console.ui.approvals import review as approvals_view
from console.ui import deps
from console.ui.components import md_escape
from console.messages import message_for
from core.errors import ParvisError, PermissionDenied
from services.publishing import approvals
from services.editorial import charter as charters

REFUSAL = ("Page réservée à la direction de la communication : votre rôle ne permet pas de valider les réponses "
           "ni de gérer les modèles de réponse.")

st.title("Approbations")

try:
    with deps.db() as db:
        agent = deps.current_agent(db)
        if agent is None:
            st.warning("Choisissez votre nom d'agent dans la barre latérale.")
            st.stop()
        waiting = approvals.queue(db, agent)
        threshold = charters.current(db).charter.risk_threshold
except PermissionDenied as err:
    st.error(REFUSAL)
    st.caption(md_escape(message_for(err)))
    st.stop()
except ParvisError as err:
    st.error(md_escape(message_for(err)))
    st.stop()

approvals_view.show_flash()
tab_queue, tab_saved = st.tabs([f"À valider ({len(waiting)})", "Modèles de réponse"])
with tab_queue:
    if not waiting:
        st.info("Aucune réponse en attente de validation.")
    for entry in waiting:
        approvals_view.approval_card(agent, entry, risk_threshold=threshold)
with tab_saved:
    approvals_view.saved_replies_tab(agent)
