"""Calendrier: week and month views of posts per account, the queue (problems first), writing, approving,
moving, duplicating, cancelling and following posts, and recurring posts.

For community managers and directors (the services check the roles and the four-eyes rule too); legal staff
and administrators get a clear refusal.
"""

import streamlit as st
from sqlite_utils import Database

from console.messages import ROLE_LABELS
from console.ui import components, page
from console.ui.calendar import common as cv
from console.ui.calendar import detail as calendar_detail
from console.ui.calendar import forms as calendar_forms
from core.models import Agent
from services.accounts import users
from services.accounts.permissions import Action, can
from services.editorial import calendar_inputs, calendar_views, post_review
from services.editorial.calendar_views import CalendarEntry, PeriodView, QueueView


def _refusal(agent: Agent) -> str:
    return (f"Le calendrier des publications est réservé aux community managers et à la direction de la "
            f"communication : le rôle « {ROLE_LABELS.get(agent.role, agent.role)} » ne permet pas de préparer "
            f"ni de valider des publications.")


ctx = page.preamble("Calendrier", needs=lambda a: can(a, Action.POST_CREATE), refusal=_refusal)
agent, now = ctx.agent, ctx.now
names = page.load(lambda db: {a.id: a.name for a in users.list_agents(db)})
accounts = calendar_inputs.publish_accounts(ctx.settings)
labels = {a.name: a.label for a in accounts}
today = cv.paris_naive(now).date()
director = can(agent, Action.POST_APPROVE)

c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
chosen = c1.multiselect("Comptes", list(labels), format_func=lambda n: labels.get(n, n), key="calendar_accounts",
                        placeholder="Tous les comptes")
mode = c2.radio("Vue", ["week", "month"], format_func={"week": "Semaine", "month": "Mois"}.__getitem__,
                key="calendar_mode", horizontal=True)
ref = c3.date_input("Semaine ou mois du", value=today, key="calendar_day", format="DD/MM/YYYY") or today
cancelled = c4.toggle("Afficher les annulées", key="calendar_cancelled")


def _read(db: Database) -> tuple[PeriodView, QueueView, list[CalendarEntry]]:
    if mode == "month":
        shown = calendar_views.month(db, ref.year, ref.month, accounts=chosen, include_cancelled=cancelled)
    else:
        shown = calendar_views.week(db, ref, accounts=chosen, include_cancelled=cancelled)
    review = [calendar_views.entry(p) for p in post_review.pending_review(db, agent)] if director else []
    return shown, calendar_views.queue(db, now=now, accounts=chosen), review


view, queue, review = page.load(_read)

left, right = st.columns([3, 2], gap="medium")
with left:
    tab_cal, tab_queue, tab_new, tab_rec = components.kept_tabs([
        "Calendrier", f"File d'attente ({len(queue.attention)} à traiter)", "Nouvelle publication",
        "Publications récurrentes"], "calendar_tab")
    with tab_cal:
        month = (ref.year, ref.month) if mode == "month" else None
        st.subheader(cv.period_title(view, month))
        entries = sorted((e for items in view.days.values() for e in items), key=lambda e: e.at)
        if mode == "month":
            st.dataframe(cv.month_grid(view, ref.month), hide_index=True, width="stretch", key="calendar_month_grid")
        elif entries:
            st.dataframe(cv.week_grid(view, chosen, labels), hide_index=True, width="stretch",
                         key="calendar_week_grid")
        cv.entries_table(entries, "calendar_period_table", empty="Aucune publication sur cette période.")
    with tab_queue:
        if director:
            st.markdown(f"**À valider ({len(review)})**")
            cv.entries_table(review, "calendar_review_table", empty="Aucune publication en attente de validation.")
        st.markdown(f"**À traiter ({len(queue.attention)})** : échecs, à vérifier, en attente d'une nouvelle heure")
        cv.entries_table(queue.attention, "calendar_attention_table", empty="Rien à traiter.", with_problem=True)
        st.markdown(f"**À venir ({len(queue.upcoming)})**")
        cv.entries_table(queue.upcoming, "calendar_upcoming_table", empty="Aucune publication à venir.")
    with tab_new:
        calendar_forms.new_post_form(agent, accounts)
    with tab_rec:
        calendar_forms.recurring_tab(agent, accounts)

with right:
    selected = st.session_state.get(cv.SELECTED_KEY)
    if selected is None:
        st.info("Sélectionnez une publication dans le calendrier ou la file d'attente pour la voir et agir.")
    else:
        calendar_detail.detail_pane(int(selected), agent, names, accounts)
