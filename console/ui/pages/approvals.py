"""Approbations: the communication director decides on submitted replies and manages the saved replies.

Only directors may approve or request changes (services.accounts.permissions); everyone else gets a clear refusal.
The four-eyes rule (the approver is never the author) is enforced by services.inbox.replies, whose refusal is shown.
"""

import streamlit as st

from console.ui import components, page
from console.ui.approvals import review as approvals_view
from services.editorial import charter as charters
from services.publishing import approvals

REFUSAL = ("Page réservée à la direction de la communication : votre rôle ne permet pas de valider les réponses "
           "ni de gérer les modèles de réponse.")

ctx = page.preamble("Approbations")  # the role is checked by the service (approvals.queue), refusal below
agent = ctx.agent
waiting, threshold = page.load(lambda db: (approvals.queue(db, agent), charters.current(db).charter.risk_threshold),
                               refusal=REFUSAL)

tab_queue, tab_saved = components.kept_tabs([f"À valider ({len(waiting)})", "Modèles de réponse"], "approvals_tab")
with tab_queue:
    if not waiting:
        st.info("Aucune réponse en attente de validation.")
    for entry in waiting:
        approvals_view.approval_card(agent, entry, risk_threshold=threshold)
with tab_saved:
    approvals_view.saved_replies_tab(agent)
