"""The Calendrier page's detail pane: one post, its state per account (permalink, failure reason, attempts) and
the actions its state allows (each calls a service in a callback; the services enforce roles and four eyes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from console.messages import message_for
from console.ui import deps, page
from console.ui.calendar import common as cv
from console.ui.charter.rules import findings_alerts
from console.ui.components import md_escape
from core.clock import format_paris, from_iso
from core.errors import ParvisError
from core.models import Agent, DraftState, Post, TargetState
from services.accounts.permissions import Action, can, owns_or_may
from services.connections import assembly
from services.editorial import calendar, calendar_views, post_review
from services.editorial.calendar_inputs import PublishAccount

S, T = DraftState, TargetState
REOPENS = (S.APPROVED, S.SCHEDULED, S.FAILED)
ATTEMPT_KIND = {"publish": "envoi", "lookup": "recherche", "verify": "vérification", "native": "programmation"}


def _link(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None  # never javascript: and the like


def _submit(agent: Agent, post_id: int) -> None:
    cv.run(post_review.submit_post, "Publication soumise à validation.", agent=agent, post_id=post_id)


def _approve(agent: Agent, post_id: int, seen_hash: str) -> None:
    cv.run(post_review.approve_post, lambda p: f"Publication validée : {calendar_views.POST_STATE_FR[p.state]}.",
           director=agent, post_id=post_id, seen_hash=seen_hash, policy=cv.policy())


def _request_changes(agent: Agent, post_id: int) -> None:
    cv.run(post_review.request_changes, "Modifications demandées à l'auteur.", director=agent, post_id=post_id,
           comment=st.session_state.get(f"calendar_comment_{post_id}", ""))


def _retry(agent: Agent, post_id: int) -> None:
    cv.run(post_review.retry_failed, "Nouvel envoi programmé (au prochain passage du worker).", agent=agent,
           post_id=post_id, policy=cv.policy())


def _cancel(agent: Agent, post: Post) -> None:
    connectors = None
    if any(t.state is T.HANDED_OFF for t in post.targets):
        try:
            connectors = {c.name: c for c in assembly.enabled_connectors(deps.settings())}
        except ParvisError as err:
            page.flash("error", message_for(err))
            return
    cv.run(calendar.cancel_post, "Publication annulée.", agent=agent, post_id=post.id, connectors=connectors,
           reason=st.session_state.get(f"calendar_cancel_reason_{post.id}", ""))


def _edit(agent: Agent, post: Post, platforms: dict[str, Any]) -> None:
    ss, pid = st.session_state, post.id
    accounts = list(ss.get(f"calendar_edit_accounts_{pid}") or [])
    variants = {a: ss.get(f"calendar_edit_variant_{pid}_{a}", "") for a in accounts}

    def done(result: Post) -> str:
        if post.state in REOPENS and result.state is S.SUBMITTED:
            return "Contenu modifié : la publication repart en validation (une nouvelle approbation est nécessaire)."
        return "Modifications enregistrées." if result.content_hash != post.content_hash else "Aucun changement."

    cv.run(calendar.edit_post, done, agent=agent, post_id=pid, text=ss.get(f"calendar_edit_text_{pid}", post.text),
           accounts=accounts, variants=variants, native_schedule=bool(ss.get(f"calendar_edit_native_{pid}")),
           platforms=platforms)


def _reschedule(agent: Agent, post_id: int) -> None:
    try:
        local, fold = cv.read_time(f"calendar_move_{post_id}")
    except ParvisError as err:
        page.flash("error", message_for(err))
        return
    cv.run(calendar.reschedule, lambda p: f"Publication déplacée au {format_paris(p.scheduled_at)}.", agent=agent,
           post_id=post_id, at=local, fold=fold, policy=cv.policy())


def _duplicate(agent: Agent, post_id: int) -> None:
    try:
        local, fold = cv.read_time(f"calendar_dup_{post_id}")
    except ParvisError as err:
        page.flash("error", message_for(err))
        return
    cv.run(calendar.duplicate, lambda p: f"Copie n° {p.id} créée (brouillon, à soumettre).", select=True,
           agent=agent, post_id=post_id, at=local, fold=fold)


def _verify(agent: Agent, post_id: int, account: str) -> None:
    ss = st.session_state
    published = ss.get(f"calendar_verify_choice_{post_id}_{account}") == "yes"
    link = (ss.get(f"calendar_verify_link_{post_id}_{account}") or "").strip()
    url = link if link.startswith(("https://", "http://")) else None
    cv.run(post_review.verify_target, "Vérification enregistrée.", agent=agent, post_id=post_id, account=account,
           published=published, permalink=url, platform_id=None if url or not link else link)


def _targets_table(entry: calendar_views.CalendarEntry) -> None:
    rows = [{"Compte": t.account, "État": cv.account_state(entry, t), "Lien": _link(t.permalink) or "",
             "Raison": t.error or "", "Tentatives": t.attempts,
             "Prochain essai": f"{t.next_attempt:%d/%m %H:%M}" if t.next_attempt else ""} for t in entry.targets]
    st.dataframe(rows, hide_index=True, width="stretch", key=f"calendar_targets_{entry.post_id}",
                 column_config={"Lien": st.column_config.LinkColumn(  # the site's name; empty (never « None ») before
                     "Lien", display_text=r"https?://(?:www\.)?([^/]+)")})  # publication


def _attempts(attempts: dict[str, list[dict[str, Any]]]) -> None:
    rows = [{"Compte": account, "Essai": a["attempt"], "Type": ATTEMPT_KIND.get(a["kind"], a["kind"]),
             "Début": format_paris(from_iso(a["started_at"]), "%d/%m %H:%M:%S"), "Résultat": a["outcome"],
             "Erreur": a["error"]} for account, items in attempts.items() for a in items]
    with st.expander(f"Journal des tentatives ({len(rows)})"):
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch")
        else:
            st.caption("Aucune tentative pour l'instant.")


def _content(post: Post, names: dict[int, str]) -> None:
    who = f"Auteur : {names.get(post.author_id, '?')}"
    if post.approver_id:
        who += f" · validée par {names.get(post.approver_id, '?')} le {format_paris(post.approved_at)}"
    st.caption(md_escape(who))
    if post.recurrence_id:
        st.caption(f"Occurrence du {post.occurrence_date:%d/%m/%Y} de la série n° {post.recurrence_id}")
    st.text(post.text)
    for key, variant in post.variants.items():
        st.caption(f"Variante pour {md_escape(key)} :")
        st.text(variant)
    for item in post.media:
        st.text(f"Image « {item.get('name', '')} » — texte alternatif : {item.get('alt', '')}")
    if post.native_schedule:
        st.caption("Programmation native sur la plateforme quand elle le permet (vérifiée après l'heure).")


def detail_pane(post_id: int, agent: Agent, names: dict[int, str], accounts: list[PublishAccount]) -> None:
    """Render a post with its per-account state and the actions its state allows."""
    try:
        with deps.db() as db:
            d = calendar_views.detail(db, post_id)
            findings = post_review.post_findings(db, d["post"], deps.now())
    except ParvisError as err:
        page.error(err)
        return
    post, entry = d["post"], d["entry"]
    st.subheader(f"Publication n° {post.id}")
    st.markdown(f"**{entry.label}** · {entry.at:%d/%m/%Y} à {entry.at:%H:%M} (heure de Paris)")
    if entry.hold:
        st.warning(entry.hold)
    if post.state is S.CHANGES_REQUESTED and post.comment:
        st.warning("Modifications demandées par la direction :")
        st.text(post.comment)
    _content(post, names)
    reviewing = "approve" in entry.actions and can(agent, Action.POST_APPROVE)
    findings_alerts(findings, who="À relire avant de valider" if reviewing else "Charte")
    _targets_table(entry)
    _attempts(d["attempts"])
    _revisions(d["revisions"])
    _actions(post, entry, agent, accounts, d["editors"])


def _revisions(lines: list[Any]) -> None:
    with st.expander(f"Versions et leurs auteurs ({len(lines)})"):
        st.dataframe([{"Version": r.revision, "Par": r.editor, "Nature": r.origin, "Source": r.source,
                       "Le": format_paris(r.at, "%d/%m %H:%M"), "Empreinte": r.content_hash[:12]} for r in lines],
                     hide_index=True, width="stretch")


def _actions(post: Post, entry: calendar_views.CalendarEntry, agent: Agent, accounts: list[PublishAccount],
             editors: set[int]) -> None:
    acts, pid = set(entry.actions), post.id
    if not owns_or_may(agent, post.author_id, Action.POST_EDIT_ANY):  # someone else's post: not its content or time
        acts -= {"edit", "reschedule"}
    director = can(agent, Action.POST_APPROVE)
    row = st.container(horizontal=True)
    if "submit" in acts:
        row.button("Soumettre à validation", key=f"submit_{pid}", on_click=_submit, args=(agent, pid),
                   type="primary")
    if "approve" in acts and director:
        own = agent.id in editors
        row.button("Valider", key=f"approve_{pid}", on_click=_approve, args=(agent, pid, post.content_hash),
                   type="primary", disabled=own,
                   help="Règle des quatre yeux : qui a rédigé ou modifié une publication ne la valide pas." if own
                   else "Valider ce contenu tel qu'il est affiché.")
        if own:
            st.caption("Vous en êtes l'auteur ou l'avez modifiée : la validation revient à une autre personne "
                       "(quatre yeux).")
    if "retry" in acts:
        row.button("Relancer l'envoi", key=f"retry_{pid}", on_click=_retry, args=(agent, pid), type="primary")
    if "approve" in acts and director and post.author_id != agent.id:
        with st.expander("Demander des modifications"):
            st.text_area("Commentaire pour l'auteur", key=f"calendar_comment_{pid}")
            st.button("Demander des modifications", key=f"request_changes_{pid}", on_click=_request_changes,
                      args=(agent, pid))
    if "verify" in acts:
        for t in post.targets:
            if t.state is T.TO_VERIFY:
                _verify_box(agent, post, t.account)
    if "edit" in acts:
        _edit_box(agent, post, accounts)
    if "reschedule" in acts:
        with st.expander("Changer la date ou l'heure"):
            st.caption("Déplacer une publication garde sa validation (le contenu validé ne change pas).")
            cv.time_inputs(f"calendar_move_{pid}", cv.paris_naive(post.scheduled_at))
            st.button("Déplacer", key=f"reschedule_{pid}", on_click=_reschedule, args=(agent, pid))
    if "duplicate" in acts:
        with st.expander("Dupliquer"):
            start = cv.paris_naive(post.scheduled_at)
            if post.scheduled_at <= deps.now():
                start = datetime.combine(cv.paris_naive(deps.now()).date() + timedelta(days=1), start.time())
            cv.time_inputs(f"calendar_dup_{pid}", start)
            st.button("Créer une copie (brouillon)", key=f"duplicate_{pid}", on_click=_duplicate, args=(agent, pid))
    if "cancel" in acts:
        with st.expander("Annuler la publication"):
            st.text_input("Motif (facultatif)", key=f"calendar_cancel_reason_{pid}")
            st.button("Annuler la publication", key=f"cancel_{pid}", on_click=_cancel, args=(agent, post))


def _verify_box(agent: Agent, post: Post, account: str) -> None:
    pid = post.id
    with st.expander(f"À vérifier sur {account}", expanded=True):
        st.caption("Parvis ne sait pas si la publication est partie. Ouvrez le compte sur la plateforme et "
                   "cherchez ce texte, publié vers l'heure de la tentative (voir le journal).")
        st.radio("Sur la plateforme, la publication est :", ["yes", "no"],
                 key=f"calendar_verify_choice_{pid}_{account}",
                 format_func={"yes": "publiée", "no": "non publiée"}.__getitem__, horizontal=True)
        st.text_input("Lien (ou identifiant) de la publication trouvée", key=f"calendar_verify_link_{pid}_{account}")
        st.caption("Publiée deux fois ? Supprimez la copie en trop sur la plateforme et indiquez le lien de l'autre.")
        st.button("Enregistrer la vérification", key=f"verify_{pid}_{account}", on_click=_verify,
                  args=(agent, pid, account))


def _edit_box(agent: Agent, post: Post, accounts: list[PublishAccount]) -> None:
    pid = post.id
    platforms = {a.name: a.platform for a in accounts}
    labels = {a.name: a.label for a in accounts}
    with st.expander("Modifier le contenu"):
        if post.state in REOPENS:
            st.warning("Cette publication est validée : modifier son contenu la renverra en validation "
                       "(il faudra une nouvelle approbation avant publication).")
        st.text_area("Texte commun", value=post.text, key=f"calendar_edit_text_{pid}")
        options = list(dict.fromkeys([*post.accounts, *(a.name for a in accounts if a.enabled)]))
        chosen = st.multiselect("Comptes", options, default=list(post.accounts), key=f"calendar_edit_accounts_{pid}",
                                format_func=lambda n: labels.get(n, n), placeholder="Choisir des comptes")
        for name in chosen:
            st.text_area(f"Variante pour {md_escape(labels.get(name, name))} (vide : texte commun)",
                         value=post.variants.get(name, ""), key=f"calendar_edit_variant_{pid}_{name}")
        st.checkbox("Programmation native sur la plateforme", value=post.native_schedule,
                    key=f"calendar_edit_native_{pid}")
        if post.media:
            st.caption("Les images restent celles de la publication ; pour les changer, dupliquez-la.")
        st.button("Enregistrer les modifications", key=f"edit_{pid}", on_click=_edit, args=(agent, post, platforms))
