"""Reply composer in the inbox detail pane: saved replies, live charter check, signed preview, send or submit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from console.messages import PLATFORM_LABELS, REPLY_IMPOSSIBLE, message_for, notice
from console.messages.labels import CHOOSE_ONE
from console.ui import deps, page
from console.ui.inbox.similar import similar_answers
from core.errors import ParvisError
from core.models import Agent, DraftState, InboxItem
from editorial.lengths import counts_by_platform
from editorial.templates import variables_in
from editorial.workflow import APPROVAL_REASONS_FR, state_label
from services.accounts import permissions, users
from services.connections import assembly
from services.inbox import private, replies, saved_replies
from services.publishing import reply_sending

OPEN_DRAFT_STATES = {DraftState.DRAFT, DraftState.SUBMITTED, DraftState.CHANGES_REQUESTED, DraftState.APPROVED,
                     DraftState.FAILED}
SHOWN_STATES = {DraftState.SENT, DraftState.PUBLISHING, DraftState.TO_VERIFY}
# The variables of a saved reply that the author fills in (``{prenom}`` comes from the resident's name).
TEMPLATE_FIELDS = {"service": ("Service concerné ({service})", "la Propreté"),
                   "lien": ("Lien ({lien})", "https://www.ville.fr/…")}
SEVERITY_FR = {"block": "⛔ Bloquant", "warn": "⚠️ Avertissement"}


KEEP_KEY = "inbox_keep"  # the message just answered: its detail stays shown although the list's filter drops it


def _sent_text(draft: Any) -> str:
    """The reply went out; its record may still be being written (database busy): say so, never "not sent".
    Where the message went: « Répondu », out of the open messages (the rule: docs/editorial.md)."""
    if draft.state is DraftState.PUBLISHING:
        return notice("reply_sent_not_recorded")
    if draft.mention_uid:
        st.session_state[KEEP_KEY] = draft.mention_uid
    return ("Réponse envoyée ; elle apparaît dans l'onglet « Fil ». Le message passe au statut « Répondu » et quitte "
            "la liste des messages ouverts : filtre « Statut » → « Répondu » pour le retrouver.")


def _send_new(uid: str, agent: Agent, key: str) -> None:
    """Create the draft, then send it, or submit it when it needs a director's approval."""
    def call(db: Any, now: datetime) -> str:
        body = st.session_state.get(key, "")
        draft = replies.create_draft(db, agent, mention_uid=uid, body=body, now=now)
        if draft.needs_approval:
            replies.submit(db, agent, draft.id, now=now)
            st.session_state[key] = ""
            return "Réponse soumise à la validation de la direction."
        connector = assembly.connector_for_mention_uid(deps.settings(), db, uid)
        sent = replies.send(db, agent, draft.id, connector, now=now)
        st.session_state[key] = ""
        return _sent_text(sent)
    page.run(call)


def _save_draft(uid: str, agent: Agent, key: str) -> None:
    def call(db: Any, now: datetime) -> str:
        replies.create_draft(db, agent, mention_uid=uid, body=st.session_state.get(key, ""), now=now)
        st.session_state[key] = ""
        return "Brouillon enregistré."
    page.run(call)


def _draft_action(action: str, draft_id: int, agent: Agent, key: str | None = None) -> None:
    def call(db: Any, now: datetime) -> str:
        draft = replies.get_draft(db, draft_id)
        if action == "send":
            connector = assembly.connector_for_mention_uid(deps.settings(), db, draft.mention_uid)
            return _sent_text(replies.send(db, agent, draft_id, connector, now=now))
        if action == "submit":
            if key is not None:
                replies.edit(db, agent, draft_id, body=st.session_state.get(key, draft.body), now=now)
            replies.submit(db, agent, draft_id, now=now)
            return "Réponse soumise à la validation."
        replies.cancel(db, agent, draft_id, now=now)
        return "Réponse annulée."
    page.run(call)


