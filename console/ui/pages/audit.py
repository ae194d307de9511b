"""Audit: integrity of the record, the legal archive, the audit log, legal holds and RGPD requests.

For whoever may read the audit trail (legal staff, directors, admins); exports, legal holds and RGPD requests
are legal staff's only (the role matrix, services/accounts/permissions.py; the services check it too).
"""

import streamlit as st

from console.ui import components, page
from console.ui.audit import archive as audit_archive
from console.ui.audit import common as audit_view
from console.ui.audit import events as audit_events
from console.ui.audit import legal as audit_legal
from core.errors import ParvisError
from services.accounts import users
from services.accounts.permissions import Action, can

ctx = page.preamble("Audit et archives", needs=lambda a: can(a, Action.AUDIT_READ), refusal=audit_view.REFUSAL)
agent = ctx.agent
agents = page.load(users.list_agents)
try:
    integrity = audit_view.integrity_panel(agent)
except ParvisError as err:
    page.error(err)
    st.stop()
allow_broken = False
if not integrity.ok:
    allow_broken = st.checkbox("Exporter malgré tout (le manifeste indiquera « verified: false »)",
                               key="audit_allow_broken")

tab_archive, tab_events, tab_holds, tab_rgpd = components.kept_tabs(
    ["Archive des publications", "Journal d'audit", "Gels juridiques", "Demandes RGPD"], "audit_tab")
with tab_archive:
    audit_archive.archive_tab(agent, agents, allow_broken)
with tab_events:
    audit_events.events_tab(agent, agents, allow_broken)
with tab_holds:
    audit_legal.holds_tab(agent)
with tab_rgpd:
    audit_legal.rgpd_tab(agent)
