"""Règles: automation rules (issue #17) — if a new message meets the conditions, the rule acts (assign, tag,
priority, hide as spam or exposed personal data, close as duplicate of an incident). Each rule is tried on the last
30 days (« ce qu'elle aurait fait ») before it can be switched on. Directors and administrators; the services
check the role again (automation.manage)."""

import streamlit as st

from console.ui import page
from console.ui.rules import forms
from services.accounts import users
from services.accounts.permissions import Action, can
from services.moderation import automation

REFUSAL = "Accès refusé : les règles automatiques sont réservées à la direction et aux administrateurs."

ctx = page.preamble("Règles", needs=lambda a: can(a, Action.AUTOMATION_MANAGE), refusal=REFUSAL)
agent = ctx.agent
rules, everyone = page.load(lambda db: (automation.list_rules(db, viewer=agent), users.list_agents(db)))
team = [a for a in everyone if can(a, Action.INBOX_TRIAGE)]
names = {a.id: a.name for a in everyone}

st.caption("Une règle agit sur chaque nouveau message qui remplit ses conditions, juste après la relève, une fois "
           "par message. Chaque action est inscrite au journal d'audit au nom de la règle et de la personne qui l'a "
           "activée. Toute modification désactive la règle : essayez-la de nouveau avant de la réactiver.")
if not rules:
    st.info("Aucune règle pour l'instant.")
for rule in rules:
    forms.show_rule(agent, rule, team, names)
with st.expander("Nouvelle règle", expanded=not rules):
    forms.rule_form(agent, team, "rule_new")
