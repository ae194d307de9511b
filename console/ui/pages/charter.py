"""Charte éditoriale: the charter in force and its versions; directors edit it, everyone can test a draft.

Reading (and exporting) the charter is open to every role; editing and importing are for the communication
director (the services refuse anyone else).
"""

import streamlit as st

from console.ui import components, page
from console.ui.charter import editor as charter_editor
from console.ui.charter import rules as charter_view
from console.ui.components import md_escape
from core.clock import format_paris
from services.accounts.permissions import Action, can
from services.editorial import charter as charters

ctx = page.preamble("Charte éditoriale")
agent, now = ctx.agent, ctx.now
versions, compiled, volume = page.load(lambda db: (charters.history(db, agent, limit=1), charters.current(db),
                                                   charters.reserve_volume(db, now=now)))
charter = compiled.charter
can_edit = can(agent, Action.CHARTER_EDIT)
latest = versions[0]
if charter.version == 0:
    st.caption(f"Version en vigueur : 0 (charte par défaut intégrée) — {md_escape(charter.name)}")
else:
    st.caption(f"Version en vigueur : {charter.version} — {md_escape(charter.name)} — enregistrée le "
               f"{format_paris(latest['created_at'])} par {md_escape(latest['created_by'])}")
reserve = compiled.reserve_at(now)
if reserve.label:
    st.warning(reserve.label)
if volume is not None and volume.warn:
    st.warning(md_escape(volume.message))
if not can_edit:
    st.info("Lecture seule : seule la direction de la communication peut modifier la charte. Vous pouvez la "
            "consulter, l'exporter et y tester un brouillon.")

labels = ["Tester un brouillon", "Règles en vigueur", *(["Modifier"] if can_edit else []), "Historique des versions",
          "Export / import YAML"]
tabs = dict(zip(labels, components.kept_tabs(labels, "charter_tab"), strict=True))
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
