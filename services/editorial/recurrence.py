"""Recurring posts ("collecte des encombrants" every Monday at 9:00) with exceptions.

A rule is written, submitted and approved once (four eyes, like a post); the worker then materialises its
occurrences as ordinary scheduled posts ``horizon`` days ahead (default 14), each approved by the rule's approver
with the rule's content. Nobody approves a rule they wrote or edited (:mod:`services.editorial.revisions`), and
community managers edit only their own rules. Skipping one date adds an exception (cancelling one occurrence
does the same). Editing one occurrence detaches it (it needs its own approval). Editing the rule sends it back
to approval and cancels its future occurrences that were not edited one by one and have not started; they are
re-created from the new version once approved. Times are Paris wall-clock times; see
:func:`services.editorial.calendar_time.occurrence_utc` for the two daylight-saving days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core import audit
from core.db import write_transaction
from core.errors import ValidationError
from core.models import Agent, DraftState, Platform, Recurrence, TargetState
from core.repo import editorial_revisions as revisions_repo
from core.repo import posts as posts_repo
from core.repo import recurrence as recurrence_repo
from editorial.workflow import Action as Flow
from editorial.workflow import next_state
from services.accounts.permissions import Action, require, require_owner_or
from services.editorial import revisions
from services.editorial.calendar import _check_content, _clean_media, resolve_accounts
from services.editorial.calendar_time import occurrence_utc, parse_hhmm, utc_to_paris
from services.editorial.post_review import release
from services.publishing.content import DEFAULT_POLICY, PublishPolicy, content_hash

S = DraftState
DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DEFAULT_HORIZON = timedelta(days=14)


def subject(rule_id: int) -> str:
    """Audit subject of a recurring rule."""
    return f"recurrence:{rule_id}"


def describe(rule: Recurrence) -> str:
    """The rule in French, e.g. "chaque semaine le lundi à 09:00"."""
    if rule.freq == "daily":
        base = "chaque jour" if rule.every == 1 else f"tous les {rule.every} jours"
    else:
        days = ", ".join(DAYS_FR[d] for d in rule.weekdays)
        base = ("chaque semaine" if rule.every == 1 else f"toutes les {rule.every} semaines") + f" le {days}"
    return f"{base} à {rule.local_time}"


def _rule_spec(freq: str, every: int, weekdays: Sequence[int], local_time: str) -> tuple[str, tuple[int, ...]]:
    if freq not in ("daily", "weekly"):
        raise ValidationError(reason="recurrence_freq_unknown", freq=freq)
    if every < 1:
        raise ValidationError(reason="recurrence_interval_too_small")
    days = tuple(sorted(set(weekdays)))
    if freq == "weekly" and (not days or any(d not in range(7) for d in days)):
        raise ValidationError(reason="recurrence_no_weekday")
    t = parse_hhmm(local_time)
    return f"{t:%H:%M}", days


def _hash(rule: Recurrence) -> str:
    return content_hash(text=rule.text, variants=rule.variants, media=rule.media, accounts=rule.accounts,
                        native_schedule=rule.native_schedule)


def _require_owner(agent: Agent, rule: Recurrence) -> None:
    require_owner_or(agent, rule.author_id, Action.POST_EDIT_ANY, base=Action.POST_CREATE)


def create_recurrence(db: Database, agent: Agent, *, text: str, accounts: Sequence[str], freq: str, local_time: str,
                      start_date: date, now: datetime, every: int = 1, weekdays: Sequence[int] = (),
                      until_date: date | None = None, exceptions: Sequence[date] = (),
                      variants: Mapping[str, str] | None = None, media: Sequence[Mapping[str, Any]] = (),
                      native_schedule: bool = False, platforms: Mapping[str, Platform] | None = None) -> Recurrence:
    """Write a recurring rule as a draft (to submit, then approve)."""
    require(agent, Action.POST_CREATE)
    targets = resolve_accounts(accounts, platforms)
    clean, variants = _clean_media(media), {k: v for k, v in (variants or {}).items() if v.strip()}
    _check_content(text, targets, variants, clean)
    hhmm, days = _rule_spec(freq, every, weekdays, local_time)
    if until_date is not None and until_date < start_date:
        raise ValidationError(reason="recurrence_ends_before_start")
    digest = content_hash(text=text.strip(), variants=variants, media=clean, accounts=[a for a, _ in targets],
                          native_schedule=native_schedule)
    with write_transaction(db):
        rule_id = recurrence_repo.insert(db, author_id=agent.id, text=text.strip(), targets=targets, freq=freq,
                                         every=every, weekdays=days, local_time=hhmm, start_date=start_date,
                                         until_date=until_date, exceptions=exceptions, variants=variants, media=clean,
                                         native_schedule=native_schedule, state=S.DRAFT, content_hash=digest, now=now)
        rule = recurrence_repo.get(db, rule_id)
        revisions_repo.add(db, "recurrence", rule_id, editor_id=agent.id, origin="created",
                           content_hash=rule.content_hash, revision=rule.revision, now=now)
        audit.record(db, audit.RecurrenceCreated(actor=agent.email, role=str(agent.role), subject=subject(rule_id),
                                                 recurrence_id=rule_id, text=rule.text, accounts=rule.accounts,
                                                 rule=describe(rule)), at=now)
    return rule


def edit_recurrence(db: Database, agent: Agent, rule_id: int, *, now: datetime, text: str | None = None,
                    local_time: str | None = None, weekdays: Sequence[int] | None = None,
                    until_date: date | None = None, variants: Mapping[str, str] | None = None) -> Recurrence:
    """Change a rule; it goes back to approval (its editor may not approve it) and its untouched future
    occurrences are withdrawn."""
    require(agent, Action.POST_CREATE)
    with write_transaction(db):
        rule = recurrence_repo.get(db, rule_id)
        _require_owner(agent, rule)
        state = next_state(rule.state, Flow.EDIT, needs_approval=True)
        hhmm, days = _rule_spec(rule.freq, rule.every, rule.weekdays if weekdays is None else weekdays,
                                local_time or rule.local_time)
        changes: dict[str, Any] = {"local_time": hhmm, "weekdays": list(days), "state": state,
                                   "revision": rule.revision + 1, "approved_hash": None, "approved_at": None,
                                   "approver_id": None, "materialized_until": None}
        if text is not None:
            changes["text"] = text.strip()
        if variants is not None:
            changes["variants"] = {k: v for k, v in variants.items() if v.strip()}
        if until_date is not None:
            changes["until_date"] = until_date
        recurrence_repo.update(db, rule_id, now=now, **changes)
        updated = recurrence_repo.get(db, rule_id)
        _check_content(updated.text, list(updated.platforms.items()), updated.variants, updated.media)
        recurrence_repo.update(db, rule_id, now=now, content_hash=_hash(updated))
        revisions_repo.add(db, "recurrence", rule_id, editor_id=agent.id, origin="edited",
                           content_hash=_hash(updated), revision=updated.revision, now=now)
        _withdraw_future(db, rule, now=now)
        audit.record(db, audit.RecurrenceEdited(actor=agent.email, role=str(agent.role), subject=subject(rule_id),
                                                recurrence_id=rule_id, text=updated.text, rule=describe(updated),
                                                revision=updated.revision), at=now)
    return recurrence_repo.get(db, rule_id)


def _withdraw_future(db: Database, rule: Recurrence, *, now: datetime) -> list[int]:
    """Cancel the rule's future occurrences that nobody edited and that have not started."""
    withdrawn = []
    states = [S.DRAFT, S.SUBMITTED, S.APPROVED, S.SCHEDULED]
    for post_id in recurrence_repo.future_occurrences(db, rule.id, after=now, states=states):
        post = posts_repo.get_post(db, post_id)
        if post.content_hash != rule.content_hash or any(t.state is not TargetState.PENDING for t in post.targets):
            continue
        posts_repo.update_post_targets(db, post_id, states=[TargetState.PENDING], now=now,
                                       state=TargetState.CANCELLED, not_before=None)
        posts_repo.update_post(db, post_id, state=S.CANCELLED, now=now)
        audit.record(db, audit.PostCancelled(actor=audit.SYSTEM_WORKER, subject=f"post:{post_id}", post_id=post_id,
                                             reason=f"série {rule.id} modifiée ou arrêtée"), at=now)
        withdrawn.append(post_id)
    return withdrawn


