"""Audit page, shared pieces: the action runner, periods, the integrity banner with the countersignable head."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import streamlit as st

from console.messages.labels import AUDIT_EVENT_LABELS
from console.ui import deps, page
from console.ui.components import md_escape
from core.clock import PARIS, format_paris, from_iso
from core.models import Agent
from services.accounts.permissions import Action, can
from services.archive import audit_trail

INTEGRITY_KEY = "audit_integrity"
HEAD_TEXT_KEY = "audit_head_text"
RECHECK_S = 300  # a verification is reused for this long while the head has not moved
REFUSAL = ("Page réservée au service juridique, à la direction et aux administrateurs. Votre rôle ne permet "
           "pas de consulter le journal d'audit ni l'archive légale.")
CHAIN_REASONS = {
    "missing row(s) before this one (deleted)": "événement(s) manquant(s) juste avant (supprimé(s))",
    "id out of order": "numéro hors séquence (événements réordonnés)",
    "prev_hash does not match the previous row (row inserted, deleted or reordered)":
        "l'empreinte de l'événement précédent ne correspond pas (événement inséré, supprimé ou réordonné)",
    "content is not text (row edited)": "contenu altéré (événement modifié)",
    "content does not match its hash (row edited)":
        "le contenu ne correspond plus à son empreinte (événement modifié)",
}


LEGAL_ONLY = "Réservé au service juridique (exports, gels juridiques et demandes RGPD)."


def allowed(agent: Agent, action: Action) -> bool:
    """Whether ``agent`` may ``action`` (the services check it too); if not, say who may."""
    if can(agent, action):
        return True
    st.caption(LEGAL_ONLY)
    return False


def run_action(action: Callable[[Any], Any], ok_text: str | Callable[[Any], str], store: str | None = None) -> None:
    """Run ``action(db)`` in a callback (page.run: French flash message); keep its value under ``store``."""
    value = page.run(lambda db, now: action(db), ok_text)
    if store and value is not None:
        st.session_state[store] = value


def period_bounds(value: Any) -> tuple[datetime | None, datetime | None]:
    """(since, until) in UTC for a date_input range read as Paris calendar days (the last day included)."""
    if not isinstance(value, tuple | list) or not value:
        return None, None
    first: date = value[0]
    last: date = value[1] if len(value) == 2 else value[0]
    since = datetime.combine(first, dtime.min, tzinfo=PARIS).astimezone(UTC)
    until = datetime.combine(last + timedelta(days=1), dtime.min, tzinfo=PARIS).astimezone(UTC)
    return since, until


def _integrity(agent: Agent) -> tuple[audit_trail.Integrity, float]:
    """The last verification of this session while the head is unchanged and recent; else verify again."""
    with deps.db() as db:
        head = audit_trail.head(db, actor=agent)
        cached = st.session_state.get(INTEGRITY_KEY)
        if cached and cached[0] == head and time.time() - cached[1] < RECHECK_S:
            return cached[2], cached[1]
        report = audit_trail.integrity(db, actor=agent)
    st.session_state[INTEGRITY_KEY] = (report.head, time.time(), report)
    return report, time.time()


def _export_head(agent: Agent) -> None:
    run_action(lambda db: audit_trail.export_head(db, actor=agent, now=deps.now(),
                                                  db_file=deps.settings().db_path)[1],
               "Tête de la chaîne exportée (inscrit au journal d'audit).", store=HEAD_TEXT_KEY)


def integrity_panel(agent: Agent) -> audit_trail.Integrity:
    """The chain status (intact or first broken event) and the head, with its export for countersigning."""
    report, checked_at = _integrity(agent)
    chain = report.chain
    if chain.ok:
        st.success(f"Chaîne d'audit intacte : {chain.checked} événement(s) vérifié(s), du premier au dernier.")
    else:
        reason = CHAIN_REASONS.get(chain.reason, chain.reason)
        st.error(f"Chaîne d'audit ROMPUE à l'événement n° {chain.broken_id} : {md_escape(reason)}. Les "
                 "événements antérieurs sont vérifiés. Prévenez le service juridique ; les exports sont "
                 "refusés.")
    for problem in report.archive_problems:
        st.error("Archive légale altérée : " + md_escape(problem))
    if report.missing_guards:
        st.warning("Protection en ajout seul du journal supprimée hors de Parvis (déclencheurs manquants : "
                   + md_escape(", ".join(report.missing_guards)) + ").")
    head = report.head
    c1, c2 = st.columns([3, 1])
    if head is None:
        c1.info("Le journal d'audit est vide.")
    else:
        at = format_paris(from_iso(str(head["at"])), "%d/%m/%Y %H:%M:%S")
        event = md_escape(AUDIT_EVENT_LABELS.get(str(head["event"]), str(head["event"])))
        c1.markdown(f"**Tête de la chaîne** : événement n° {head['id']} · {at} · {event}")
        c1.code(str(head["hash"]), language=None)
        c2.button("Exporter la tête pour contre-signature", key="export_head", on_click=_export_head, args=(agent,),
                  help="Imprimez-la, signez-la et datez-la, ou envoyez-la à l'archiviste (comme `audit head`).")
    c2.button("Revérifier maintenant", key="audit_recheck", on_click=st.session_state.pop, args=(INTEGRITY_KEY, None))
    c2.caption(f"Vérifiée à {datetime.fromtimestamp(checked_at, UTC).astimezone(PARIS):%H:%M:%S}")
    text = st.session_state.get(HEAD_TEXT_KEY)
    if text:
        with st.expander("Tête à contre-signer", expanded=True):
            st.code(text, language=None)
            st.download_button("Télécharger la tête (.txt)", text.encode("utf-8"), file_name="tete-chaine-audit.txt",
                               mime="text/plain", key="audit_dl_head")
    return report


def download_block(key: str, label: str) -> None:
    """Download buttons for a prepared export (ZIP package and PDF report) and the manifest's hashes."""
    entry = st.session_state.get(key)
    if not entry:
        return
    download, _ = entry
    result = download.result
    verified = "oui" if result.verified else "NON"
    st.success(f"Export prêt : {result.items} élément(s) · chaîne vérifiée : {verified}")
    c1, c2 = st.columns(2)
    c1.download_button(f"Télécharger {label} (CSV, JSON, PDF, manifeste) .zip", download.zip_bytes,
                       file_name=f"{download.name}.zip", mime="application/zip", key=f"{key}_zip")
    if download.pdf_bytes is not None:
        c2.download_button("Télécharger le rapport PDF", download.pdf_bytes, file_name=f"{download.name}.pdf",
                           mime="application/pdf", key=f"{key}_pdf")
    st.caption(f"Empreinte SHA-256 du manifeste : {result.manifest_sha256}")
    st.dataframe([{"Fichier": name, "SHA-256": digest} for name, digest in sorted(result.files.items())],
                 hide_index=True, width="stretch")


def stale_note(key: str, current: object) -> None:
    """Say so when the filters changed since the export shown was prepared."""
    entry = st.session_state.get(key)
    if entry and entry[1] != current:
        st.info("Les filtres ont changé depuis cet export : préparez-en un nouveau pour la sélection affichée.")
