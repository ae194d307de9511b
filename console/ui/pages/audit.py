"""Audit: integrity of the record, the legal archive, the audit log, legal holds and RGPD requests.

For legal staff, directors and admins (the services check it too); community managers get a clear refusal.
"""

import streamlit as st

from console.ui.audit import archive as audit_archive
from console.ui.audit import events as audit_events
from console.ui.audit import legal as audit_legal
from console.ui.audit import common as audit_view
from console.ui import deps
from console.ui.components import md_escape
from console.messages import message_for
from core import repo
from core.errors import ParvisError, PermissionDenied
from services.archive.published import require_audit_reader

st.title("Audit et archives")

try:
    with deps.db() as db:
        agent = deps.current_agent(db)
        agents = repo.list_agents(db)
except ParvisError as err:
    st.error(md_escape(message_for(err)))
    st.stop()
if agent is None:
    st.warning("Choisissez votre nom d'agent dans la barre latérale.")
    st.stop()
try:
    require_audit_reader(agent)
except PermissionDenied:
    st.error(audit_view.REFUSAL)
    st.stop()

audit_view.show_flash()
try:
    integrity = audit_view.integrity_panel(agent)
except ParvisError as err:
    st.error(md_escape(message_for(err)))
    st.stop()
allow_broken = False
if not integrity.ok:
    allow_broken = st.checkbox("Exporter malgré tout (le manifeste indiquera « verified: false »)",
                               key="audit_allow_broken")

tab_archive, tab_events, tab_holds, tab_rgpd = st.tabs(
    ["Archive des publications", "Journal d'audit", "Gels juridiques", "Demandes RGPD"])
with tab_archive:
    audit_archive.archive_tab(agent, agents, allow_broken)
with tab_events:
    audit_events.events_tab(agent, agents, allow_broken)
with tab_holds:
    audit_legal.holds_tab(agent)
with tab_rgpd:
    audit_legal.rgpd_tab(agent)