def submit_recurrence(db: Database, agent: Agent, rule_id: int, *, now: datetime) -> Recurrence:
    """Send a rule to approval."""
    require(agent, Action.POST_CREATE)
    with write_transaction(db):
        rule = recurrence_repo.get(db, rule_id)
        state = next_state(rule.state, Flow.SUBMIT, needs_approval=True)
        recurrence_repo.update(db, rule_id, now=now, state=state, submitted_at=now)
        audit.record(db, audit.RecurrenceSubmitted(actor=agent.email, role=str(agent.role), subject=subject(rule_id),
                                                   recurrence_id=rule_id, content_hash=rule.content_hash), at=now)
    return recurrence_repo.get(db, rule_id)


def approve_recurrence(db: Database, director: Agent, rule_id: int, *, now: datetime,
                       horizon: timedelta = DEFAULT_HORIZON, policy: PublishPolicy = DEFAULT_POLICY) -> Recurrence:
    """Approve a rule that one neither wrote nor edited and schedule its occurrences within ``horizon``."""
    require(director, Action.POST_APPROVE)
    with write_transaction(db):
        rule = recurrence_repo.get(db, rule_id)
        next_state(rule.state, Flow.APPROVE, needs_approval=True, author_id=rule.author_id, actor_id=director.id)
        revisions.require_not_editor(db, director, "recurrence", rule_id)
        recurrence_repo.update(db, rule_id, now=now, state=S.APPROVED, approver_id=director.id, approved_at=now,
                               approved_hash=rule.content_hash)
        audit.record(db, audit.RecurrenceApproved(actor=director.email, role=str(director.role),
                                                  subject=subject(rule_id), recurrence_id=rule_id,
                                                  approver=director.email, content_hash=rule.content_hash,
                                                  editors=revisions.editor_emails(db, "recurrence", rule_id)),
                     at=now)
    materialize(db, now=now, horizon=horizon, policy=policy, only=rule_id)
    return recurrence_repo.get(db, rule_id)


