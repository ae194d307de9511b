"""Charter editor (director): every setting in one form, saved as a new, audited version of the charter."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from console.messages import PLATFORM_LABELS, message_for
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, page
from core.errors import ParvisError, WorkflowError
from core.models import Agent, Platform
from editorial.charter import RULES, Charter
from editorial.charter_yaml import charter_from_dict, charter_to_dict
from editorial.lengths import DEFAULT_LIMITS
from services.editorial import charter as charters

PREFIX = "charter_ed_"
SEVERITY_FR = {"block": "Bloquant", "warn": "Avertissement (validation requise)", "off": "Désactivée"}
TERM_COLS = ("Terme", "Remplacement", "Genre", "Raison")
GENDERS = {"": "—", "m": "masculin", "f": "féminin"}  # the replacement's gender (determiner agreement: 0210)
ELECTION_COLS = ("Scrutin", "1er tour", "2d tour")
_LISTS = {"allowed_domains": "Domaines autorisés pour les liens (un par ligne)",
          "allowed_contacts": "Coordonnées de la ville autorisées dans les réponses (une par ligne)",
          "hashtags": "Hashtags officiels en CamelCase (un par ligne)",
          "acronyms": "Sigles autorisés en majuscules (un par ligne)"}
_RESERVE_LISTS = {"bilan_terms": "Termes de valorisation du bilan (un par ligne)",
                  "candidates": "Noms des candidats (un par ligne)",
                  "campaign_themes": "Thèmes de campagne (un par ligne)"}


def reset() -> None:
    """Forget the editor's widgets (and the history's choice) so that they show the version now in force."""
    for key in [k for k in st.session_state if str(k).startswith(PREFIX) or k == "charter_hist_version"]:
        del st.session_state[key]


def _term_rows(terms: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"Terme": t.get("term", ""), "Remplacement": t.get("replacement", ""),
             "Genre": GENDERS.get(t.get("gender", ""), ""), "Raison": t.get("reason", "")} for t in terms]


def _election_rows(elections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for e in elections:
        rounds = [date.fromisoformat(str(r)) for r in e["rounds"]]
        rows.append({"Scrutin": e["name"], "1er tour": rounds[0], "2d tour": rounds[1] if len(rounds) > 1 else None})
    return rows


def _edited(key: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply a data editor's edit state (edited, deleted, added rows) to the rows it was given."""
    state = st.session_state.get(key) or {}
    out = [dict(r) for r in rows]
    for idx, changes in (state.get("edited_rows") or {}).items():
        out[int(idx)].update(changes)
    deleted = {int(i) for i in state.get("deleted_rows") or []}
    return [r for i, r in enumerate(out) if i not in deleted] + [dict(r) for r in state.get("added_rows") or []]


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def _lines(key: str, default: list[str]) -> list[str]:
    if key not in st.session_state:
        return list(default)
    return [line.strip() for line in str(st.session_state[key]).splitlines() if line.strip()]


def _collect(base: dict[str, Any]) -> dict[str, Any]:
    """The charter described by the form's widgets, as plain data (validated by charter_from_dict)."""
    ss = st.session_state
    rules = {}
    for rule in RULES:
        value = str(ss.get(f"{PREFIX}rule_{rule.code}", base["rules"].get(rule.code, rule.default)))
        if rule.code in base["rules"] or value != str(rule.default):
            rules[rule.code] = value
    limits = {}
    for p in Platform:
        limit = int(ss.get(f"{PREFIX}limit_{p}", base["limits"].get(str(p), DEFAULT_LIMITS[p])))
        if str(p) in base["limits"] or limit != DEFAULT_LIMITS[p]:
            limits[str(p)] = limit
    terms = {}
    for kind in ("banned", "discouraged"):
        rows = _edited(f"{PREFIX}{kind}", _term_rows(base["terms"][kind]))
        terms[kind] = [{"term": _text(r.get("Terme")), "replacement": _text(r.get("Remplacement")),
                        "gender": _text(r.get("Genre"))[:1].replace("—", ""), "reason": _text(r.get("Raison"))}
                       for r in rows if any(_text(r.get(c)) for c in TERM_COLS if c != "Genre")]
    elections = []
    for r in _edited(f"{PREFIX}elections", _election_rows(base["reserve"]["elections"])):
        rounds = [_text(r.get(c))[:10] for c in ELECTION_COLS[1:] if _text(r.get(c))]
        if _text(r.get("Scrutin")) or rounds:
            elections.append({"name": _text(r.get("Scrutin")) or "Scrutin", "rounds": rounds})
    return {
        "name": str(ss.get(f"{PREFIX}name", base["name"])).strip(), "limits": limits, "rules": rules,
        "terms": terms,
        **{k: _lines(f"{PREFIX}{k}", base[k]) for k in ("allowed_domains", "allowed_contacts", "hashtags")},
        "capitals": {"max_ratio": ss.get(f"{PREFIX}caps_ratio", base["capitals"]["max_ratio"]),
                     "min_letters": ss.get(f"{PREFIX}caps_min", base["capitals"]["min_letters"]),
                     "acronyms": _lines(f"{PREFIX}acronyms", base["capitals"]["acronyms"])},
        "emoji": {"max": ss.get(f"{PREFIX}emoji_max", base["emoji"]["max"])},
        "approval": {"risk_threshold": ss.get(f"{PREFIX}risk", base["approval"]["risk_threshold"])},
        "reserve": {"elections": elections,
                    **{k: _lines(f"{PREFIX}{k}", base["reserve"][k]) for k in _RESERVE_LISTS},
                    "volume_tolerance": ss.get(f"{PREFIX}volume", base["reserve"]["volume_tolerance"])},
    }


