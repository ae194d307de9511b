"""Audit page, legal actions: legal holds (set, lift) and residents' RGPD requests (access, erasure)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.messages import PLATFORM_LABELS
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, page
from console.ui.audit.common import allowed, run_action
from console.ui.components import md_escape
from core.clock import format_paris
from core.errors import ParvisError, ValidationError
from core.models import Agent
from services.accounts.permissions import Action
from services.archive import audit_trail, retention, rgpd

SCOPES = {"conversation": "Conversation entière", "author": "Auteur (tous ses messages)"}
TARGETS = {"mention": "Un message reçu (identifiant Parvis)", "key": "Plateforme et identifiant"}
CLASS_LABELS = {"scores": "scores (sentiment, risque, priorité)", "assignments": "assignations",
                "notes": "notes internes", "author_profiles": "profil de l'auteur (nom affiché, abonnés)",
                "audit_comments": "commentaires des agents au journal d'audit",
                "integration_messages": "textes des e-mails, demandes Open311 et webhooks qui citent ses messages",
                "integration_cancelled": "dont envois annulés avant leur départ"}
ACCESS_KEY = "audit_rgpd_access"
ERASURE_KEY = "audit_rgpd_erasure"
RECORD_KEPT_FR = (
    "Registre conservé au titre de l'article 17(3)(d) du RGPD : les messages que la personne a envoyés à la "
    "ville, les réponses publiées, les décisions de modération et les validations sont des archives publiques "
    "(Code du patrimoine, art. L.211-1 et L.211-4), conservées à des fins archivistiques dans l'intérêt public "
    "(et pour respecter une obligation légale, art. 17(3)(b)). Le journal d'audit, en ajout seul, garde ses "
    "événements ; les textes libres des agents sur ses messages (notes internes, commentaires) y sont effacés et "
    "remplacés par « effacé (RGPD) ».")
OUTCOMES_FR = {
    "answered": "Répondue (fichier remis)",
    "no data found": "Aucune donnée trouvée",
    "done": "Effectuée : données de travail effacées ; registre conservé (art. 17(3)(d))",
    "partly done": "Partielle : données sous gel juridique conservées ; registre conservé (art. 17(3)(d))",
}
HELD_KEPT_FR = ("Les données de travail sous gel juridique n'ont pas été effacées (art. 17(3)(e) : constatation, "
                "exercice ou défense de droits en justice) ; relancez la demande une fois le gel levé.")


def _set_hold(agent: Agent) -> None:
    s = st.session_state
    scope, reason = s.get("audit_hold_scope", "conversation"), s.get("audit_hold_reason", "")

    def action(db: Any) -> Any:
        if s.get("audit_hold_target", "mention") == "mention":
            uid = (s.get("audit_hold_uid") or "").strip()
            if not uid:
                raise ValidationError(reason="hold_mention_id_required")
            return retention.hold_mention(db, uid, scope=scope, reason=reason, actor=agent, now=deps.now())
        return retention.set_hold(db, scope=scope, platform=s.get("audit_hold_platform") or "",
                                  key=s.get("audit_hold_key") or "", reason=reason, actor=agent, now=deps.now())

    run_action(action,
               lambda h: f"Gel juridique n° {h.id} posé ({SCOPES[h.scope].lower()}) et enregistré au journal.")


def _lift_hold(agent: Agent, hold_id: int) -> None:
    reason = st.session_state.get(f"audit_lift_reason_{hold_id}", "")
    run_action(lambda db: retention.lift_hold(db, hold_id, reason=reason, actor=agent, now=deps.now()),
               f"Gel juridique n° {hold_id} levé et enregistré au journal.")


def holds_tab(agent: Agent) -> None:
    """Active (or all) legal holds, a form to set one, and a lift action per active hold."""
    show_all = st.checkbox("Afficher aussi les gels levés", key="audit_holds_all")
    with deps.db() as db:
        holds = retention.holds(db, active_only=not show_all)
    if holds:
        st.dataframe([{"N°": h.id, "Portée": SCOPES.get(h.scope, h.scope),
                       "Plateforme": PLATFORM_LABELS.get(h.platform, h.platform), "Identifiant": h.key,
                       "Motif": h.reason, "Posé par": h.set_by, "Le": format_paris(h.set_at),
                       "Levé le": format_paris(h.lifted_at), "Motif de levée": h.lift_reason or ""} for h in holds],
                     hide_index=True, width="stretch", key="audit_holds_table")
    else:
        st.info("Aucun gel juridique en cours.")
    if not allowed(agent, Action.LEGAL_HOLD):
        return
    st.markdown("**Poser un gel juridique** : exclu des purges de conservation et des effacements jusqu'à sa levée.")
    target = st.radio("Désigner", list(TARGETS), format_func=TARGETS.get, key="audit_hold_target", horizontal=True)
    if target == "mention":
        st.text_input("Identifiant Parvis du message reçu (ex. x:1790012)", key="audit_hold_uid")
    else:
        c1, c2 = st.columns(2)
        c1.selectbox("Plateforme", list(PLATFORM_LABELS), format_func=PLATFORM_LABELS.__getitem__,
                     key="audit_hold_platform", placeholder=CHOOSE_ONE)
        c2.text_input("Identifiant de la conversation ou de l'auteur", key="audit_hold_key")
    st.radio("Portée", list(SCOPES), format_func=SCOPES.get, key="audit_hold_scope", horizontal=True)
    st.text_input("Motif (ex. référence de l'affaire)", key="audit_hold_reason")
    st.button("Poser le gel juridique", key="hold_set", on_click=_set_hold, args=(agent,), type="primary")
    active = [h for h in holds if h.active]
    if active:
        st.markdown("**Lever un gel juridique**")
    for h in active:
        with st.expander(f"Gel n° {h.id} — {SCOPES.get(h.scope, h.scope)} {h.platform}:{h.key}"):
            st.text(f"Motif : {h.reason}")
            st.text_input("Motif de la levée", key=f"audit_lift_reason_{h.id}")
            st.button("Lever ce gel", key=f"lift_{h.id}", on_click=_lift_hold, args=(agent, h.id))


def _access(agent: Agent) -> None:
    query, platform = st.session_state.get("audit_rgpd_query", ""), st.session_state.get("audit_rgpd_platform")
    run_action(lambda db: audit_trail.access_download(db, query, actor=agent, now=deps.now(),
                                                      platform=platform or None),
               lambda v: f"Demande d'accès n° {v[0].request_id} enregistrée.", store=ACCESS_KEY)


def _erase(agent: Agent) -> None:
    query, platform = st.session_state.get("audit_rgpd_query", ""), st.session_state.get("audit_rgpd_platform")
    st.session_state["audit_rgpd_confirm"] = False
    run_action(lambda db: rgpd.erasure_request(db, query, actor=agent, now=deps.now(), platform=platform or None),
               lambda r: f"Demande d'effacement n° {r.request_id} enregistrée.", store=ERASURE_KEY)


def _erasure_outcome(r: rgpd.ErasureResult) -> None:
    if not r.authors:
        st.warning("Aucune donnée trouvée pour ce pseudonyme ou cet identifiant. La demande et sa réponse sont "
                   "enregistrées au journal.")
        return
    who = ", ".join(f"{p}:{a} (@{h})" for p, a, h in r.authors)
    erased = " ; ".join(f"{CLASS_LABELS.get(c, c)} : {n}" for c, n in r.erased.items())
    if r.held:
        st.warning(f"Effacement partiel pour {md_escape(who)} : données de travail effacées ({md_escape(erased)}), "
                   f"sauf {r.held} élément(s) sous gel juridique.")
    else:
        st.success(f"Effacement effectué pour {md_escape(who)} : données de travail effacées ({md_escape(erased)}).")
    st.info(RECORD_KEPT_FR + (" " + HELD_KEPT_FR if r.held else ""))


def _outcome_fr(outcome: str | None) -> str:
    text = outcome or "en cours"
    return next((fr for en, fr in OUTCOMES_FR.items() if text.startswith(en)), text)


def rgpd_tab(agent: Agent) -> None:
    """Access export and erasure by handle or platform id, their outcomes, and past requests."""
    if not allowed(agent, Action.RGPD_ANSWER):
        return
    st.caption("Vérifiez l'identité du demandeur avant toute demande : Parvis ne peut pas le faire.")
    c1, c2 = st.columns([3, 1])
    c1.text_input("Pseudonyme (@camille) ou identifiant (x:12345)", key="audit_rgpd_query")
    c2.selectbox("Plateforme", ["", *PLATFORM_LABELS], format_func=lambda p: PLATFORM_LABELS.get(p, "Toutes"),
                 key="audit_rgpd_platform", placeholder=CHOOSE_ONE)
    c3, c4 = st.columns(2)
    c3.button("Droit d'accès (art. 15) : exporter ses données", key="rgpd_access", on_click=_access, args=(agent,))
    confirm = c4.checkbox("Identité vérifiée : effacer ses données de travail", key="audit_rgpd_confirm")
    c4.button("Droit à l'effacement (art. 17)", key="rgpd_erase", on_click=_erase, args=(agent,),
              disabled=not confirm)
    access = st.session_state.get(ACCESS_KEY)
    if access:
        result, data = access
        if result.authors:
            st.success(f"Demande d'accès n° {result.request_id} : {result.items} message(s) reçu(s) et les données "
                       "de travail associées.")
        else:
            st.warning(f"Demande d'accès n° {result.request_id} : aucune donnée trouvée (demande enregistrée).")
        st.download_button("Télécharger la réponse (JSON)", data, file_name=f"rgpd-acces-{result.request_id}.json",
                           mime="application/json", key="audit_dl_rgpd")
        st.caption(f"Empreinte SHA-256 du fichier : {result.sha256}")
    erasure = st.session_state.get(ERASURE_KEY)
    if erasure:
        _erasure_outcome(erasure)
    try:
        with deps.db() as db:
            past = rgpd.requests(db, limit=50)
    except ParvisError as err:
        page.error(err)
        return
    if past:
        st.markdown("**Demandes enregistrées**")
        kinds = {"access": "Accès (art. 15)", "erasure": "Effacement (art. 17)"}
        st.dataframe([{"N°": r["id"], "Type": kinds.get(r["kind"], r["kind"]), "Demande": r["query"],
                       "Par": r["requested_by"], "Le": format_paris(r["requested_at"]),
                       "Résultat": _outcome_fr(r["outcome"])}
                      for r in past], hide_index=True, width="stretch", key="audit_rgpd_table")