def cancel_recurrence(db: Database, agent: Agent, rule_id: int, *, now: datetime) -> Recurrence:
    """Stop a rule: no new occurrences; its untouched future ones are cancelled."""
    require(agent, Action.POST_CREATE)
    with write_transaction(db):
        rule = recurrence_repo.get(db, rule_id)
        next_state(rule.state, Flow.CANCEL, needs_approval=True)
        recurrence_repo.update(db, rule_id, now=now, state=S.CANCELLED)
        withdrawn = _withdraw_future(db, rule, now=now)
        audit.record(db, audit.RecurrenceCancelled(actor=agent.email, role=str(agent.role), subject=subject(rule_id),
                                                   recurrence_id=rule_id, cancelled_posts=tuple(withdrawn)), at=now)
    return recurrence_repo.get(db, rule_id)


def add_exception(db: Database, agent: Agent, rule_id: int, day: date, *, now: datetime) -> Recurrence:
    """Skip ``day`` (Paris date); its occurrence is cancelled if it was already scheduled and untouched."""
    require(agent, Action.POST_CREATE)
    with write_transaction(db):
        add_exception_in_tx(db, rule_id, day, actor=agent.email, role=str(agent.role), now=now)
    return recurrence_repo.get(db, rule_id)


def add_exception_in_tx(db: Database, rule_id: int, day: date, *, actor: str, role: str, now: datetime,
                        cancelled_post_id: int | None = None) -> None:
    """Record an exception date (inside the caller's transaction)."""
    rule = recurrence_repo.get(db, rule_id)
    recurrence_repo.update(db, rule_id, now=now, exceptions=sorted({*rule.exceptions, day}))
    if cancelled_post_id is None:
        for post_id in recurrence_repo.future_occurrences(db, rule_id, after=now, states=[S.SCHEDULED, S.APPROVED]):
            post = posts_repo.get_post(db, post_id)
            if post.occurrence_date == day and all(t.state is TargetState.PENDING for t in post.targets):
                posts_repo.update_post_targets(db, post_id, states=[TargetState.PENDING], now=now,
                                               state=TargetState.CANCELLED, not_before=None)
                posts_repo.update_post(db, post_id, state=S.CANCELLED, now=now)
                cancelled_post_id = post_id
    audit.record(db, audit.RecurrenceExceptionAdded(actor=actor, role=role, subject=subject(rule_id),
                                                    recurrence_id=rule_id, day=day.isoformat(),
                                                    cancelled_post_id=cancelled_post_id), at=now)


