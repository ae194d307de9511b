"""The Calendrier page's forms: a new post (accounts, shared text, variants, images with alt text, Paris time,
native scheduling) and recurring posts (rules, their approval, exceptions)."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import streamlit as st

from console.messages import message_for
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, page
from console.ui.calendar import common as cv
from console.ui.charter.rules import findings_alerts
from console.ui.components import md_escape
from core.errors import ParvisError
from core.models import Agent, DraftState, Recurrence
from services.accounts.permissions import Action, can, owns_or_may
from services.editorial import calendar, calendar_inputs, post_review, recurrence, revisions
from services.editorial.calendar_inputs import PublishAccount
from services.editorial.calendar_views import POST_STATE_FR

S = DraftState
IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "webp"]
FREQS = {"weekly": "Chaque semaine", "daily": "Chaque jour"}


def content_inputs(prefix: str, accounts: list[PublishAccount]) -> None:
    """Accounts, shared text, per-account variants, images with their alt text, native scheduling."""
    usable = [a for a in accounts if a.enabled]
    labels = {a.name: a.label for a in accounts}
    chosen = st.multiselect("Comptes", [a.name for a in usable], key=f"{prefix}_accounts",
                            format_func=lambda n: labels.get(n, n), placeholder="Choisissez un ou plusieurs comptes")
    off = [a.label for a in accounts if not a.enabled]
    if off:
        st.caption(md_escape("Non connectés (voir la page Connexions) : " + ", ".join(off)))
    st.text_area("Texte commun", key=f"{prefix}_text", height=120)
    if chosen:
        with st.expander("Variantes par compte (facultatif)"):
            for name in chosen:
                st.text_area(f"Texte pour {md_escape(labels.get(name, name))} (vide : texte commun)",
                             key=f"{prefix}_variant_{name}")
    gen = st.session_state.get(f"{prefix}_gen", 0)
    files = st.file_uploader("Images (facultatif ; PNG, JPEG, GIF ou WebP, 5 Mo au plus)", type=IMAGE_TYPES,
                             accept_multiple_files=True, key=f"{prefix}_images_{gen}")
    for i, upload in enumerate(files or []):
        st.text_input(f"Texte alternatif de « {md_escape(upload.name)} » (obligatoire, RGAA)",
                      key=f"{prefix}_alt_{gen}_{i}", placeholder="Décrivez l'image pour qui ne la voit pas")
    native_ok = any(a.native for a in accounts if a.name in chosen)
    st.checkbox("Programmation native sur la plateforme (Facebook)", key=f"{prefix}_native", disabled=not native_ok,
                help="La plateforme publie elle-même à l'heure ; Parvis lui confie la publication à l'avance et "
                     "vérifie ensuite qu'elle est bien parue.")


def read_content(prefix: str, accounts: list[PublishAccount]) -> dict[str, Any]:
    """In a callback: the content fields for the services (images stored once their alt text is given)."""
    ss = st.session_state
    chosen = list(ss.get(f"{prefix}_accounts") or [])
    gen = ss.get(f"{prefix}_gen", 0)
    media: list[dict[str, Any]] = []
    for i, upload in enumerate(ss.get(f"{prefix}_images_{gen}") or []):
        alt = (ss.get(f"{prefix}_alt_{gen}_{i}") or "").strip()
        item: dict[str, Any] = {"kind": "image", "name": upload.name}
        if alt:  # without alt text the service refuses the post: nothing to store
            item.update(calendar_inputs.store_image(deps.settings().data_dir, upload.name, upload.getvalue()))
        media.append({**item, "alt": alt})
    native = bool(ss.get(f"{prefix}_native")) and any(a.native for a in accounts if a.name in chosen)
    return {"text": ss.get(f"{prefix}_text") or "", "accounts": chosen, "media": media, "native_schedule": native,
            "variants": {a: ss.get(f"{prefix}_variant_{a}") or "" for a in chosen},
            "platforms": {a.name: a.platform for a in accounts}}


def _reset(prefix: str, chosen: list[str]) -> None:
    ss = st.session_state
    ss[f"{prefix}_text"] = ""
    for name in chosen:
        ss[f"{prefix}_variant_{name}"] = ""
    ss[f"{prefix}_gen"] = ss.get(f"{prefix}_gen", 0) + 1  # a new uploader: images and alt texts cleared


def _create_post(agent: Agent, accounts: list[PublishAccount]) -> None:
    try:
        content = read_content("calendar_new", accounts)
        local, fold = cv.read_time("calendar_new")
    except ParvisError as err:
        page.flash("error", message_for(err))
        return
    post = cv.run(calendar.create_post, lambda p: f"Brouillon n° {p.id} enregistré : soumettez-le à validation.",
                  select=True, agent=agent, at=local, fold=fold, **content)
    if post is not None:
        _reset("calendar_new", content["accounts"])


def _preview(accounts: list[PublishAccount]) -> None:
    """The charter's remarks on the text being written (the période de réserve first), before it is saved."""
    text = str(st.session_state.get("calendar_new_text") or "")
    if not text.strip():
        return
    chosen = set(st.session_state.get("calendar_new_accounts") or [])
    platforms = [a.platform for a in accounts if a.name in chosen] or [a.platform for a in accounts][:1]
    if not platforms:
        return
    try:
        with deps.db() as db:
            records = post_review.preview_findings(db, text, platforms, deps.now())
    except ParvisError as err:
        page.error(err)
        return
    findings_alerts(records, who="Avant d'enregistrer")


