"""Charte éditoriale: the charter in force and its versions; directors edit it, everyone can test a draft.

Reading (and exporting) the charter is open to every role; editing and importing are for the communication
director (the services refuse anyone else).
"""

import streamlit as st

from console.ui.charter import editor as charter_editor
from console.ui.charter import rules as charter_view
from console.ui import deps
from console.ui.components import md_escape
from console.messages import message_for
from core.clock import format_paris
from core.errors import ParvisError
from services.editorial import charter as charters
from services.accounts.permissions import Action, can

st.title("Charte éditoriale")

try:
    with deps.db() as db:
        agent = deps.current_agent(db)
        if agent is None:
            st.warning("Choisissez votre nom d'agent dans la barre latérale.")
            st.stop()
        versions = charters.history(db, agent, limit=1)
        compiled = charters.current(db)
        volume = charters.reserve_volume(db, now=deps.now())
except ParvisError as err:
    st.error(md_escape(message_for(err)))
    st.stop()

charter = compiled.charter
can_edit = can(agent, Action.CHARTER_EDIT)
charter_editor.show_flash()
latest = versions[0]
if charter.version == 0:
    st.caption(f"Version en vigueur : 0 (charte par défaut intégrée) — {md_escape(charter.name)}")
else:
    st.caption(f"Version en vigueur : {charter.version} — {md_escape(charter.name)} — enregistrée le "
               f"{format_paris(latest['created_at'])} par {md_escape(latest['created_by'])}")
reserve = compiled.reserve_at(deps.now())
if reserve.label:
    st.warning(reserve.label)
if volume is not None and volume.warn:
    st.warning(md_escape(volume.message))
if not can_edit:
    st.info("Lecture seule : seule la direction de la communication peut modifier la charte. Vous pouvez la "
            "consulter, l'exporter et y tester un brouillon.")

labels = ["Tester un brouillon", "Règles en vigueur", *(["Modifier"] if can_edit else []), "Historique des versions",
          "Export / import YAML"]
tabs = dict(zip(labels, st.tabs(labels), strict=True))
with tabs["Tester un brouillon"]:
    charter_view.tester(agent)
with tabs["Règles en vigueur"]:
    charter_view.rules_in_force(charter)
if can_edit:
    with tabs["Modifier"]:
        charter_editor.editor(agent, charter)
with tabs["Historique des versions"]:
    charter_view.history(agent)
with tabs["Export / import YAML"]:
    charter_view.yaml_tab(agent, can_edit)
