"""The moderation page's pieces: one queue item (text, flagged spans, time to action, actions), hidden messages,
banned authors, acts sent to a platform whose outcome is not settled, and the callbacks."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from console.messages import PLATFORM_LABELS, RISK_LABELS, notice
from console.messages.labels import CHOOSE_ONE, risk_model_text
from console.ui import components, deps, page
from core.clock import format_paris
from core.config import Settings
from core.errors import ParvisError
from core.models import Agent
from moderation import legal
from services.accounts.permissions import Action, can
from services.connections import assembly
from services.moderation import actions as moderation_actions
from services.moderation import bans as moderation_bans
from services.moderation.actions import Outcome
from services.moderation.queue import SELF_HARM_HELP_FR, OpenAct, QueueItem

BAN_HELP = ("Bloque l'auteur sur le compte de la ville (Facebook : bannissement de la Page ; Mastodon, Bluesky : "
            "blocage du compte). Ses anciens messages restent en ligne.")
GROUND_LABELS = {g.code.value: g.label_fr for g in legal.GROUNDS}
MARK_LABELS = {"": "Aucune", "elected": "Élu(e)", "opposition": "Élu(e) d'opposition"}
ACTION_FR = {"hide": "masquer", "delete": "supprimer", "ban": "bannir l'auteur", "unhide": "rendre visible",
             "unban": "lever le bannissement"}
ACTION_DONE = {"hide": "Message masqué.", "delete": "Message supprimé.", "ban": "Auteur banni de la page."}
UNBANNED = "Bannissement levé : l'auteur peut de nouveau interagir avec le compte de la ville."
SELECT_PREFIX = "moderation_pick_"
PENDING = "Demande envoyée à la direction de la communication : un élu ne peut être modéré sans sa confirmation."


def said(done_text: str) -> Callable[[Outcome], str]:
    """The success text of an act on the platform: ``done_text``, or "sent, being recorded" when its record is
    still being written (the platform did it: never "nothing changed"), or the director's confirmation asked."""
    return lambda out: (notice(out.notice) if out.notice else done_text) if out.done else PENDING


def _restrict(uid: str, action: str, actor: Agent) -> None:
    ground = st.session_state.get(f"moderation_ground_{uid}") or None
    confirm = bool(st.session_state.get(f"moderation_confirm_{uid}"))
    page.run(moderation_actions.restrict, said(ACTION_DONE[action]), settings=deps.settings(), uid=uid,
             action=action, ground=ground, actor=actor, confirm_elected=confirm)


def available(settings: Settings, item: QueueItem) -> set[str]:
    """Which platform actions the mention's connector allows (none if it is not configured)."""
    try:
        connector = assembly.connector_for(settings, item.item.mention)
    except ParvisError:
        return set()
    return {a for a in ("hide", "unhide", "delete", "ban") if moderation_actions.can_do(connector, a)}


def show_item(item: QueueItem, agent: Agent, settings: Settings, services: dict[str, str], target_min: float) -> None:
    """One queue item: header, verbatim text, flagged spans, reasons, time to action, actions."""
    with st.container(border=True):
        head, pick = st.columns([6, 1])
        head.markdown(components.item_header(item.item) + f" · priorité {item.item.priority:.0f} · "
                      f"**{components.md_escape(components.risk_summary(item.item))}**")
        if can(agent, Action.MODERATE):
            pick.checkbox("Sélectionner", key=f"{SELECT_PREFIX}{item.uid}")
        if item.spans:  # the flagged passages between ⟦ ⟧, the exact text one click away; both as plain text
            components.resident_text_marked(item.item.mention.text, [(s.start, s.end) for s in item.spans])
            with st.expander("Texte exact et passages signalés"):
                components.resident_text(item.item.mention.text)
                for span in item.spans:
                    st.text(span.label_fr())
        else:
            components.resident_text(item.item.mention.text)
        kinds = ", ".join(dict.fromkeys(RISK_LABELS.get(str(f.get("kind")), "autre") for f in item.flags))
        st.caption(f"Risque {components.fr_number(item.item.risk_score, 2)} : "
                   + components.md_escape(kinds + risk_model_text(item.item.risk_model_version)))
        if item.unlawful:
            minutes = item.waited.total_seconds() / 60
            text = f"Délai depuis le signalement : {minutes:.0f} min (objectif {target_min:.0f} min)"
            (st.caption if item.within_target else st.warning)(text)
        if item.author_mark:
            st.warning(f"Auteur marqué « {MARK_LABELS[item.author_mark]} ». {legal.OPPOSITION_WARNING_FR}")
        if item.self_harm:
            st.info("Orienter vers une aide (3114) plutôt que modérer. " + SELF_HARM_HELP_FR)
        if item.decisions:
            st.caption("Déjà fait : " + ", ".join(components.md_escape(f"{d.action} ({d.detail})" if d.detail
                                                                          else d.action) for d in item.decisions))
        if can(agent, Action.MODERATE):
            with st.expander("Actions"):
                _actions(item, agent, settings, services)


