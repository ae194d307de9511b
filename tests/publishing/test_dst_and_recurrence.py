"""Paris time across daylight-saving changes, and recurring posts with exceptions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from core.errors import ValidationError
from core.models import DraftState, Platform, TargetState
from core.repo import posts as posts_repo
from services.editorial import calendar, calendar_time, calendar_views, recurrence
from services.publishing.posts import Publisher
from tests.french import raises_fr
from tests.publishing.conftest import POLICY
from tests.publishing.fakes import FakeClock, FakePlatform

S, T = DraftState, TargetState


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_missing_march_hour_is_refused_with_a_clear_message():
    with raises_fr(ValidationError, "n'existe pas le 29/03/2026"):
        calendar_time.paris_to_utc(datetime(2026, 3, 29, 2, 30))
    assert calendar_time.paris_to_utc(datetime(2026, 3, 29, 3, 0)) == utc("2026-03-29T01:00")
    assert calendar_time.paris_to_utc(datetime(2026, 3, 29, 1, 59)) == utc("2026-03-29T00:59")


def test_the_doubled_october_hour_means_the_first_one_unless_asked():
    assert calendar_time.is_ambiguous(datetime(2026, 10, 25, 2, 30))
    assert calendar_time.paris_to_utc(datetime(2026, 10, 25, 2, 30)) == utc("2026-10-25T00:30")
    assert calendar_time.paris_to_utc(datetime(2026, 10, 25, 2, 30), fold=1) == utc("2026-10-25T01:30")
    assert not calendar_time.is_ambiguous(datetime(2026, 10, 25, 3, 30))


def test_a_post_in_the_missing_hour_is_refused_by_the_calendar(db, agents):
    now = utc("2026-03-20T08:00")
    with raises_fr(ValidationError, "heure d'été"):
        calendar.create_post(db, agents["julie"], text="Marché", accounts=["x"], at=datetime(2026, 3, 29, 2, 15),
                             now=now)
    second = calendar.create_post(db, agents["julie"], text="Marché", accounts=["x"],
                                  at=datetime(2026, 10, 25, 2, 15), now=now, fold=1)
    assert second.scheduled_at == utc("2026-10-25T01:15")


def test_paris_days_are_23_and_25_hours_long_on_dst_sundays():
    start, end = calendar_time.paris_day_bounds(date(2026, 3, 29))
    assert end - start == timedelta(hours=23)
    start, end = calendar_time.paris_day_bounds(date(2026, 10, 25))
    assert end - start == timedelta(hours=25)


def test_week_view_puts_late_evening_posts_on_their_paris_day(db, agents):
    now = utc("2026-10-20T08:00")
    post = calendar.create_post(db, agents["julie"], text="Nuit des étoiles", accounts=["x"],
                                at=datetime(2026, 10, 25, 23, 30), now=now)  # 22:30 UTC, CET
    week = calendar_views.week(db, date(2026, 10, 25))
    assert [e.post_id for e in week.days[date(2026, 10, 25)]] == [post.id]
    assert week.days[date(2026, 10, 25)][0].at.hour == 23


def test_recurring_times_keep_their_wall_clock_hour_across_dst():
    assert calendar_time.occurrence_utc(date(2026, 3, 23), time(9)) == utc("2026-03-23T08:00")
    assert calendar_time.occurrence_utc(date(2026, 3, 30), time(9)) == utc("2026-03-30T07:00")
    # the missing hour: the occurrence of that one day goes out at 03:30 summer time (never skipped)
    assert calendar_time.occurrence_utc(date(2026, 3, 29), time(2, 30)) == utc("2026-03-29T01:30")
    assert calendar_time.occurrence_utc(date(2026, 10, 25), time(2, 30)) == utc("2026-10-25T00:30")


def rule_for(db, agents, now, **kwargs):
    args = {"text": "Collecte des encombrants ce lundi : sortez-les la veille au soir.", "accounts": ["a"],
            "freq": "weekly", "weekdays": [0], "local_time": "09:00", "start_date": date(2026, 3, 16),
            "platforms": {"a": Platform.DEMO}, **kwargs}
    rule = recurrence.create_recurrence(db, agents["julie"], now=now, **args)
    recurrence.submit_recurrence(db, agents["julie"], rule.id, now=now)
    return recurrence.approve_recurrence(db, agents["sophie"], rule.id, now=now, horizon=timedelta(days=22),
                                         policy=POLICY)


def occurrences(db, rule_id):
    posts = posts_repo.posts_between(db, utc("2026-01-01T00:00"), utc("2027-01-01T00:00"))
    return [p for p in posts if p.recurrence_id == rule_id]


def test_every_monday_at_nine_across_the_march_change(db, agents):
    now = utc("2026-03-15T12:00")
    rule = rule_for(db, agents, now)
    assert recurrence.describe(rule) == "chaque semaine le lundi à 09:00"
    posts = occurrences(db, rule.id)
    assert [p.scheduled_at for p in posts] == [utc("2026-03-16T08:00"), utc("2026-03-23T08:00"),
                                               utc("2026-03-30T07:00"), utc("2026-04-06T07:00")]
    assert all(p.state is S.SCHEDULED and p.approver_id == agents["sophie"].id for p in posts)
    assert recurrence.materialize(db, now=now, horizon=timedelta(days=22), policy=POLICY) == []  # idempotent


def test_exceptions_and_cancelled_occurrences_are_not_recreated(db, agents):
    now = utc("2026-03-15T12:00")
    rule = rule_for(db, agents, now, exceptions=[date(2026, 3, 23)])
    assert date(2026, 3, 23) not in [p.occurrence_date for p in occurrences(db, rule.id)]
    recurrence.add_exception(db, agents["julie"], rule.id, date(2026, 3, 30), now=now)
    by_day = {p.occurrence_date: p for p in occurrences(db, rule.id)}
    assert by_day[date(2026, 3, 30)].state is S.CANCELLED
    calendar.cancel_post(db, agents["julie"], by_day[date(2026, 4, 6)].id, now=now)
    later = now + timedelta(days=1)
    recurrence.materialize(db, now=later, horizon=timedelta(days=28), policy=POLICY)
    live = [p.occurrence_date for p in occurrences(db, rule.id) if p.state is not S.CANCELLED]
    assert live == [date(2026, 3, 16), date(2026, 4, 13)]


def test_editing_the_rule_replaces_untouched_future_occurrences_after_approval(db, agents):
    now = utc("2026-03-15T12:00")
    rule = rule_for(db, agents, now)
    first = occurrences(db, rule.id)
    detached = calendar.edit_post(db, agents["julie"], first[1].id, text="Exceptionnellement mardi.", now=now)
    assert detached.state is S.SUBMITTED
    edited = recurrence.edit_recurrence(db, agents["julie"], rule.id, text="Encombrants : nouveau texte.", now=now)
    assert edited.state is S.SUBMITTED and edited.revision == 2
    assert [p.state for p in occurrences(db, rule.id)] == [S.CANCELLED, S.SUBMITTED, S.CANCELLED, S.CANCELLED]
    recurrence.approve_recurrence(db, agents["sophie"], rule.id, now=now, horizon=timedelta(days=22), policy=POLICY)
    live = [(p.occurrence_date, p.text) for p in occurrences(db, rule.id) if p.state is S.SCHEDULED]
    assert live == [(date(2026, 3, 16), "Encombrants : nouveau texte."),
                    (date(2026, 3, 30), "Encombrants : nouveau texte."),
                    (date(2026, 4, 6), "Encombrants : nouveau texte.")]


def test_the_worker_publishes_an_occurrence_once(db, agents):
    now = utc("2026-03-15T12:00")
    rule = rule_for(db, agents, now)
    clock = FakeClock(utc("2026-03-16T08:00"))
    account = FakePlatform(clock=clock, name="a")
    publisher = Publisher(db, {"a": account}, clock=clock, policy=POLICY)
    publisher.tick()
    clock.advance(seconds=15)
    publisher.tick()
    assert [p.text for p in account.posts] == [rule.text]
    assert occurrences(db, rule.id)[0].targets[0].state is T.SENT
