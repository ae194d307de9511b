"""Dashboard aggregations on hand-built data, checked against figures computed by hand.

Calendar used (default opening hours lun-ven 09:00-18:00, target 4 h, Europe/Paris):
- 2026-03-29 (Sunday): summer time starts (UTC+1 -> UTC+2);
- 2026-04-06: Lundi de Pâques (public holiday).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest

from core import repo
from core.models import Status
from core.repo import stats as stats_repo
from services.reports.dashboard import DashboardConfig, DashboardFilters, load_dashboard, parse_services, to_csv
from tests.dashboard.conftest import NOW, SINCE, UNTIL, add_mention, add_reply, paris


def dash(db, **filters):
    return load_dashboard(db, DashboardFilters(since=SINCE, until=UNTIL, **filters), DashboardConfig(),
                          now=NOW.astimezone(UTC))


def test_response_times_count_opening_hours_across_weekend_holiday_and_dst(city):
    d = dash(city)
    assert d.totals["answered"] == 5
    assert d.totals["mentions"] == 21
    # overall business hours: [0, 0.5, 2, 2.5, 13]
    assert d.totals["median_h"] == 2.0
    assert d.totals["p90_h"] == pytest.approx(8.8)
    assert d.totals["within_target"] == 0.8
    by_channel = {r["channel"]: r for r in d.response_by_channel}
    assert by_channel["x"]["answered"] == 3
    assert by_channel["x"]["median_h"] == 2.0  # [0, 2, 2.5]
    assert by_channel["x"]["p90_h"] == pytest.approx(2.4)
    assert by_channel["facebook"]["median_h"] == 6.75  # [0.5, 13]
    assert by_channel["facebook"]["within_target"] == 0.5
    # wall clock for the weekend + DST case is 64 h: the median of wall-clock times for X is 3 h (3, 2.5, 64)
    assert by_channel["x"]["median_wall_h"] == 3.0


def test_response_times_per_agent_use_the_first_reply_author_else_the_assignee(city):
    by_agent = {r["agent"]: r for r in dash(city).response_by_agent}
    assert by_agent["Julie Martin"]["answered"] == 2
    assert by_agent["Julie Martin"]["median_h"] == 2.25  # [2, 2.5]
    assert by_agent["Karim Benali"]["answered"] == 2  # draft (13 h) + assignee who marked answered (0 h)
    assert by_agent["Karim Benali"]["p90_h"] == pytest.approx(11.7)
    assert by_agent["Non attribué"]["median_h"] == 0.5
    assert list(by_agent)[-1] == "Non attribué"


def test_volume_per_paris_day_and_channel_and_share_answered(city):
    d = dash(city)
    volume = {(r["day"], r["channel"]): r["mentions"] for r in d.volume}
    assert volume[(date(2026, 3, 30), "x")] == 1  # 00:30 Paris, 22:30 UTC the day before
    assert (date(2026, 3, 29), "x") not in volume
    assert volume[(date(2026, 4, 8), "x")] == 13
    channels = {r["channel"]: r for r in d.answered_by_channel}
    assert channels["facebook"] == {"channel": "facebook", "mentions": 3, "answered": 2, "share_answered": 0.6667}
    assert channels["x"]["mentions"] == 18 and channels["x"]["answered"] == 3
    assert d.totals["share_answered"] == round(5 / 21, 4)
    assert len(d.days) == 19 and d.days[0]["day"] == date(2026, 3, 23)


def test_sentiment_risk_and_crisis(city):
    d = dash(city)
    sentiment = {(r["day"], r["sentiment"]): r["mentions"] for r in d.sentiment}
    assert sentiment[(date(2026, 4, 8), "negative")] == 13
    assert sentiment[(date(2026, 4, 1), "unknown")] == 1
    risk = {(r["day"], r["kind"]): r["mentions"] for r in d.risk}
    assert risk == {(date(2026, 3, 27), "insult"): 1, (date(2026, 4, 1), "personal_data"): 1,
                    (date(2026, 4, 8), "threat"): 12}
    assert len(d.crises) == 1
    crisis = d.crises[0]
    assert crisis["start"] == paris(2026, 4, 8, 14).astimezone(UTC)
    assert crisis["alerts"] == 12 and crisis["threshold"] == 10
    assert [r["day"] for r in d.days if r["crisis"]] == [date(2026, 4, 8)]


def test_backlog_by_status_and_age_with_overdue_in_opening_hours(city):
    rows = {(r["status"], r["age"]): r for r in dash(city).backlog}
    # 13 "new" since Wednesday afternoon: 44-46 h wall clock, 15-16 business hours -> all overdue
    assert rows[("new", "1-3 j")]["mentions"] == 13
    assert rows[("new", "1-3 j")]["overdue"] == 13
    # assigned one hour ago: not overdue
    assert rows[("assigned", "< 4 h")] == {"status": "assigned", "age": "< 4 h", "mentions": 1, "overdue": 0}
    # older than a week: "Vieux message" (before the window) and "Bruit la nuit" wait for a response (overdue);
    # three more got a reply sent but nobody changed their status (open, not overdue)
    assert rows[("new", "> 7 j")] == {"status": "new", "age": "> 7 j", "mentions": 5, "overdue": 2}


def test_backlog_counts_old_open_items_per_day(city):
    for day in (1, 1, 2):  # open since early March (before the window): counted per day, all overdue
        add_mention(city, "Jamais traité", paris(2026, 3, day, 10))
    add_mention(city, "Il y a 7 jours et demi", paris(2026, 4, 2, 23))
    rows = {(r["status"], r["age"]): r for r in dash(city).backlog}
    # 4 more older than a week: 3 from March (counted per day) + one 7.5 days old (counted one by one)
    assert rows[("new", "> 7 j")] == {"status": "new", "age": "> 7 j", "mentions": 9, "overdue": 6}
    assert rows[("new", "1-3 j")]["mentions"] == 13


def test_filters_by_channel_tag_and_service(city):
    x_only = dash(city, platforms=("x",))
    assert x_only.totals["mentions"] == 18 and x_only.totals["answered"] == 3
    tagged = dash(city, tags=("piscine",))
    assert tagged.totals["mentions"] == 2 and tagged.totals["median_h"] == 1.25  # [0, 2.5]
    config = DashboardConfig(services=parse_services("Voirie=voirie,nids-de-poule"))
    voirie = load_dashboard(city, DashboardFilters(since=SINCE, until=UNTIL, service="Voirie"), config,
                            now=NOW.astimezone(UTC))
    assert voirie.totals["mentions"] == 1 and voirie.totals["median_h"] == 2.0
    assert [r["kind"] for r in voirie.risk] == ["insult"]


def test_rollups_match_the_plain_queries_after_updates_and_deletes(city, agents):
    scope = stats_repo.StatsScope(since=SINCE - timedelta(days=40), until=UNTIL + timedelta(days=1))

    def same():
        assert sorted(stats_repo.hourly(city, scope, rollup=True)) == sorted(stats_repo.hourly(city, scope,
                                                                                               rollup=False))
        assert sorted(stats_repo.hourly_risk(city, scope, rollup=True)) == sorted(
            stats_repo.hourly_risk(city, scope, rollup=False))
        assert sorted(stats_repo.responses(city, scope)) == sorted(stats_repo.responses(city, scope, plain=True))

    same()
    uid = add_mention(city, "à supprimer", paris(2026, 4, 3, 10), sentiment="negative", flags=("spam", "threat"))
    same()
    repo.update_scores(city, uid, repo.Scores(sentiment="neutral", risk_flags=({"kind": "insult"},)))
    same()
    repo.set_assignee(city, uid, agents["karim"].id, now=paris(2026, 4, 3, 11))
    repo.set_status(city, uid, Status.ANSWERED, now=paris(2026, 4, 3, 12))
    same()
    add_reply(city, uid, agents["julie"], paris(2026, 4, 3, 13))  # a later reply: Julie becomes the responder
    assert [r[4] for r in stats_repo.responses(city, scope) if r[0] == int(paris(2026, 4, 3, 10).timestamp())] \
        == [agents["julie"].id]
    same()
    city.execute("DELETE FROM drafts WHERE mention_uid = ?", (uid,))
    city.execute("DELETE FROM mentions WHERE uid = ?", (uid,))
    assert not city.execute("SELECT 1 FROM first_responses WHERE mention_uid = ?", (uid,)).fetchall()
    same()
    stats_repo.rebuild_rollups(city)
    same()


def test_csv_download_of_each_chart(city):
    tables = dash(city).tables()
    assert set(tables) >= {"volume", "delais_par_canal", "delais_par_agent", "backlog", "sentiment", "risques"}
    text = to_csv(tables["delais_par_canal"])
    assert text.splitlines()[0] == "channel,answered,median_h,p90_h,within_target,median_wall_h"
    assert "facebook,2,6.75,11.75,0.5," in text
    assert to_csv([]) == ""


def test_filter_choices_and_default_period(city):
    from services.reports.dashboard import default_period, filter_choices

    choices = filter_choices(city)
    assert choices["platforms"] == ["facebook", "x"] and choices["tags"] == ["piscine", "voirie"]
    since, until = default_period(NOW.astimezone(UTC))
    assert since == paris(2026, 3, 12).astimezone(UTC) and until == paris(2026, 4, 11).astimezone(UTC)