def _actions(item: QueueItem, agent: Agent, settings: Settings, services: dict[str, str]) -> None:
    uid = item.uid
    allowed = available(settings, item)
    if not item.self_harm:
        codes = [g.code.value for g in item.grounds] + [c for c in GROUND_LABELS if c not in
                                                         {g.code.value for g in item.grounds}]
        st.selectbox("Motif légal (obligatoire pour masquer, supprimer ou bannir)", ["", *codes],
                     format_func=lambda c: GROUND_LABELS.get(c, "— choisir un motif —"),
                     key=f"moderation_ground_{uid}", index=1 if item.grounds else 0,
                     placeholder=CHOOSE_ONE)  # strongest flag's ground
        if item.author_mark and can(agent, Action.MODERATE_CONFIRM):
            st.checkbox("Je confirme, en tant que direction de la communication, la modération de ce compte d'élu",
                        key=f"moderation_confirm_{uid}")
        cols = st.columns(3)
        for col, action, label in zip(cols, ("hide", "delete", "ban"), ("Masquer", "Supprimer", "Bannir l'auteur"),
                                      strict=True):
            if action in allowed and not (action == "ban" and item.author_banned):
                col.button(label, key=f"{action}_{uid}", on_click=_restrict, args=(uid, action, agent),
                           help=BAN_HELP if action == "ban" else None)
        if item.author_banned:
            st.caption("Auteur déjà banni depuis Parvis (voir « Auteurs bannis »).")
        if not allowed:
            st.caption("La plateforme de ce message ne permet pas de le masquer depuis Parvis.")
        st.button("Marquer comme spam", key=f"spam_{uid}", on_click=page.callback(
            moderation_actions.mark_spam, "Marqué comme spam.", uid=uid, actor=agent))
    c1, c2 = st.columns(2)
    c1.selectbox("Escalader vers", list(moderation_actions.ESCALATION_TARGETS),
                 format_func=moderation_actions.ESCALATION_TARGETS.__getitem__, key=f"moderation_to_{uid}",
                 placeholder=CHOOSE_ONE)
    c2.text_input("Note d'escalade", key=f"moderation_note_{uid}")
    st.button("Escalader", key=f"escalate_{uid}", on_click=page.callback(
        moderation_actions.escalate, "Message escaladé.", uid=uid, to=st.session_state[f"moderation_to_{uid}"],
        note=st.session_state.get(f"moderation_note_{uid}", ""), actor=agent))
    if services:
        st.selectbox("Service municipal", list(services), format_func=lambda s: f"{s} ({services[s]})",
                     key=f"moderation_service_{uid}", placeholder=CHOOSE_ONE)

        def forward() -> None:  # a callback returns nothing; page.run returns the service's e-mail address
            page.run(moderation_actions.forward, lambda email: f"Transmission enregistrée ({email}).",
                     settings=settings, uid=uid, service=st.session_state[f"moderation_service_{uid}"], actor=agent)
        st.button("Transmettre au service", key=f"forward_{uid}", on_click=forward)
    st.selectbox("Motif de classement", list(legal.DISMISS_REASONS_FR),
                 format_func=legal.DISMISS_REASONS_FR.__getitem__, key=f"moderation_reason_{uid}",
                 placeholder=CHOOSE_ONE)
    st.button("Classer sans suite", key=f"dismiss_{uid}", on_click=page.callback(
        moderation_actions.dismiss, "Signalement classé.", uid=uid,
        reason=st.session_state[f"moderation_reason_{uid}"], actor=agent))
    marks = [m for m in MARK_LABELS if m or not item.author_mark or can(agent, Action.UNMARK_ELECTED)]
    st.selectbox("Marquer l'auteur", marks, format_func=MARK_LABELS.__getitem__,
                 index=marks.index(item.author_mark or ""), key=f"moderation_mark_{uid}",
                 help=None if len(marks) == len(MARK_LABELS) else "Seule la direction retire la marque d'un élu.",
                 placeholder=CHOOSE_ONE)
    st.button("Enregistrer la marque", key=f"mark_{uid}", on_click=page.callback(
        moderation_actions.mark_author, "Auteur marqué.", uid=uid,
        mark=st.session_state[f"moderation_mark_{uid}"] or None, actor=agent))


