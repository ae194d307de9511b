"""Calendrier page helpers: service calls from callbacks, Paris date/time inputs, the week and
month grids and the post tables (plain text cells only: post texts are shown verbatim, never as Markdown)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import streamlit as st

from console.messages import message_for
from console.ui import deps, page
from console.ui.components import md_escape
from core.errors import ValidationError
from core.models import DraftState, TargetState
from services.editorial.calendar_time import is_ambiguous, paris_to_utc, utc_to_paris
from services.editorial.calendar_views import CalendarEntry, PeriodView, TargetView
from services.publishing.content import PublishPolicy

S, T = DraftState, TargetState
SELECTED_KEY = "calendar_selected"
DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
# Before release to the worker a post's own state says more than its accounts' ("en attente").
NOT_RELEASED = {S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED, S.CANCELLED}
SHORT = {"validée — en attente d'une nouvelle heure": "à reprogrammer", "soumise à validation": "à valider",
         "modifications demandées": "à modifier", "programmée sur la plateforme": "programmée (native)",
         "publication en cours": "en cours"}
FOLD_LABELS = {0: "la première (heure d'été, UTC+2)", 1: "la seconde (heure d'hiver, UTC+1)"}


def policy() -> PublishPolicy:
    """The publishing policy from the settings (grace, retry deadline, native lead)."""
    return PublishPolicy.from_settings(deps.settings())


def horizon() -> timedelta:
    """How far ahead recurring posts are materialised (``PARVIS_RECURRENCE_HORIZON_DAYS``)."""
    return timedelta(days=deps.settings().publish.recurrence_horizon_days)


def run(action: Callable[..., Any], ok_text: str | Callable[[Any], str], *, select: bool = False,
        **kwargs: Any) -> Any:
    """Call a service from a callback (page.run: with a DB and now, French flash message); select the post it
    returns when ``select``."""
    result = page.run(action, ok_text, **kwargs)
    if result is not None and select and getattr(result, "id", None) is not None:
        st.session_state[SELECTED_KEY] = result.id
    return result


def time_inputs(prefix: str, default: datetime, *, label: str = "Date") -> None:
    """Date and time (Paris) widgets ``<prefix>_date`` / ``_time``; the service's DST message shown at once."""
    c1, c2 = st.columns(2)
    day = c1.date_input(label, value=default.date(), key=f"{prefix}_date", format="DD/MM/YYYY")
    at = c2.time_input("Heure (Paris)", value=default.time().replace(second=0, microsecond=0),
                       key=f"{prefix}_time", step=timedelta(minutes=5))
    if not isinstance(day, date) or not isinstance(at, time):
        return
    local = datetime.combine(day, at)
    if is_ambiguous(local):
        st.radio(f"Le {local:%d/%m/%Y}, {local:%H:%M} existe deux fois (passage à l'heure d'hiver) : laquelle ?",
                 [0, 1], format_func=FOLD_LABELS.__getitem__, key=f"{prefix}_fold", horizontal=True)
        return
    try:
        paris_to_utc(local)
    except ValidationError as err:
        st.warning(md_escape(message_for(err)))


def read_time(prefix: str) -> tuple[datetime, int]:
    """In a callback: the naive Paris wall-clock time and the fold chosen for a doubled hour."""
    day, at = st.session_state.get(f"{prefix}_date"), st.session_state.get(f"{prefix}_time")
    if not isinstance(day, date) or not isinstance(at, time):
        raise ValidationError(reason="date_and_time_required")
    local = datetime.combine(day, at)
    return local, int(st.session_state.get(f"{prefix}_fold", 0)) if is_ambiguous(local) else 0


def paris_naive(instant: datetime) -> datetime:
    """A UTC instant as naive Paris wall-clock time, to the minute (what the time widgets hold)."""
    return utc_to_paris(instant).replace(tzinfo=None, second=0, microsecond=0)


def default_time(now: datetime) -> datetime:
    """Default time for a new post: tomorrow at 10:00 (Paris), naive."""
    return datetime.combine(utc_to_paris(now).date() + timedelta(days=1), time(10, 0))


def day_label(day: date) -> str:
    """``"lun. 23/11"``."""
    return f"{DAYS[day.weekday()]} {day:%d/%m}"


