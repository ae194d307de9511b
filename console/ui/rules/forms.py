"""The « Règles » page pieces: the rule form (conditions → actions), one rule with its dry run (« ce qu'elle
aurait fait » over the last 30 days) and its switch. The services do the work (services/moderation/automation.py)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.messages import PLATFORM_LABELS, RISK_LABELS, SENTIMENT_LABELS
from console.messages.labels import CHOOSE_ONE
from console.ui import components, page
from core.clock import format_paris
from core.models import Agent
from services.moderation import automation

MARK_LABELS = {"elected": "Élu(e)", "opposition": "Élu(e) d'opposition", "marked": "Élus (toutes marques)",
               "unmarked": "Auteurs non marqués"}
HIDE_LABELS = {"": "Ne pas masquer", "spam": "Masquer comme spam",
               "personal_data": "Masquer : donnée personnelle exposée (RGPD)"}
DRY_KEY = "rules_dry_run"


def _lines(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", "\n").splitlines() if part.strip()]


def rule_form(agent: Agent, team: list[Agent], prefix: str, rule: automation.Rule | None = None) -> None:
    """The fields of a rule (empty for a new one); saving switches the rule off until it is tried again."""
    c, a = (rule.conditions, rule.actions) if rule else ({}, {})
    names = {m.id: m.name for m in team}
    st.text_input("Nom de la règle", value=rule.stored.name if rule else "", key=f"{prefix}_name")
    st.markdown("**Si le message…** (toutes les conditions remplies ; dans une condition, l'une des valeurs)")
    c1, c2, c3 = st.columns(3)
    c1.multiselect("Plateforme", list(PLATFORM_LABELS), default=c.get("platforms", []),
                   format_func=PLATFORM_LABELS.__getitem__, key=f"{prefix}_platforms", placeholder="Toutes")
    c2.multiselect("Type de risque", list(RISK_LABELS), default=c.get("risk_kinds", []),
                   format_func=RISK_LABELS.__getitem__, key=f"{prefix}_kinds", placeholder="Tous")
    c3.multiselect("Sentiment", list(SENTIMENT_LABELS), default=c.get("sentiments", []),
                   format_func=SENTIMENT_LABELS.__getitem__, key=f"{prefix}_sentiments", placeholder="Tous")
    c4, c5, c6 = st.columns(3)
    c4.text_area("Mots-clés (un par ligne)", value="\n".join(c.get("keywords", [])), key=f"{prefix}_keywords",
                 height=80, help="Mots entiers ou expressions, sans tenir compte des accents ni des majuscules.")
    c5.text_input("Comptes de la ville (séparés par « ; »)", value="; ".join(c.get("accounts", [])),
                  key=f"{prefix}_accounts")
    c6.multiselect("Auteur", list(MARK_LABELS), default=c.get("author_marks", []),
                   format_func=MARK_LABELS.__getitem__, key=f"{prefix}_marks", placeholder="Tous")
    st.markdown("**… alors**")
    d1, d2, d3 = st.columns(3)
    d1.multiselect("Assigner à (une personne, ou plusieurs à tour de rôle)", list(names),
                   default=([a["assign_to"]] if "assign_to" in a else a.get("assign_team", [])),
                   format_func=lambda i: names.get(i, str(i)), key=f"{prefix}_assign", placeholder="Personne")
    d2.text_input("Étiquette", value=a.get("tag", ""), key=f"{prefix}_tag")
    d3.number_input("Priorité (0 à 100, vide : inchangée)", min_value=0.0, max_value=100.0, step=5.0,
                    value=a.get("priority"), key=f"{prefix}_priority")
    e1, e2 = st.columns(2)
    e1.selectbox("Masquer sur la plateforme", list(HIDE_LABELS), format_func=HIDE_LABELS.__getitem__,
                 index=list(HIDE_LABELS).index(a.get("hide", "")), key=f"{prefix}_hide",
                 help="Le motif légal est enregistré avec l'action, comme pour une modération faite à la main.",
                 placeholder=CHOOSE_ONE)
    e2.text_input("Clore comme doublon de l'incident (identifiant du message de référence)",
                  value=a.get("duplicate_of", ""), key=f"{prefix}_duplicate", placeholder="ex. facebook:123_456")

    def save() -> None:
        ss = st.session_state
        assign = list(ss.get(f"{prefix}_assign") or [])
        actions: dict[str, Any] = {"tag": ss.get(f"{prefix}_tag") or "", "hide": ss.get(f"{prefix}_hide") or "",
                                   "duplicate_of": ss.get(f"{prefix}_duplicate") or "",
                                   "priority": ss.get(f"{prefix}_priority")}
        if len(assign) == 1:
            actions["assign_to"] = assign[0]
        elif assign:
            actions["assign_team"] = assign
        conditions = {"platforms": list(ss.get(f"{prefix}_platforms") or []),
                      "risk_kinds": list(ss.get(f"{prefix}_kinds") or []),
                      "sentiments": list(ss.get(f"{prefix}_sentiments") or []),
                      "keywords": _lines(ss.get(f"{prefix}_keywords") or ""),
                      "accounts": _lines(ss.get(f"{prefix}_accounts") or ""),
                      "author_marks": list(ss.get(f"{prefix}_marks") or [])}
        page.run(automation.save_rule, lambda r: f"Règle « {r.stored.name} » enregistrée : essayez-la sur les 30 "
                                                 "derniers jours avant de l'activer.",
                 actor=agent, name=ss.get(f"{prefix}_name") or "", conditions=conditions,
                 actions={k: v for k, v in actions.items() if v not in ("", None)},
                 rule_id=rule.id if rule else None)

    st.button("Enregistrer la règle", key=f"{prefix}_save", on_click=save, type="primary" if rule is None else
              "secondary")


def _try(agent: Agent, rule_id: int) -> None:
    result = page.run(automation.dry_run, lambda d: f"Essai fait : {d.matched} message(s) sur {d.scanned} en "
                                                    f"{d.days} jours.", actor=agent, rule_id=rule_id)
    if result is not None:
        st.session_state[f"{DRY_KEY}_{rule_id}"] = result


def _switch(agent: Agent, rule_id: int, enabled: bool) -> None:
    page.run(automation.switch, "Règle activée : elle s'applique aux nouveaux messages." if enabled
             else "Règle désactivée.", actor=agent, rule_id=rule_id, enabled=enabled)


def show_rule(agent: Agent, rule: automation.Rule, team: list[Agent], names: dict[int, str]) -> None:
    """One rule: what it does, its state, the dry run and its result, the switch, the form to change it."""
    s = rule.stored
    rid = rule.id
    with st.container(border=True):
        state = (f"active depuis le {format_paris(s.enabled_at)} (activée par {names.get(s.enabled_by or 0, '?')})"
                 if s.enabled else "inactive")
        st.markdown(f"**{components.md_escape(s.name)}** · n° {rid} · {state}")
        st.caption(components.md_escape("Alors : " + " ; ".join(automation.describe_actions(rule.actions, names))))
        tried = (f"Essayée le {format_paris(s.dry_run_at)} : {s.dry_run_matches} message(s) en 30 jours."
                 if s.dry_run_at else "Pas encore essayée : l'essai sur 30 jours est obligatoire avant activation.")
        st.caption(tried)
        row = st.container(horizontal=True)
        row.button("Essayer sur les 30 derniers jours", key=f"rule_try_{rid}", on_click=_try, args=(agent, rid))
        if s.enabled:
            row.button("Désactiver", key=f"rule_off_{rid}", on_click=_switch, args=(agent, rid, False))
        else:
            row.button("Activer", key=f"rule_on_{rid}", on_click=_switch, args=(agent, rid, True), type="primary",
                       disabled=s.dry_run_at is None)
        result = st.session_state.get(f"{DRY_KEY}_{rid}")
        if isinstance(result, automation.DryRun):
            _dry_run(result)
        with st.expander("Modifier (la règle sera désactivée et à essayer de nouveau)"):
            rule_form(agent, team, f"rule_edit_{rid}", rule)


def _dry_run(result: automation.DryRun) -> None:
    st.markdown(f"**Ce qu'elle aurait fait** sur les {result.days} derniers jours : {result.matched} message(s) "
                f"sur {result.scanned}.")
    st.caption(components.md_escape("Pour chacun : " + " ; ".join(result.actions)))
    if result.by_platform:
        st.caption(" · ".join(f"{PLATFORM_LABELS.get(p, p)} : {n}" for p, n in sorted(result.by_platform.items())))
    for item in result.examples:
        st.caption(components.md_escape(f"{PLATFORM_LABELS.get(str(item.mention.platform), '')} · "
                                        f"{format_paris(item.mention.created_at)} · {item.uid}"))
        components.resident_text(item.mention.text)