def new_post_form(agent: Agent, accounts: list[PublishAccount]) -> None:
    """The "Nouvelle publication" tab."""
    content_inputs("calendar_new", accounts)
    _preview(accounts)
    cv.time_inputs("calendar_new", cv.default_time(deps.now()))
    st.caption("Heure de Paris : la publication part à cette heure locale, été comme hiver.")
    st.button("Enregistrer le brouillon", key="calendar_create", type="primary", on_click=_create_post,
              args=(agent, accounts))


def _create_rule(agent: Agent, accounts: list[PublishAccount]) -> None:
    ss = st.session_state
    try:
        content = read_content("calendar_rule_new", accounts)
        at = ss.get("calendar_rule_new_time")
        local_time = f"{at:%H:%M}" if isinstance(at, time) else ""
    except ParvisError as err:
        page.flash("error", message_for(err))
        return
    until = ss.get("calendar_rule_new_until")
    rule = cv.run(recurrence.create_recurrence, lambda r: f"Série n° {r.id} enregistrée : soumettez-la à validation.",
                  agent=agent, freq=ss.get("calendar_rule_new_freq", "weekly"), local_time=local_time,
                  weekdays=list(ss.get("calendar_rule_new_days") or []),
                  every=int(ss.get("calendar_rule_new_every", 1)), start_date=ss.get("calendar_rule_new_start"),
                  until_date=until if isinstance(until, date) else None, **content)
    if rule is not None:
        ss["calendar_rule_pick"] = rule.id
        _reset("calendar_rule_new", content["accounts"])


def _rule_action(agent: Agent, rule_id: int, what: str) -> None:
    ss = st.session_state
    if what == "submit":
        cv.run(recurrence.submit_recurrence, "Série soumise à validation.", agent=agent, rule_id=rule_id)
    elif what == "approve":
        cv.run(recurrence.approve_recurrence, "Série validée : ses prochaines dates sont programmées.",
               director=agent, rule_id=rule_id, horizon=cv.horizon(), policy=cv.policy())
    elif what == "cancel":
        cv.run(recurrence.cancel_recurrence, "Série arrêtée : ses prochaines dates sont annulées.", agent=agent,
               rule_id=rule_id)
    elif what == "skip":
        day = ss.get(f"calendar_rule_skip_{rule_id}")
        if not isinstance(day, date):
            page.flash("error", "Choisissez la date à sauter.")
            return
        cv.run(recurrence.add_exception, f"Exception ajoutée : pas de publication le {day:%d/%m/%Y}.",
               agent=agent, rule_id=rule_id, day=day)
    elif what == "edit":
        at = ss.get(f"calendar_rule_edit_time_{rule_id}")
        cv.run(recurrence.edit_recurrence, "Série modifiée : elle repart en validation.", agent=agent,
               rule_id=rule_id, text=ss.get(f"calendar_rule_edit_text_{rule_id}"),
               local_time=f"{at:%H:%M}" if isinstance(at, time) else None,
               weekdays=ss.get(f"calendar_rule_edit_days_{rule_id}"))