def period_title(view: PeriodView, month: tuple[int, int] | None) -> str:
    """French title of the period shown (``month``: (year, month) for the month view)."""
    if month is not None:
        return f"{MONTHS[month[1] - 1].capitalize()} {month[0]}"
    return f"Semaine du {view.start:%d/%m/%Y} au {view.end - timedelta(days=1):%d/%m/%Y}"


def excerpt(text: str, size: int) -> str:
    """The text on one line, cut to ``size`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def account_state(entry: CalendarEntry, target: TargetView) -> str:
    """French state of one account of a post."""
    if entry.state in NOT_RELEASED or target.state is T.CANCELLED:
        return entry.label if target.state is not T.CANCELLED else target.label
    if target.state is T.PENDING:
        retry = f" (nouvel essai à {target.next_attempt:%H:%M})" if target.attempts and target.next_attempt else ""
        return "programmée" + retry
    return target.label


def per_account(entry: CalendarEntry) -> str:
    """``"demo : publiée ; x : échec"``."""
    return " ; ".join(f"{t.account} : {account_state(entry, t)}" for t in entry.targets)


def week_grid(view: PeriodView, accounts: Sequence[str], labels: dict[str, str]) -> list[dict[str, str]]:
    """One row per day (Monday to Sunday: a narrow screen never cuts the weekend off, when markets and events are
    posted), one column per account: ``"09:00 programmée"`` per post (texts in the table below)."""
    names = list(accounts) or sorted({t.account for items in view.days.values() for e in items for t in e.targets})
    rows = []
    for day in view.weeks[0]:
        row = {"Jour": day_label(day)}
        for account in names:
            cells = [f"{e.at:%H:%M} {SHORT.get(state := account_state(e, t), state)}"
                     for e in sorted(view.days.get(day, []), key=lambda x: x.at) for t in e.targets
                     if t.account == account]
            row[labels.get(account, account)] = " · ".join(cells)
        rows.append(row)
    return rows


def month_grid(view: PeriodView, month_no: int) -> list[dict[str, str]]:
    """One row per week, one column per weekday: the day and how many posts in each state."""
    rows = []
    for week in view.weeks:
        row = {}
        for day, name in zip(week, DAYS, strict=True):
            counts = Counter(SHORT.get(e.label, e.label) for e in view.days.get(day, []))
            summary = ", ".join(f"{n} {label}" for label, n in counts.items())
            mark = f"{day:%d}" if day.month == month_no else f"({day:%d/%m})"
            row[name] = f"{mark} : {summary}" if summary else mark
        rows.append(row)
    return rows


def problem(entry: CalendarEntry) -> str:
    """Why a post needs a person (hold reason, failures, à vérifier)."""
    parts = [entry.hold] if entry.hold else []
    parts += [f"{t.account} : {t.error or t.label}" for t in entry.targets if t.state in (T.FAILED, T.TO_VERIFY)]
    return " ; ".join(parts)


def entry_rows(entries: Sequence[CalendarEntry], *, with_problem: bool = False) -> list[dict[str, Any]]:
    """Rows of a post table."""
    rows = []
    for e in entries:
        row: dict[str, Any] = {"N°": e.post_id, "Date": f"{e.at:%d/%m/%Y %H:%M}", "État": e.label}
        if with_problem:
            row["À faire"] = problem(e)
        row.update({"Texte": excerpt(e.text, 90), "Par compte": per_account(e),
                    "Série": f"n° {e.recurrence_id}" if e.recurrence_id else ""})
        rows.append(row)
    return rows


def entries_table(entries: Sequence[CalendarEntry], key: str, *, empty: str, with_problem: bool = False) -> None:
    """A selectable table of posts; picking a row opens its detail."""
    if not entries:
        st.caption(empty)
        return
    ids = [e.post_id for e in entries]
    # The tick belongs to the rows it was made on: when they change (a post approved leaves « À valider »), the
    # table is a new one, so no other post shows ticked under the one opened (a click would only untick it).
    table_key = f"{key}-{hashlib.sha1(repr(ids).encode()).hexdigest()[:10]}"

    def picked() -> None:
        rows = (st.session_state.get(table_key) or {}).get("selection", {}).get("rows", [])
        if rows:
            st.session_state[SELECTED_KEY] = ids[rows[0]]

    st.dataframe(entry_rows(entries, with_problem=with_problem), hide_index=True, on_select=picked,
                 selection_mode="single-row", key=table_key, width="stretch")
