"""Boîte de réception: the shared inbox — filters, search, list, and the detail pane with actions."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st
from sqlite_utils import Database

from console.messages import PLATFORM_LABELS, STATUS_LABELS
from console.ui import page
from console.ui.inbox import detail as inbox_actions
from console.ui.inbox import table as inbox_table
from core.clock import PARIS
from core.models import Agent
from services.accounts import users
from services.inbox import triage as inbox
from services.publishing import reply_sending

PAGE_SIZE = 50
ORDERS = {"priority": "Priorité", "newest": "Plus récents", "oldest": "Plus anciens"}
PRIVATE_VIEWS = {"all": "Tous", "private": "Messages privés", "public": "Messages publics"}

ctx = page.preamble("Boîte de réception", agent="optional")  # the list is readable; acting needs an agent
agent = ctx.agent


def _read(db: Database) -> tuple[list[Agent], list[str]]:
    """Replies sent whose record was delayed (database busy) are completed first; then the agents and tags."""
    reply_sending.finish_records(db, now=ctx.now)
    return users.list_agents(db), inbox.all_tags(db)


agents, tags = page.load(_read)
names = {a.id: a.name for a in agents}

with st.expander("Filtres", expanded=True):
    c1, c2, c3, c4 = st.columns(4)
    search = c1.text_input("Recherche", key="inbox_search", placeholder="mots, @auteur…")
    platforms = c2.multiselect("Plateforme", list(PLATFORM_LABELS), format_func=PLATFORM_LABELS.__getitem__,
                               key="inbox_platforms", placeholder="Toutes")
    statuses = c3.multiselect("Statut (vide : ouverts)", list(STATUS_LABELS), format_func=STATUS_LABELS.__getitem__,
                              key="inbox_statuses", placeholder="Ouverts")
    assignee_opts = ["all", "me", "none", *[str(a.id) for a in agents]]
    assignee_labels = {"all": "Tous", "me": "Moi", "none": "Non assignés", **{str(a.id): a.name for a in agents}}
    assignee = c4.selectbox("Assigné à", assignee_opts, format_func=assignee_labels.__getitem__, key="inbox_assignee")
    c5, c6, c7, c8 = st.columns(4)
    tag = c5.selectbox("Étiquette", ["", *tags], format_func=lambda t: t or "Toutes", key="inbox_tag")
    private_view = "all"
    if inbox.may_read_private(agent):  # « Messages privés »: only for the roles that may read them (issue #20)
        private_view = c5.selectbox("Messages", list(PRIVATE_VIEWS), format_func=PRIVATE_VIEWS.__getitem__,
                                    key="inbox_private")
    period = c6.date_input("Période", value=[], key="inbox_period", format="DD/MM/YYYY")
    order = c7.selectbox("Tri", list(ORDERS), format_func=ORDERS.__getitem__, key="inbox_order")
    page_no = c8.number_input("Page", min_value=1, value=1, step=1, key="inbox_page")

since = until = None
if isinstance(period, tuple | list) and len(period) >= 1:
    since = datetime.combine(period[0], time.min, tzinfo=PARIS).astimezone(UTC)
    last = period[1] if len(period) == 2 else period[0]
    until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=PARIS).astimezone(UTC)
query = inbox.InboxQuery(
    platforms=tuple(platforms), statuses=tuple(statuses), open_only=not statuses,
    assigned_to=(agent.id if assignee == "me" and agent else int(assignee) if assignee.isdigit() else None),
    unassigned=assignee == "none", tag=tag or None, since=since, until=until, search=search, order=order,
    private={"private": True, "public": False}.get(private_view), limit=PAGE_SIZE,
    offset=(int(page_no) - 1) * PAGE_SIZE)
result = page.load(lambda db: inbox.list_items(db, query, viewer=agent))

shown_total = f"{result.total:,}".replace(",", "\u202f") + ("+" if result.capped else "")
st.caption(f"{shown_total} message(s) · page {int(page_no)}")
rows = inbox_table.rows(result.items, agents, ctx.now)  # readable at 1280 px (console/ui/inbox/table.py)
left, right = inbox_table.layout()
with left:
    if not rows:
        st.info("Aucun message ne correspond à ces filtres.")
        kept = st.session_state.get("inbox_selected")  # the message just answered stays open (composer)
        selected_uid = kept if kept and st.session_state.get("inbox_keep") == kept else None
    else:
        event = st.dataframe(rows, hide_index=True, on_select="rerun", selection_mode="single-row",
                             key="inbox_table", width="stretch", height=560, column_config=inbox_table.column_config())
        inbox_table.keyboard()  # Enter or Space opens the focused row
        picked = event.selection.rows if event and event.selection else []
        selected_uid = result.items[picked[0]].uid if picked else st.session_state.get("inbox_selected")
        if selected_uid not in {it.uid for it in result.items}:  # kept only when just answered (composer)
            selected_uid = selected_uid if selected_uid and st.session_state.get("inbox_keep") == selected_uid else None
        st.session_state["inbox_selected"] = selected_uid

with right:
    if selected_uid is None:
        st.info("Sélectionnez un message dans la liste pour voir la conversation et agir.")
    elif agent is None:
        st.warning(page.CHOOSE_AGENT)
    else:
        inbox_actions.detail_pane(selected_uid, agent, agents)
