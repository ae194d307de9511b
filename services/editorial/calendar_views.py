"""Read models for the "Calendrier" page: week and month views per account, the queue, a post's detail and
the actions a person may take on it. Days are Paris calendar days (23 or 25 hours long on DST Sundays).
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core.models import DraftState, Platform, Post, TargetState
from core.repo import posts as posts_repo
from services.editorial import revisions
from services.editorial.calendar_time import paris_day_bounds, utc_to_paris

S, T = DraftState, TargetState
POST_STATE_FR = {
    S.DRAFT: "brouillon", S.SUBMITTED: "soumise à validation", S.CHANGES_REQUESTED: "modifications demandées",
    S.APPROVED: "validée", S.SCHEDULED: "programmée", S.PUBLISHING: "publication en cours", S.SENT: "publiée",
    S.FAILED: "échec", S.CANCELLED: "annulée", S.TO_VERIFY: "à vérifier",
}
TARGET_STATE_FR = {
    T.PENDING: "en attente", T.PUBLISHING: "publication en cours", T.HANDED_OFF: "programmée sur la plateforme",
    T.SENT: "publiée", T.FAILED: "échec", T.TO_VERIFY: "à vérifier", T.CANCELLED: "annulée",
}
HOLD_FR = {"late": "non publiée à l'heure (worker arrêté au-delà du délai de grâce) : choisissez une nouvelle heure",
           "approved_late": "validée après l'heure prévue : choisissez une nouvelle heure"}
ATTENTION = (S.FAILED, S.TO_VERIFY)
UPCOMING = (S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED, S.PUBLISHING)


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetView:
    """One account of a post as the calendar shows it."""

    account: str
    platform: Platform
    state: TargetState
    label: str
    permalink: str | None = None
    error: str = ""
    attempts: int = 0
    next_attempt: datetime | None = None  # Paris time


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarEntry:
    """A post in a calendar cell or the queue (times in Paris)."""

    post_id: int
    at: datetime
    text: str
    state: DraftState
    label: str
    targets: tuple[TargetView, ...]
    hold: str = ""
    recurrence_id: int | None = None
    author_id: int = 0
    actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodView:
    """Entries per Paris day over a week or a month grid (``weeks``: rows of 7 days, Monday first)."""

    start: date
    end: date  # exclusive
    days: dict[date, list[CalendarEntry]] = field(default_factory=dict)
    weeks: tuple[tuple[date, ...], ...] = ()


def actions_for(post: Post) -> tuple[str, ...]:
    """Buttons the page may show (the services still enforce roles and rules)."""
    started = any(t.state not in (T.PENDING, T.CANCELLED, T.FAILED) for t in post.targets)
    out: list[str] = ["duplicate"]
    if post.state in (S.DRAFT, S.CHANGES_REQUESTED):
        out += ["edit", "submit", "reschedule", "cancel"]
    elif post.state is S.SUBMITTED:
        out += ["edit", "approve", "request_changes", "reschedule", "cancel"]
    elif post.state in (S.APPROVED, S.SCHEDULED) and not started:
        out += ["edit", "reschedule", "cancel"]
    if any(t.state is T.HANDED_OFF for t in post.targets):
        out.append("cancel")
    if any(t.state is T.FAILED for t in post.targets):
        out += ["retry", "cancel"] + ([] if started else ["edit", "reschedule"])
    if any(t.state is T.TO_VERIFY for t in post.targets):
        out.append("verify")
    return tuple(dict.fromkeys(out))


def entry(post: Post) -> CalendarEntry:
    """A post as a calendar entry."""
    targets = tuple(TargetView(account=t.account, platform=t.platform, state=t.state, label=TARGET_STATE_FR[t.state],
                               permalink=t.permalink, error=t.error, attempts=t.attempts,
                               next_attempt=utc_to_paris(t.not_before) if t.not_before and t.state is T.PENDING
                               else None) for t in post.targets)
    label = POST_STATE_FR[post.state]
    if post.state is S.APPROVED and post.hold_reason:
        label = "validée — en attente d'une nouvelle heure"
    return CalendarEntry(post_id=post.id, at=utc_to_paris(post.scheduled_at), text=post.text, state=post.state,
                         label=label, targets=targets, hold=HOLD_FR.get(post.hold_reason, ""),
                         recurrence_id=post.recurrence_id, author_id=post.author_id, actions=actions_for(post))


def _period(db: Database, start: date, end: date, accounts: Sequence[str], include_cancelled: bool) -> PeriodView:
    lo, _ = paris_day_bounds(start)
    hi, _ = paris_day_bounds(end)
    days: dict[date, list[CalendarEntry]] = {start + timedelta(days=i): [] for i in range((end - start).days)}
    for post in posts_repo.posts_between(db, lo, hi, accounts=accounts):
        if post.state is S.CANCELLED and not include_cancelled:
            continue
        item = entry(post)
        days.setdefault(item.at.date(), []).append(item)
    weeks = tuple(tuple(start + timedelta(days=w * 7 + d) for d in range(7)) for w in range((end - start).days // 7))
    return PeriodView(start=start, end=end, days=days, weeks=weeks)


def week(db: Database, day: date, *, accounts: Sequence[str] = (), include_cancelled: bool = False) -> PeriodView:
    """The Monday-to-Sunday week containing ``day`` (Paris days)."""
    monday = day - timedelta(days=day.weekday())
    return _period(db, monday, monday + timedelta(days=7), accounts, include_cancelled)


def month(db: Database, year: int, month_no: int, *, accounts: Sequence[str] = (),
          include_cancelled: bool = False) -> PeriodView:
    """A month as full weeks (Monday before the 1st to Sunday after the last day)."""
    first = date(year, month_no, 1)
    last = date(year, month_no, _cal.monthrange(year, month_no)[1])
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=7 - last.weekday())
    return _period(db, start, end, accounts, include_cancelled)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueView:
    """What needs a person (failed, à vérifier, held) and what is coming, by time."""

    attention: tuple[CalendarEntry, ...]
    upcoming: tuple[CalendarEntry, ...]


def queue(db: Database, *, now: datetime, accounts: Sequence[str] = (), limit: int = 200) -> QueueView:
    """The queue list: problems first (any date), then upcoming posts from ``now``."""
    def keep(post: Post) -> bool:
        return not accounts or bool(set(post.accounts) & set(accounts))

    problems = [p for p in posts_repo.posts_in_states(db, [*ATTENTION, S.APPROVED], limit=limit)
                if keep(p) and (p.state in ATTENTION or p.hold_reason)]
    coming = [p for p in posts_repo.posts_in_states(db, UPCOMING, since=now - timedelta(hours=1), limit=limit)
              if keep(p) and not (p.state is S.APPROVED and p.hold_reason)]
    return QueueView(attention=tuple(entry(p) for p in problems), upcoming=tuple(entry(p) for p in coming))


def detail(db: Database, post_id: int) -> dict[str, Any]:
    """A post, its calendar entry, the attempts log per account, its revisions with their editors and the ids of
    everyone who wrote or edited it (who may not approve it), for the detail panel."""
    post = posts_repo.get_post(db, post_id)
    return {"post": post, "entry": entry(post),
            "attempts": {t.account: posts_repo.attempts_for(db, t.id) for t in post.targets},
            "revisions": revisions.history(db, "post", post_id), "editors": revisions.editors(db, "post", post_id)}