def occurrence_dates(rule: Recurrence, start: date, end: date) -> list[date]:
    """The rule's dates in ``[start, end]`` (exceptions excluded)."""
    out = []
    first_monday = rule.start_date - timedelta(days=rule.start_date.weekday())
    day = max(start, rule.start_date)
    while day <= end and (rule.until_date is None or day <= rule.until_date):
        if rule.freq == "daily":
            ok = (day - rule.start_date).days % rule.every == 0
        else:
            ok = day.weekday() in rule.weekdays and ((day - first_monday).days // 7) % rule.every == 0
        if ok and day not in rule.exceptions:
            out.append(day)
        day += timedelta(days=1)
    return out


def materialize(db: Database, *, now: datetime, horizon: timedelta = DEFAULT_HORIZON,
                policy: PublishPolicy = DEFAULT_POLICY, only: int | None = None) -> list[int]:
    """Create the scheduled posts of approved rules up to ``now + horizon``; returns the new post ids."""
    created: list[int] = []
    today = utc_to_paris(now).date()
    last = utc_to_paris(now + horizon).date()
    for rule in recurrence_repo.in_states(db, [S.APPROVED]):
        if (only is not None and rule.id != only) or rule.approved_hash != rule.content_hash:
            continue
        start = max(today, (rule.materialized_until or today - timedelta(days=1)) + timedelta(days=1))
        if start > last:
            continue
        with write_transaction(db):
            for day in occurrence_dates(rule, start, last):
                created.extend(_occurrence(db, rule, day, now=now, policy=policy))
            recurrence_repo.update(db, rule.id, now=now, materialized_until=last)
    return created


def _occurrence(db: Database, rule: Recurrence, day: date, *, now: datetime, policy: PublishPolicy) -> list[int]:
    when = occurrence_utc(day, parse_hhmm(rule.local_time))
    if when <= now + policy.native_min_lead or recurrence_repo.occurrence_taken(db, rule.id, day):
        return []
    post_id = posts_repo.insert_post(
        db, author_id=rule.author_id, text=rule.text, scheduled_at=when, state=S.APPROVED,
        content_hash=rule.content_hash, targets=list(rule.platforms.items()), now=now, variants=rule.variants,
        media=rule.media, native_schedule=rule.native_schedule, recurrence_id=rule.id,
        recurrence_revision=rule.revision, occurrence_date=day, approved_hash=rule.approved_hash,
        approver_id=rule.approver_id, submitted_at=rule.submitted_at, approved_at=rule.approved_at)
    if post_id is None:
        return []
    revisions_repo.add(db, "post", post_id, editor_id=None, origin="occurrence", content_hash=rule.content_hash,
                       source=("recurrence", rule.id), now=now)
    post = posts_repo.get_post(db, post_id)
    audit.record(db, audit.PostCreated(actor=audit.SYSTEM_WORKER, subject=f"post:{post_id}", post_id=post_id,
                                       text=post.text, accounts=post.accounts, scheduled_at=when,
                                       variants=post.variants, media=post.media, recurrence_id=rule.id), at=now)
    release(db, None, post, now=now, policy=policy)
    return [post_id]


def list_recurrences(db: Database, *, include_cancelled: bool = False) -> list[Recurrence]:
    """Recurring rules for the calendar page, oldest first (cancelled ones only if asked)."""
    states = [s for s in S if include_cancelled or s is not S.CANCELLED]
    return recurrence_repo.in_states(db, states)