def show_hidden(item: QueueItem, agent: Agent, settings: Settings) -> None:
    """A hidden message, with the unhide button where the platform allows it."""
    with st.container(border=True):
        st.markdown(components.item_header(item.item))
        components.resident_text(item.item.mention.text)
        if can(agent, Action.MODERATE) and "unhide" in available(settings, item):
            st.button("Rendre visible", key=f"unhide_{item.uid}", on_click=page.callback(
                moderation_actions.unhide, said("Message de nouveau visible."), settings=settings, uid=item.uid,
                actor=agent))


def show_banned(banned: moderation_bans.BannedAuthor, agent: Agent, settings: Settings) -> None:
    """A banned author: ground, date, the message behind the ban, and the unban button where allowed."""
    ban = banned.ban
    with st.container(border=True):
        st.markdown(f"**{PLATFORM_LABELS.get(ban.platform, ban.platform)}** · "
                    f"@{components.md_escape(ban.handle or ban.author_platform_id)} · banni le "
                    f"{format_paris(ban.banned_at)} · motif « {GROUND_LABELS.get(ban.ground, ban.ground)} »")
        if banned.item is not None:
            components.resident_text(banned.item.mention.text)
        if can(agent, Action.MODERATE) and banned.can_unban:
            st.button("Lever le bannissement", key=f"unban_{ban.platform}_{ban.author_platform_id}",
                      on_click=page.callback(moderation_bans.unban, said(UNBANNED), settings=settings,
                                                platform=ban.platform, author_platform_id=ban.author_platform_id,
                                                actor=agent))
        elif can(agent, Action.MODERATE):
            st.caption("Le bannissement ne peut pas être levé depuis Parvis pour ce compte : le lever sur la "
                       "plateforme.")


def show_open_act(entry: OpenAct, agent: Agent) -> None:
    """An act sent to the platform whose outcome is not settled: being recorded or checked (wait), or
    « à vérifier » (a person looks on the platform and says whether it was done)."""
    act = entry.act
    with st.container(border=True):
        what = ACTION_FR.get(act.action, act.action)
        st.markdown(f"**{components.md_escape(what.capitalize())}** · demandé le {format_paris(act.claimed_at)}"
                    + (f" · motif « {GROUND_LABELS.get(act.ground, act.ground)} »" if act.ground else ""))
        if entry.item is not None:
            st.markdown(components.item_header(entry.item))
            components.resident_text(entry.item.mention.text)
        if act.state == "sending":
            st.caption(components.md_escape(
                "Envoyée à la plateforme : enregistrement ou vérification en cours"
                + (f" ({act.error})" if act.error else "") + ". Elle ne peut pas être refaite pour l'instant."))
            return
        page.alert("warning", f"À vérifier : {act.error} Ouvrez le message sur la plateforme : l'action y est-elle "
                              "faite ?")
        if can(agent, Action.MODERATE):
            a, b = st.columns(2)
            a.button("Elle est faite", key=f"act_done_{act.id}", on_click=page.callback(
                moderation_actions.verify_act, "Action marquée faite.", act_id=act.id, actor=agent, done=True))
            b.button("Elle n'est pas faite", key=f"act_not_done_{act.id}", on_click=page.callback(
                moderation_actions.verify_act, "Action marquée non faite : vous pouvez la refaire.", act_id=act.id,
                actor=agent, done=False))
