"""Which pages each role sees (role-conditional navigation; the services enforce the rules anyway)."""

from __future__ import annotations

import streamlit as st

from console.web.routes import INBOX_PATH
from core.models import Agent
from services.accounts.permissions import Action, can


def pages_for(agent: Agent | None) -> list[st.Page]:
    """The pages shown to ``agent`` (the inbox for everyone)."""
    pages = [
        st.Page("console/ui/pages/inbox.py", title="Boîte de réception", icon=":material/inbox:", default=True,
                url_path=INBOX_PATH),  # served at the root; the server redirects this path there
        st.Page("console/ui/pages/connections.py", title="Connexions", icon=":material/hub:", url_path="connexions"),
    ]
    if agent is not None and can(agent, Action.REPLY_APPROVE):  # issue 5: directors' approvals
        pages.append(st.Page("console/ui/pages/approvals.py", title="Approbations", icon=":material/approval:",
                             url_path="approbations"))
    if agent is not None and can(agent, Action.CHARTER_READ):  # issue 5: editorial charter (edit: directors)
        pages.append(st.Page("console/ui/pages/charter.py", title="Charte éditoriale", icon=":material/menu_book:",
                             url_path="charte"))
    if agent is not None and can(agent, Action.POST_CREATE):  # issue 6: publishing calendar (CMs, directors)
        pages.append(st.Page("console/ui/pages/calendar.py", title="Calendrier", icon=":material/calendar_month:",
                             url_path="calendrier"))
    if agent is not None and can(agent, Action.INBOX_READ):  # issue 9: dashboard (aggregates the inbox)
        pages.append(st.Page("console/ui/pages/dashboard.py", title="Tableau de bord", icon=":material/monitoring:",
                             url_path="tableau-de-bord"))
    if agent is not None and can(agent, Action.MODERATION_READ):  # issue 4: moderation
        pages.append(st.Page("console/ui/pages/moderation_queue.py", title="Modération", icon=":material/shield:",
                             url_path="moderation"))
    if agent is not None and can(agent, Action.AUTOMATION_MANAGE):  # issue 17: automation rules
        pages.append(st.Page("console/ui/pages/rules.py", title="Règles", icon=":material/rule:",
                             url_path="regles"))
    if agent is not None and can(agent, Action.AUDIT_READ):  # issue 7: legal archive and audit trail
        pages.append(st.Page("console/ui/pages/audit.py", title="Audit et archives", icon=":material/gavel:",
                             url_path="audit"))
    if agent is not None and (can(agent, Action.USERS_MANAGE) or can(agent, Action.SIGNATURE_SET)):  # issue 17
        pages.append(st.Page("console/ui/pages/accounts.py", title="Comptes", icon=":material/group:",
                             url_path="comptes"))
    return pages
