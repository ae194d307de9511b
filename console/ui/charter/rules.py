"""Charter page pieces: the rules in force (read-only), the draft tester, the versions, YAML export/import."""

from __future__ import annotations

import difflib
from typing import Any

import streamlit as st

from console.messages import PLATFORM_LABELS, message_for
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, page
from console.ui.charter.editor import SEVERITY_FR, reset
from console.ui.components import md_escape
from core.clock import format_paris
from core.errors import ParvisError, ValidationError
from core.models import Agent, Platform
from editorial.charter import RULES, Charter, Finding, rule_label
from editorial.charter_yaml import load_yaml
from editorial.lengths import DEFAULT_LIMITS
from editorial.reserve import window_start
from services.editorial import charter as charters

SEVERITY_ICON = {"block": "⛔ Bloquant", "warn": "⚠️ Avertissement", "off": "Désactivée"}
RULE_LABELS = {r.code: r.label for r in RULES}  # French names of the charter rules: never show a rule code


def findings_alerts(records: list[dict[str, Any]], *, who: str) -> None:
    """Each finding as a coloured box with the rule's French name and its explanation (escaped: the passage
    quoted comes from a person's text); ``who`` starts the heading, e.g. « À relire avant de valider »."""
    if not records:
        return
    st.markdown(f"**{md_escape(who)}** ({len(records)} remarque(s) de la charte)")
    for r in records:
        account = f" [{r['account']}]" if r.get("account") else ""
        text = f"{RULE_LABELS.get(str(r.get('code')), 'Règle de la charte')}{account} : {r.get('message', '')}"
        page.alert("error" if r.get("severity") == "block" else "warning", text)
IMPORT_KEY = "charter_import_file"


