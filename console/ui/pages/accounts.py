"""Comptes: the team's accounts. Administrators create accounts, change roles, deactivate, and hand out one-time
codes (invitation, password reset) shown once; the communication director sets signatures and the approval flag.
Each section shows only to the role the matrix (services/accounts/permissions.py) allows; the services check again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console.messages import ROLE_LABELS, message_for
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, page
from core.errors import ParvisError
from core.models import Agent, Role, SignatureStyle
from services.accounts import auth, codes, users
from services.accounts.permissions import Action, can

SIGNATURE_LABELS = {"first_name": "Prénom", "initials": "Initiales", "team": "Signature d'équipe"}
PURPOSE_LABELS = {"invite": "invitation en attente", "reset": "réinitialisation en attente"}
CODE_KEY = "accounts_code_shown"  # (agent name, code): shown once, then forgotten
ROLES = [Role.COMMUNITY_MANAGER, Role.DIRECTOR, Role.LEGAL, Role.ADMIN]

ctx = page.preamble("Comptes", needs=lambda a: can(a, Action.USERS_MANAGE) or can(a, Action.SIGNATURE_SET))
me = ctx.agent
admin = can(me, Action.USERS_MANAGE)

with deps.db() as db:
    team = users.list_agents(db, active_only=False)
    with_password = codes.agents_with_password(db)
    pending = codes.pending_codes(db, now=ctx.now)

shown = st.session_state.pop(CODE_KEY, None)
if shown:
    name, code = shown
    st.success(f"Code à transmettre à {name} : **{code}** — valable 72 heures, une seule fois. Il n'est affiché "
               "qu'ici et maintenant : l'agent choisit son mot de passe sur la page de connexion (« J'ai un code »).")


def _access(agent: Agent) -> str:
    if not agent.active:
        return "désactivé"
    if agent.id in pending:
        return PURPOSE_LABELS[pending[agent.id]]
    return "mot de passe défini" if agent.id in with_password else "sans mot de passe"


st.dataframe(pd.DataFrame([{"Nom": a.name, "Adresse e-mail": a.email, "Rôle": ROLE_LABELS.get(a.role, a.role),
                            "Signature": SIGNATURE_LABELS.get(a.signature_style, a.signature_style),
                            "Validation obligatoire": "oui" if a.needs_approval else "non",
                            "Accès": _access(a)} for a in team]),
             hide_index=True, width="stretch")


def _issue(agent_id: int, name: str, purpose: str) -> None:
    try:
        with deps.db() as db:
            code = codes.issue_code(db, me, agent_id, purpose=purpose, now=deps.now())
    except ParvisError as err:
        page.flash("error", message_for(err))
        return
    st.session_state[CODE_KEY] = (name, code)


if admin:
    with st.expander("Nouveau compte", expanded=not team):
        with st.form("accounts_new", clear_on_submit=True):
            name = st.text_input("Nom et prénom", key="accounts_new_name")
            email = st.text_input("Adresse e-mail", key="accounts_new_email")
            role = st.selectbox("Rôle", ROLES, format_func=lambda r: ROLE_LABELS.get(r, r), key="accounts_new_role",
                                placeholder=CHOOSE_ONE)
            created = st.form_submit_button("Créer le compte et son code d'invitation", type="primary")
        if created:
            try:
                with deps.db() as db:
                    agent = users.create_agent(db, me, email=email, name=name, role=Role(role), now=deps.now())
            except ParvisError as err:
                page.alert("error", message_for(err))
            else:
                _issue(agent.id, agent.name, "invite")
                st.rerun()

if team:
    st.subheader("Modifier un compte")
    ids = [a.id for a in team]
    by_id = {a.id: a for a in team}
    chosen = by_id[st.selectbox("Compte", ids, format_func=lambda i: f"{by_id[i].name} — {by_id[i].email}",
                                key="accounts_chosen", placeholder=CHOOSE_ONE)]
    if admin:
        c1, c2 = st.columns(2)
        with c1:
            new_role = st.selectbox("Rôle", ROLES, index=ROLES.index(chosen.role),
                                    format_func=lambda r: ROLE_LABELS.get(r, r), key=f"accounts_role_{chosen.id}",
                                    placeholder=CHOOSE_ONE)
            st.button("Changer le rôle", key=f"accounts_set_role_{chosen.id}", disabled=new_role == chosen.role,
                      on_click=page.callback(users.set_role, "Rôle changé.", actor=me, agent_id=chosen.id,
                                             role=Role(new_role)))
        with c2:
            st.button("Donner un code de réinitialisation du mot de passe", key=f"accounts_reset_{chosen.id}",
                      disabled=not chosen.active, on_click=_issue, args=(chosen.id, chosen.name, "reset"))
            if chosen.active:
                st.button("Désactiver le compte", key=f"accounts_off_{chosen.id}", disabled=chosen.id == me.id,
                          help="Ses sessions se ferment ; son historique reste.",
                          on_click=page.callback(users.update_profile, "Compte désactivé.", actor=me,
                                                 agent_id=chosen.id, active=False))
            else:
                st.button("Réactiver le compte", key=f"accounts_on_{chosen.id}",
                          on_click=page.callback(users.update_profile, "Compte réactivé.", actor=me,
                                                 agent_id=chosen.id, active=True))
    if can(me, Action.SIGNATURE_SET):
        with st.form(f"accounts_signature_{chosen.id}"):
            styles = list(SignatureStyle)
            style = st.selectbox("Signature des réponses", styles, index=styles.index(chosen.signature_style),
                                 format_func=lambda s: SIGNATURE_LABELS.get(s, s), key=f"accounts_style_{chosen.id}",
                                 placeholder=CHOOSE_ONE)
            team_signature = st.text_input("Signature d'équipe (si choisie)", value=chosen.team_signature,
                                           key=f"accounts_team_sig_{chosen.id}")
            approval = st.checkbox("Ses réponses passent toujours par la validation", value=chosen.needs_approval,
                                   key=f"accounts_approval_{chosen.id}")
            if st.form_submit_button("Enregistrer la signature"):
                page.run(users.update_profile, "Signature enregistrée.", actor=me, agent_id=chosen.id,
                         signature_style=style, team_signature=team_signature, needs_approval=approval)
                st.rerun()

with st.expander("Mon mot de passe"):
    with st.form("accounts_my_password", clear_on_submit=True):
        first = st.text_input("Nouveau mot de passe", type="password", key="accounts_pw_1")
        second = st.text_input("Confirmez le mot de passe", type="password", key="accounts_pw_2")
        if st.form_submit_button("Changer mon mot de passe"):
            if first != second:
                page.flash("error", "Les deux mots de passe diffèrent.")
            else:
                page.run(lambda db, now: auth.set_password(db, me, me.id, first, now=now),
                         "Mot de passe changé : reconnectez-vous.")
            st.rerun()
    st.caption(f"Au moins {auth.MIN_PASSWORD_LENGTH} caractères. Changer son mot de passe ferme ses sessions.")