def _use_saved(agent: Agent, item: InboxItem, key: str, pick_key: str) -> None:
    reply_id = st.session_state.get(pick_key)
    if not reply_id:
        return
    values = {name: st.session_state.get(f"{pick_key}_{name}", "") for name in TEMPLATE_FIELDS}
    try:
        with deps.db() as db:
            st.session_state[key] = saved_replies.fill(db, agent, int(reply_id), item=item, **values)
    except ParvisError as err:
        page.flash("error", message_for(err))


def _saved_picker(saved: list[Any], agent: Agent, item: InboxItem, key: str) -> None:
    """Pick a saved reply; every variable the author must give (``{service}``, ``{lien}``) gets its field, and the
    reply is inserted only once they are filled (``{prenom}`` comes from the author's name)."""
    pick_key = f"saved_pick_{item.uid}"
    st.selectbox("Modèle de réponse", [0, *[s.id for s in saved]], key=pick_key,
                 format_func=lambda i: "—" if not i else next(s.title for s in saved if s.id == i),
                 placeholder=CHOOSE_ONE)
    chosen = next((s for s in saved if s.id == st.session_state.get(pick_key)), None)
    if chosen is None:
        return
    needed = [v for v in variables_in(chosen.body) if v in TEMPLATE_FIELDS]
    cols = st.columns(len(needed) + 1) if needed else [st.container()]
    for col, name in zip(cols, needed, strict=False):
        label, hint = TEMPLATE_FIELDS[name]
        col.text_input(label, key=f"{pick_key}_{name}", placeholder=hint)
    missing = [TEMPLATE_FIELDS[n][0] for n in needed if not str(st.session_state.get(f"{pick_key}_{n}", "")).strip()]
    cols[-1].button("Insérer le modèle", key=f"{pick_key}_insert", disabled=bool(missing),
                    help=("À remplir d'abord : " + ", ".join(missing)) if missing else None,
                    on_click=_use_saved, args=(agent, item, key, pick_key))


def _findings(result: Any) -> None:
    for f in result.findings:
        line = f"{SEVERITY_FR.get(str(f.severity), str(f.severity))} — {f.message}"
        if f.suggestion:
            line += f" → suggestion : « {f.suggestion} »"
        (st.error if str(f.severity) == "block" else st.warning)(line)


def _verify(draft_id: int, agent: Agent, published: bool, link_key: str) -> None:
    def call(db: Any, now: datetime) -> str:
        reply_sending.verify(db, agent, draft_id, published=published, now=now,
                             link=st.session_state.get(link_key, "") if published else "")
        return ("Réponse marquée publiée." if published
                else "Réponse marquée non publiée : vous pouvez la renvoyer.")
    page.run(call)


def _uncertain(db: Any, d: Any, agent: Agent) -> None:
    """A reply being sent or checked (wait), or « à vérifier » (a person looks on the platform)."""
    send = reply_sending.send_state(db, d.id)
    if d.state is DraftState.PUBLISHING:
        st.caption("Envoi en cours" + (f" — vérification sur la plateforme ({send.error})" if send.needs_check
                                        else "") + " : elle ne peut pas être renvoyée pour l'instant.")
        return
    st.warning(f"À vérifier : {send.error} Ouvrez la conversation sur la plateforme : la réponse y est-elle ?")
    if d.author_id != agent.id and not permissions.can(agent, permissions.Action.REPLY_APPROVE):
        return
    link_key = f"verify_link_{d.id}"
    st.text_input("Lien de la réponse publiée", key=link_key)
    cols = st.columns(2)
    cols[0].button("Elle est publiée", key=f"verify_yes_{d.id}", on_click=_verify, args=(d.id, agent, True, link_key))
    cols[1].button("Elle n'est pas publiée", key=f"verify_no_{d.id}", on_click=_verify,
                   args=(d.id, agent, False, link_key))