def _comparable(charter: Charter) -> dict[str, Any]:
    data = charter_to_dict(charter)
    data.pop("version", None)
    return data


def _save(agent: Agent, base: dict[str, Any]) -> None:
    """Validate the form and store it as the next version (the service checks the role and audits)."""
    try:
        with deps.db() as db:
            in_force = charters.current(db).charter
            if in_force.version != base["version"]:
                raise WorkflowError(reason="charter_changed_meanwhile", version=in_force.version)
            new = charter_from_dict(_collect(base))
            if _comparable(new) == _comparable(in_force):
                page.flash("info", "Aucune modification : pas de nouvelle version.")
                return
            saved = charters.save(db, agent, new, now=deps.now(),
                                  comment=str(st.session_state.get(f"{PREFIX}comment", "")).strip())
    except ParvisError as err:
        if isinstance(err, WorkflowError):
            reset()
        page.flash("error", message_for(err))
        return
    reset()
    page.flash("ok", f"Version {saved.version} de la charte enregistrée (journal d'audit : charter-changed).")


def _term_editor(label: str, kind: str, base: dict[str, Any]) -> None:
    st.markdown(f"**{label}**")
    st.data_editor(pd.DataFrame(_term_rows(base["terms"][kind]), columns=list(TERM_COLS)), key=f"{PREFIX}{kind}",
                   num_rows="dynamic", hide_index=True, width="stretch",
                   column_config={"Terme": st.column_config.TextColumn(help="« mensonge* » : tous les mots qui "
                                                                           "commencent par « mensonge »"),
                                  "Genre": st.column_config.SelectboxColumn(
                                      options=list(GENDERS.values()),
                                      help="Genre du remplacement : « le » ou « la » devant lui s'accorde")})


def editor(agent: Agent, charter: Charter) -> None:
    """The edit form for the version in force."""
    base = charter_to_dict(charter)
    with st.form("charter_form", border=False):
        st.text_input("Nom de la charte", value=base["name"], key=f"{PREFIX}name")
        t_rules, t_terms, t_links, t_lengths, t_reserve, t_approval = st.tabs(
            ["Règles", "Termes", "Liens et contacts", "Longueurs", "Période de réserve", "Validation"])
        with t_rules:
            st.caption("Bloquant : le message ne peut pas partir. Avertissement : il passe par la validation de la "
                       "direction. Désactivée : la règle ne s'applique pas.")
            cols = st.columns(2)
            for i, rule in enumerate(RULES):
                options = list(SEVERITY_FR)
                cols[i % 2].selectbox(rule.label, options, index=options.index(str(charter.severity(rule.code))),
                                      format_func=SEVERITY_FR.__getitem__, key=f"{PREFIX}rule_{rule.code}",
                                      placeholder=CHOOSE_ONE)
        with t_terms:
            _term_editor("Termes interdits", "banned", base)
            _term_editor("Termes déconseillés", "discouraged", base)
        with t_links:
            for key, label in _LISTS.items():
                value = base["capitals"]["acronyms"] if key == "acronyms" else base[key]
                st.text_area(label, value="\n".join(value), key=f"{PREFIX}{key}")
            c1, c2, c3 = st.columns(3)
            c1.number_input("Part maximale de majuscules", 0.0, 1.0, float(base["capitals"]["max_ratio"]), 0.05,
                            key=f"{PREFIX}caps_ratio")
            c2.number_input("À partir de (lettres)", 1, 10_000, int(base["capitals"]["min_letters"]),
                            key=f"{PREFIX}caps_min")
            c3.number_input("Emoji au maximum", 0, 1000, int(base["emoji"]["max"]), key=f"{PREFIX}emoji_max")
        with t_lengths:
            st.caption("Signature comprise ; X compte les liens pour 23 et les emoji pour 2.")
            length_cols = st.columns(3)
            for i, p in enumerate(Platform):
                limit = int(base["limits"].get(str(p), DEFAULT_LIMITS[p]))
                length_cols[i % 3].number_input(PLATFORM_LABELS.get(str(p), str(p)), 1, 100_000, limit,
                                                key=f"{PREFIX}limit_{p}")
        with t_reserve:
            st.caption("La période de réserve s'ouvre le 1er jour du 6e mois avant le mois du scrutin ; dès minuit "
                       "la veille de chaque tour, les termes listés bloquent.")
            st.data_editor(pd.DataFrame(_election_rows(base["reserve"]["elections"]), columns=list(ELECTION_COLS)),
                           key=f"{PREFIX}elections", num_rows="dynamic", hide_index=True, width="stretch",
                           column_config={c: st.column_config.DateColumn(c, format="DD/MM/YYYY")
                                          for c in ELECTION_COLS[1:]})
            for key, label in _RESERVE_LISTS.items():
                st.text_area(label, value="\n".join(base["reserve"][key]), key=f"{PREFIX}{key}")
            st.number_input("Écart de volume toléré par rapport à l'an dernier (0,3 = 30 %)", 0.0, 10.0,
                            float(base["reserve"]["volume_tolerance"]), 0.05, key=f"{PREFIX}volume")
        with t_approval:
            st.number_input("Risque du message d'origine à partir duquel toute réponse est validée (0 à 1)",
                            0.0, 1.0, float(base["approval"]["risk_threshold"]), 0.05, key=f"{PREFIX}risk")
        st.text_input("Commentaire de version (motif de la modification)", key=f"{PREFIX}comment")
        st.form_submit_button("Enregistrer une nouvelle version", type="primary", key="charter_save",
                              on_click=_save, args=(agent, base))