def rules_in_force(charter: Charter) -> None:
    """Every setting of ``charter``, read-only (text written by the director shown as plain data)."""
    st.dataframe([{"Règle": r.label, "Code": r.code, "Gravité": SEVERITY_FR[str(charter.severity(r.code))]}
                  for r in RULES], hide_index=True, width="stretch")
    for label, terms in (("Termes interdits", charter.banned), ("Termes déconseillés", charter.discouraged)):
        st.markdown(f"**{label}** ({len(terms)})")
        if terms:
            st.dataframe([{"Terme": t.term, "Remplacement suggéré": t.replacement, "Raison": t.reason}
                          for t in terms], hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Domaines autorisés**")
        st.text("\n".join(charter.allowed_domains) or "—")
        st.markdown("**Coordonnées de la ville autorisées**")
        st.text("\n".join(charter.allowed_contacts) or "—")
        st.markdown("**Hashtags officiels**")
        st.text(" ".join("#" + h for h in charter.hashtags) or "—")
    with c2:
        st.markdown("**Longueurs maximales** (signature comprise)")
        st.dataframe([{"Plateforme": PLATFORM_LABELS.get(str(p), str(p)),
                       "Limite": charter.limit_for(p) or DEFAULT_LIMITS[p]} for p in Platform],
                     hide_index=True, width="stretch")
        st.caption(f"Validation obligatoire pour répondre à un message dont le risque atteint "
                   f"{charter.risk_threshold:.0%} · {charter.max_emoji} emoji au plus · majuscules : "
                   f"{charter.caps_max_ratio:.0%} au plus")
    reserve = charter.reserve
    st.markdown("**Période de réserve électorale**")
    if reserve.elections:
        st.dataframe([{"Scrutin": e.name, "Tours": ", ".join(f"{d:%d/%m/%Y}" for d in e.rounds),
                       "Début de la période de réserve": f"{window_start(e.rounds[0]):%d/%m/%Y}"}
                      for e in reserve.elections], hide_index=True, width="stretch")
    else:
        st.caption("Aucun scrutin saisi.")
    for label, words in (("Bilan", reserve.bilan_terms), ("Candidats", reserve.candidates),
                         ("Thèmes de campagne", reserve.campaign_themes)):
        st.text(f"{label} : {', '.join(words) or '—'}")


def apply_suggestions(text: str, findings: tuple[Finding, ...]) -> str:
    """``text`` with every suggested replacement applied (overlapping ones skipped)."""
    out, last = text, len(text) + 1
    for f in sorted((f for f in findings if f.suggestion is not None), key=lambda f: f.start, reverse=True):
        if f.end <= last:
            out = out[: f.start] + str(f.suggestion) + out[f.end:]
            last = f.start
    return out


def findings_table(rows: list[dict[str, object]]) -> None:
    """Findings as a table whose long explanations wrap (cells escaped: st.table renders Markdown)."""
    st.table([{k: md_escape(str(v)) for k, v in row.items()} for row in rows], hide_index=True)


def tester(agent: Agent) -> None:
    """A draft checked against the charter in force: findings with their spans and suggestions."""
    c1, c2 = st.columns([2, 1])
    platforms: list[Platform] = list(Platform)  # typed: mypy reads an inline list(...) as Sequence[Never] here
    platform = c2.selectbox("Plateforme", platforms, format_func=lambda p: PLATFORM_LABELS.get(str(p), str(p)),
                            key="charter_test_platform", placeholder=CHOOSE_ONE)
    signed = c2.checkbox("Ajouter ma signature", value=True, key="charter_test_sign")
    text = c1.text_area("Brouillon à tester", key="charter_test_text", height=140, max_chars=10_000,
                        placeholder="Bonjour, …")
    st.caption("Le contrôle s'exécute à chaque modification du texte (Ctrl+Entrée ou clic en dehors du champ).")
    if not text.strip():
        return
    try:
        with deps.db() as db:
            final, result = charters.try_text(db, agent, text, platform=platform, now=deps.now(), signed=signed)
    except ParvisError as err:
        page.error(err)
        return
    st.caption(f"Texte contrôlé (charte version {result.charter_version}) — longueur "
               f"{result.length}/{result.limit}")
    st.text(final)
    if result.reserve.label:
        st.warning(result.reserve.label)
    if not result.findings:
        st.success("Aucune remarque : ce texte respecte la charte.")
        return
    (st.error if result.blocked else st.warning)(
        "Bloqué par la charte : ce message ne pourrait pas partir." if result.blocked
        else "Avertissements : ce message passerait par la validation de la direction.")
    findings_table([{"Gravité": SEVERITY_ICON.get(str(f.severity), str(f.severity)), "Règle": rule_label(f.code),
                     "Passage": final[f.start:f.end], "Position": f"{f.start}–{f.end}", "Explication": f.message,
                     "Suggestion": "" if f.suggestion is None else (f.suggestion or "(supprimer)")}
                    for f in result.findings])
    fixed = apply_suggestions(final, result.findings)
    if fixed != final:
        st.caption("Avec les suggestions appliquées :")
        st.text(fixed)


def history(agent: Agent) -> None:
    """Versions, newest first, and the changes of one version against the one before."""
    with deps.db() as db:
        versions = charters.history(db, agent)
    st.dataframe([{"Version": v["version"], "Enregistrée le": format_paris(v["created_at"]) or "—",
                   "Par": v["created_by"] or "—", "Commentaire": v["comment"], "Empreinte": v["sha256"][:12]}
                  for v in versions], hide_index=True, width="stretch", key="charter_history_table")
    numbers = [v["version"] for v in versions]
    if len(numbers) < 2:
        return
    chosen = st.selectbox("Voir les changements de la version", numbers[:-1], key="charter_hist_version",
                          placeholder=CHOOSE_ONE)
    with deps.db() as db:
        after = charters.version_yaml(db, agent, chosen)
        before = charters.version_yaml(db, agent, numbers[numbers.index(chosen) + 1])
    diff = [line for line in difflib.unified_diff(_body(before), _body(after), lineterm="", n=1)
            if not line.startswith(("---", "+++"))]
    st.code("\n".join(diff) or "(aucune différence)", language="diff", wrap_lines=True)
    st.download_button(f"Télécharger la version {chosen} (YAML)", after, file_name=f"charte-v{chosen}.yaml",
                       mime="application/x-yaml", key="charter_hist_download")


def _body(yaml_text: str) -> list[str]:
    """YAML lines without the header comment and the version number (they always differ)."""
    return [line for line in yaml_text.splitlines()[1:] if not line.startswith("version:")]


def _import(agent: Agent) -> None:
    upload = st.session_state.get(IMPORT_KEY)
    if upload is None:
        page.flash("error", "Choisissez d'abord un fichier YAML à importer.")
        return
    try:
        text = _decode(upload.getvalue())
        with deps.db() as db:
            saved = charters.import_yaml(db, agent, text, now=deps.now(),
                                         comment=str(st.session_state.get("charter_import_comment", "")).strip())
    except ParvisError as err:
        page.flash("error", f"Import refusé, la charte en vigueur est inchangée. {message_for(err)}")
        return
    reset()
    page.flash("ok", f"Fichier importé : version {saved.version} de la charte enregistrée.")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValidationError(reason="file_not_utf8") from err


def yaml_tab(agent: Agent, can_edit: bool) -> None:
    """Download the charter in force; directors import a YAML file as a new version."""
    with deps.db() as db:
        text = charters.export_yaml(db, agent)
        version = charters.current(db).charter.version
    st.download_button("Télécharger la charte en vigueur (YAML)", text, file_name=f"charte-v{version}.yaml",
                       mime="application/x-yaml", key="charter_export")
    with st.expander("Voir le YAML"):
        st.code(text, language="yaml")
    if not can_edit:
        return
    st.markdown("**Importer une charte**")
    upload = st.file_uploader("Fichier YAML", type=["yaml", "yml"], key=IMPORT_KEY)
    if upload is not None:
        _preview(upload.getvalue())
    st.text_input("Commentaire de version", key="charter_import_comment", placeholder="import YAML")
    st.button("Importer comme nouvelle version", key="charter_import", on_click=_import, args=(agent,),
              disabled=upload is None)


def _preview(data: bytes) -> None:
    try:
        found: Any = load_yaml(_decode(data))
    except ParvisError as err:
        page.error(err, prefix="Fichier refusé : ")
        return
    st.info(md_escape(f"Fichier valide : « {found.name} », {len(found.banned)} terme(s) interdit(s), "
                      f"{len(found.discouraged)} déconseillé(s), {len(found.allowed_domains)} domaine(s), "
                      f"{len(found.reserve.elections)} scrutin(s)."))