def _existing(db: Any, item: InboxItem, agent: Agent) -> None:
    drafts = [d for d in replies.drafts_for(db, item.uid) if d.state in OPEN_DRAFT_STATES or d.state in SHOWN_STATES]
    for d in drafts:
        author = users.get_agent(db, d.author_id)
        with st.container(border=True):
            st.caption(f"{author.name} · {state_label(d.state)}")
            st.text(d.signed_text)
            if d.comment:
                st.info(f"Demande de la direction : {d.comment}")
            if d.state is DraftState.SENT and d.permalink:
                st.caption(f"Publié : {d.permalink}")
            if d.state in (DraftState.PUBLISHING, DraftState.TO_VERIFY):
                _uncertain(db, d, agent)
                continue
            if d.author_id != agent.id or d.state is DraftState.SENT:
                continue
            cols = st.columns(3)
            if d.state in (DraftState.APPROVED, DraftState.FAILED):
                cols[0].button("Envoyer", key=f"send_draft_{d.id}", on_click=_draft_action, args=("send", d.id, agent))
            if d.state in (DraftState.DRAFT, DraftState.CHANGES_REQUESTED):
                edit_key = f"edit_draft_{d.id}"
                st.text_area("Modifier", value=d.body, key=edit_key)
                cols[0].button("Soumettre", key=f"submit_draft_{d.id}", on_click=_draft_action,
                               args=("submit", d.id, agent, edit_key))
            cols[2].button("Annuler", key=f"cancel_draft_{d.id}", on_click=_draft_action, args=("cancel", d.id, agent))


def _window(item: InboxItem) -> None:
    """The answer window left in a private conversation (Meta's 24 hours, Human Agent 7 days)."""
    now = deps.now()
    with deps.db() as db:
        window = private.window_for(db, item.mention, now, human_agent=private.human_agent_for(deps.settings(),
                                                                                                item.mention))
    left = window.left(now)
    if window.mode == "open":
        st.caption("Message privé : la réponse reste privée (jamais publiée).")
    elif window.is_open and left is not None:
        hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
        what = "réponse standard" if window.mode == "standard" else "réponse étiquetée « Human Agent »"
        st.info(f"Message privé — fenêtre de réponse de Meta : il reste {hours} h {minutes:02d} min ({what}).")
    else:
        st.error(message_for(private.window_error(window)))


def composer(item: InboxItem, agent: Agent) -> None:
    """Write a reply to ``item`` as ``agent``: checked live, signed, sent or submitted for approval."""
    uid = item.uid
    key = f"reply_body_{uid}"
    with deps.db() as db:
        _existing(db, item, agent)
        try:
            saved = saved_replies.list_saved(db, agent)
        except ParvisError:
            saved = []
    if not permissions.can(agent, permissions.Action.REPLY_COMPOSE):
        return
    st.markdown("**Répondre en privé**" if item.private else "**Répondre**")
    if item.private:
        _window(item)
    impossible = replies.reply_impossible(item.mention)
    if impossible:
        st.info(REPLY_IMPOSSIBLE[impossible])
        return
    if saved:
        _saved_picker(saved, agent, item, key)
    similar_answers(item, agent, key)
    body = st.text_area("Votre réponse", key=key, height=120, placeholder="Bonjour, …")
    if not body.strip():
        return
    try:
        with deps.db() as db:
            composed = replies.compose(db, agent, body=body, platform=item.mention.platform, now=deps.now(),
                                       mention_uid=uid)
    except ParvisError as err:
        page.error(err)
        return
    st.caption("Aperçu tel qu'envoyé en privé :" if item.private else "Aperçu tel que publié :")
    st.text(composed.signed_text)
    counts = counts_by_platform(composed.signed_text)
    st.caption("Longueur : " + " · ".join(
        f"{PLATFORM_LABELS.get(str(p), str(p))} {c.length:,}/{c.limit:,} caractères".replace(",", "\u202f")
        for p, c in counts.items()))
    _findings(composed.result)
    if composed.needs_approval:
        st.info("Validation requise : " + ", ".join(APPROVAL_REASONS_FR.get(r, r) for r in composed.reasons))
    c1, c2 = st.columns(2)
    label = "Soumettre pour validation" if composed.needs_approval else "Envoyer"
    c1.button(label, key=f"send_reply_{uid}", type="primary", disabled=composed.blocked, on_click=_send_new,
              args=(uid, agent, key))
    c2.button("Enregistrer le brouillon", key=f"save_reply_{uid}", on_click=_save_draft, args=(uid, agent, key))
