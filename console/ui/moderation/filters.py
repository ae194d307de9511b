"""The moderation queue's filters (risk kind, platform, age, author marks, search), pages and the bulk dismissal
with one reason (the selected items, or every item matching the filter: a storm's flood). The services do the
work (services/moderation/queue.py, services/moderation/actions.py)."""

from __future__ import annotations

import streamlit as st

from console.messages import PLATFORM_LABELS, RISK_LABELS
from console.messages.labels import CHOOSE_ONE
from console.ui import page
from console.ui.moderation.item import SELECT_PREFIX
from core.config import Settings
from core.models import Agent
from moderation import legal
from services.moderation import actions as moderation_actions
from services.moderation import queue as moderation_queue

AGE_LABELS = {0: "Toutes", 1: "Moins de 24 h", 7: "Moins de 7 jours", 30: "Moins de 30 jours"}
MARK_LABELS = {"any": "Tous les auteurs", "marked": "Élus (toutes marques)", "elected": "Élu(e)",
               "opposition": "Élu(e) d'opposition", "unmarked": "Auteurs non marqués"}
PAGE_KEY = "moderation_page"


def _first_page() -> None:
    st.session_state[PAGE_KEY] = 1


def filter_widgets(by_kind: dict[str, int]) -> moderation_queue.QueueFilter:
    """The filter bar; any change goes back to page 1. ``by_kind``: how many items carry each kind."""
    ss = st.session_state
    active = any(ss.get(k) for k in ("moderation_kinds", "moderation_platforms", "moderation_age", "moderation_search")
                 ) or ss.get("moderation_mark", "any") != "any"
    with st.expander("Filtres et recherche" + (" (actifs)" if active else ""), expanded=active):
        c1, c2, c3 = st.columns([3, 2, 2])
        kinds = c1.multiselect(
            "Type de risque", list(RISK_LABELS), key="moderation_kinds", on_change=_first_page,
            format_func=lambda k: f"{RISK_LABELS[k]} ({by_kind.get(k, 0)})", placeholder="Tous")
        platforms = c2.multiselect("Plateforme", list(PLATFORM_LABELS), format_func=PLATFORM_LABELS.__getitem__,
                                   key="moderation_platforms", on_change=_first_page, placeholder="Toutes")
        age = c3.selectbox("Ancienneté", list(AGE_LABELS), format_func=AGE_LABELS.__getitem__,
                           key="moderation_age", on_change=_first_page, placeholder=CHOOSE_ONE)
        c4, c5 = st.columns([2, 3])
        mark = c4.selectbox("Auteur", list(MARK_LABELS), format_func=MARK_LABELS.__getitem__, key="moderation_mark",
                            on_change=_first_page, placeholder=CHOOSE_ONE)
        search = c5.text_input("Recherche dans le texte", key="moderation_search", on_change=_first_page,
                               placeholder="mots du message…")
    return moderation_queue.QueueFilter(kinds=tuple(kinds), platforms=tuple(platforms), max_age_days=int(age),
                                        mark=mark, search=search)


def page_number(pages: int, matching: int) -> int:
    """The count and the page picker (1-based in the UI) on one line; return the page index from 0."""
    current = min(max(1, int(st.session_state.get(PAGE_KEY, 1))), pages)
    st.session_state[PAGE_KEY] = current
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.caption(f"{matching} message(s) correspondent · page {current} sur {pages}")
    right.number_input(f"Page (sur {pages})", min_value=1, max_value=pages, step=1, key=PAGE_KEY,
                       label_visibility="collapsed")
    return current - 1


def selected_uids() -> list[str]:
    """The items ticked on the cards (kept across pages until acted on)."""
    return [k[len(SELECT_PREFIX):] for k, v in st.session_state.items()
            if isinstance(k, str) and k.startswith(SELECT_PREFIX) and v]


def _clear_selection() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(SELECT_PREFIX)]:
        del st.session_state[key]


def _done(n: int) -> str:
    return f"{n} signalement(s) classé(s) sans suite."


def bulk_bar(filt: moderation_queue.QueueFilter, matching: int, agent: Agent, settings: Settings) -> None:
    """Dismiss with one reason: the ticked items, or every item matching the filter."""
    picked = selected_uids()
    with st.expander(f"Action groupée : classer sans suite avec un seul motif ({len(picked)} sélectionné(s))",
                     expanded=bool(picked)):
        st.caption("Chaque message est audité comme s'il était classé seul.")
        c1, c2 = st.columns([3, 2])
        scope = c1.radio("Messages concernés", ["picked", "filter"], key="moderation_bulk_scope", horizontal=True,
                         format_func=lambda s: (f"Sélectionnés ({len(picked)})" if s == "picked"
                                                else f"Tous ceux du filtre ({matching})"))
        c2.selectbox("Motif", list(legal.DISMISS_REASONS_FR), format_func=legal.DISMISS_REASONS_FR.__getitem__,
                     key="moderation_bulk_reason", placeholder=CHOOSE_ONE)

        def dismiss() -> None:
            reason = st.session_state["moderation_bulk_reason"]
            if st.session_state.get("moderation_bulk_scope") == "filter":
                page.run(moderation_actions.dismiss_matching, _done, settings=settings, filt=filt, reason=reason,
                         actor=agent)
            else:
                page.run(moderation_actions.dismiss_many, _done, uids=selected_uids(), reason=reason, actor=agent)
            _clear_selection()
            st.session_state[PAGE_KEY] = 1

        count = len(picked) if scope == "picked" else matching
        st.button(f"Classer sans suite ({count})", key="moderation_bulk_dismiss", on_click=dismiss,
                  disabled=count == 0)
