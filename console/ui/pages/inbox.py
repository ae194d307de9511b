"""Boîte de réception: the shared inbox — filters, search, list, and the detail pane with actions."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st
from sqlite_utils import Database

from console.messages import PLATFORM_LABELS, STATUS_LABELS
from console.messages.labels import CHOOSE_ONE
from console.ui import components, deps, page
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
    assignee = c4.selectbox("Assigné à", assignee_opts, format_func=assignee_labels.__getitem__, key="inbox_assignee",
                            placeholder=CHOOSE_ONE)
    c5, c6, c7, c8 = st.columns(4)
    tag = c5.selectbox("Étiquette", ["", *tags], format_func=lambda t: t or "Toutes", key="inbox_tag",
                       placeholder=CHOOSE_ONE)
    private_view = "all"
    if inbox.may_read_private(agent):  # « Messages privés »: only for the roles that may read them (issue #20)
        private_view = c5.selectbox("Messages", list(PRIVATE_VIEWS), format_func=PRIVATE_VIEWS.__getitem__,
                                    key="inbox_private", placeholder=CHOOSE_ONE)
    period = c6.date_input("Période", value=[], key="inbox_period", format="DD/MM/YYYY")
    order = c7.selectbox("Tri", list(ORDERS), format_func=ORDERS.__getitem__, key="inbox_order", placeholder=CHOOSE_ONE)
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


def _picked() -> None:
    """A row was clicked: remember its message (by uid, from the rows as they were shown) before the rerun, so that
    the detail is drawn first. A click on the highlighted row unselects it: the open message stays open, unless
    that row shows another message now (the list changed under the highlight): then that one opens."""
    state = st.session_state.get("inbox_table")
    rows = list(state.selection.rows) if state is not None else []
    uids = st.session_state.get("inbox_row_uids") or []
    before = st.session_state.get("inbox_picked_rows") or []
    st.session_state["inbox_picked_rows"] = rows
    row = rows[0] if rows else before[0] if before else None
    if row is not None and row < len(uids):
        st.session_state["inbox_selected"] = uids[row]


@page.fragment  # st.fragment, its errors shown like a page's (a reference, never a traceback)
def _list_and_detail(query: inbox.InboxQuery, page_no: int) -> None:
    """The list and the detail pane. Selecting a row or acting on the open message reruns only this part: not the
    router, the sidebar, the preamble or the filters (issue #17, decision 0200). The list is read again on each of
    these reruns (a few ms), so an action shows in its row at once."""
    page.show_flash()  # the action's message: its callback ran just before this rerun, the preamble did not
    result = page.load(lambda db: inbox.list_items(db, query, viewer=agent))

    shown_total = components.fr_number(result.total) + ("+" if result.capped else "")
    count_slot = st.empty()  # the count is written with the table, after the detail (the two change together)
    rows = inbox_table.rows(result.items, agents, deps.now())  # readable at 1280 px (console/ui/inbox/table.py)
    uids = [it.uid for it in result.items]
    st.session_state["inbox_row_uids"] = uids  # what each row showed, for _picked
    selected_uid = st.session_state.get("inbox_selected")
    if selected_uid not in set(uids):  # kept only when just answered (composer)
        kept = st.session_state.get("inbox_keep")
        selected_uid = selected_uid if selected_uid and kept == selected_uid else None
    st.session_state["inbox_selected"] = selected_uid
    left, right = inbox_table.layout()  # side by side from 1800 px, the detail under the list below that
    with right:  # drawn before the list: the message shows before the table is sent again (issue #17)
        if selected_uid is None:
            st.info("Sélectionnez un message dans la liste pour voir la conversation et agir.")
        elif agent is None:
            st.warning(page.CHOOSE_AGENT)
        else:  # keyed by the message: the keyboard script brings a newly opened one into view (decision 0293)
            with st.container(key=inbox_table.open_message_key(selected_uid)):
                inbox_table.back_to_list()
                inbox_actions.detail_pane(selected_uid, agent, agents)
    with left:
        count_slot.caption(f"{shown_total} message(s) · page {page_no}")
        if not rows:
            st.info("Aucun message ne correspond à ces filtres.")
        else:
            st.dataframe(rows, hide_index=True, on_select=_picked, selection_mode="single-row",
                         key="inbox_table", width="stretch", height=560, column_config=inbox_table.column_config())
            inbox_table.keyboard()  # Enter or Space opens the focused row


_list_and_detail(query, int(page_no))