def _rule_panel(agent: Agent, rule: Recurrence, editors: set[int]) -> None:
    rid, live = rule.id, rule.state is not S.CANCELLED
    st.markdown(f"**Série n° {rid}** · {md_escape(recurrence.describe(rule))} · {POST_STATE_FR[rule.state]}")
    st.text(rule.text)
    if rule.exceptions:
        st.caption("Sauf le " + ", ".join(f"{d:%d/%m/%Y}" for d in rule.exceptions))
    row = st.container(horizontal=True)
    if rule.state in (S.DRAFT, S.CHANGES_REQUESTED):
        row.button("Soumettre à validation", key=f"rec_submit_{rid}", on_click=_rule_action,
                   args=(agent, rid, "submit"))
    if rule.state is S.SUBMITTED and can(agent, Action.POST_APPROVE):
        row.button("Valider la série", key=f"rec_approve_{rid}", on_click=_rule_action, type="primary",
                   args=(agent, rid, "approve"), disabled=agent.id in editors,
                   help="Règle des quatre yeux : qui a rédigé ou modifié une série ne la valide pas.")
    if not live:
        return
    row.button("Arrêter la série", key=f"rec_cancel_{rid}", on_click=_rule_action, args=(agent, rid, "cancel"))
    with st.expander("Sauter une date (exception)"):
        st.date_input("Date à sauter", value=cv.paris_naive(deps.now()).date() + timedelta(days=1),
                      key=f"calendar_rule_skip_{rid}", format="DD/MM/YYYY")
        st.button("Ajouter l'exception", key=f"rec_skip_{rid}", on_click=_rule_action, args=(agent, rid, "skip"))
    if not owns_or_may(agent, rule.author_id, Action.POST_EDIT_ANY):
        st.caption("Seuls son auteur et la direction modifient cette série.")
        return
    with st.expander("Modifier la série"):
        st.warning("Modifier la série la renvoie en validation et retire ses prochaines dates non modifiées.")
        st.text_area("Texte", value=rule.text, key=f"calendar_rule_edit_text_{rid}")
        h, m = (int(x) for x in rule.local_time.split(":"))
        st.time_input("Heure (Paris)", value=time(h, m), key=f"calendar_rule_edit_time_{rid}")
        if rule.freq == "weekly":
            st.multiselect("Jours", range(7), default=list(rule.weekdays), key=f"calendar_rule_edit_days_{rid}",
                           format_func=recurrence.DAYS_FR.__getitem__, placeholder="Choisir des jours")
        st.button("Enregistrer", key=f"rec_edit_{rid}", on_click=_rule_action, args=(agent, rid, "edit"))


def recurring_tab(agent: Agent, accounts: list[PublishAccount]) -> None:
    """The "Publications récurrentes" tab: the rules, the selected rule's actions, a new rule."""
    try:
        with deps.db() as db:
            rules = recurrence.list_recurrences(db)
            editors = {r.id: revisions.editors(db, "recurrence", r.id) for r in rules}
    except ParvisError as err:
        page.error(err)
        return
    if rules:
        by_id = {r.id: r for r in rules}
        picked = st.selectbox("Série", list(by_id), key="calendar_rule_pick", format_func=lambda i: (
            f"n° {i} — {recurrence.describe(by_id[i])} — {POST_STATE_FR[by_id[i].state]}"), placeholder=CHOOSE_ONE)
        if picked in by_id:
            _rule_panel(agent, by_id[picked], editors[picked])
    else:
        st.caption("Aucune publication récurrente.")
    with st.expander("Nouvelle série", expanded=not rules):
        content_inputs("calendar_rule_new", accounts)
        c1, c2, c3 = st.columns(3)
        freq = c1.radio("Fréquence", list(FREQS), format_func=FREQS.__getitem__, key="calendar_rule_new_freq")
        c2.number_input("Toutes les … (semaines ou jours)", min_value=1, max_value=52, value=1,
                        key="calendar_rule_new_every")
        c3.time_input("Heure (Paris)", value=time(9, 0), key="calendar_rule_new_time", step=timedelta(minutes=5))
        if freq == "weekly":
            st.multiselect("Jours", range(7), key="calendar_rule_new_days", format_func=recurrence.DAYS_FR.__getitem__,
                           placeholder="Choisissez les jours")
        c4, c5 = st.columns(2)
        c4.date_input("À partir du", value=cv.paris_naive(deps.now()).date(), key="calendar_rule_new_start",
                      format="DD/MM/YYYY")
        c5.date_input("Jusqu'au (facultatif)", value=None, key="calendar_rule_new_until", format="DD/MM/YYYY")
        st.caption("Le jour du passage à l'heure d'été, une heure qui n'existe pas (02:00–02:59) est publiée une "
                   "heure plus tard ; le jour du passage à l'heure d'hiver, à la première des deux.")
        st.button("Enregistrer la série", key="calendar_rule_create", on_click=_create_rule, args=(agent, accounts))
