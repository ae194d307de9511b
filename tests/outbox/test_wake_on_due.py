"""Wake-on-due: the engine says when the worker is next needed (next post, next reply, next retry or lookup, a claim
becoming stale, an outcome to write again), the worker job sleeps until then (at most ``PARVIS_PUBLISH_TICK_S``)
and is woken early when another connection commits. No timing assertions: times are simulated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.demo.connector import DemoConnector
from console import worker
from console.bench.publishing import run as bench
from console.jobs import publishing as publishing_jobs
from core.config import Settings
from core.db import open_db
from core.models import Platform
from services.editorial import calendar, post_review
from services.inbox import replies
from services.outbox.runner import IDLE_FLOOR, PassReport, Runner, kinds
from tests.conftest import make_mention
from tests.publishing.conftest import POLICY, T0
from tests.publishing.fakes import FakeClock, FakePlatform, SimulatedCrash
from tests.publishing.reply_fakes import FakeReplyPlatform


def _post(db, agents, clock, *, at, text="Collecte des encombrants lundi."):
    post = calendar.create_post(db, agents["julie"], text=text, accounts=["fake"], at=at, now=clock(),
                                platforms={"fake": Platform.DEMO})
    post_review.submit_post(db, agents["julie"], post.id, now=clock())
    return post_review.approve_post(db, agents["sophie"], post.id, now=clock(), policy=POLICY)


def _runner(db, clock, platform=None, reply_platform=None):
    return Runner(db, kinds({"fake": platform} if platform else {}, lambda _d: reply_platform, lambda _m: None),
                  clock=clock, policy=POLICY, worker_id="w", max_sleep=timedelta(seconds=60))


def test_the_next_wake_is_the_next_post_bounded_by_the_longest_sleep(db, agents):
    clock = FakeClock(T0 - timedelta(hours=1))
    platform = FakePlatform(clock=clock)
    runner = _runner(db, clock, platform)
    assert runner.engine.next_due() is None
    assert runner.next_wake(runner.run_pass()) == clock() + timedelta(seconds=60)  # nothing due: bounded sleep
    _post(db, agents, clock, at=T0)
    assert runner.engine.next_due() == T0
    clock.now = T0 - timedelta(seconds=20)
    assert runner.next_wake() == T0
    clock.now = T0
    report = runner.run_pass()
    assert report.posts.published == 1 and runner.engine.next_due() is None


def test_a_retry_is_a_wake_time(db, agents):
    clock = FakeClock(T0 - timedelta(hours=1))
    platform = FakePlatform(clock=clock, script=["rate"])
    _post(db, agents, clock, at=T0)
    runner = _runner(db, clock, platform)
    clock.now = T0
    runner.run_pass()
    retry_at = runner.engine.next_due()
    assert T0 + timedelta(seconds=2.5) <= retry_at <= T0 + timedelta(seconds=5)  # the backoff, not a tick


def test_a_claim_left_by_a_dead_worker_is_a_wake_time_once_stale(db, agents):
    clock = FakeClock(T0 - timedelta(hours=1))
    platform = FakePlatform(clock=clock)
    _post(db, agents, clock, at=T0)

    def crash(point):
        if point == "claimed":
            raise SimulatedCrash(point)

    clock.now = T0
    dead = Runner(db, kinds({"fake": platform}, lambda _d: None, lambda _m: None), clock=clock, policy=POLICY,
                  worker_id="dead", hook=crash)
    with pytest.raises(SimulatedCrash):
        dead.run_pass()
    assert _runner(db, clock, platform).engine.next_due() == T0 + POLICY.stale_after


def test_a_scheduled_reply_is_a_wake_time(db, agents, now):
    clock = FakeClock(T0 - timedelta(hours=1))
    mention = make_mention("Quand passe la collecte ?", pid="m1", created_at=T0 - timedelta(hours=2))
    from core import repo

    repo.upsert_mentions(db, [mention], now=clock())
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, now=clock(),
                                 body="Bonjour, mardi matin.")
    replies.schedule(db, agents["julie"], draft.id, at=T0 + timedelta(minutes=3), now=clock())
    runner = _runner(db, clock, reply_platform=FakeReplyPlatform(clock=clock))
    assert runner.engine.next_due() == T0 + timedelta(minutes=3)


def test_a_pass_that_changed_nothing_never_spins():
    class Stuck:
        def next_due(self):
            return clock()

    clock = FakeClock(T0)
    runner = Runner.__new__(Runner)
    runner.engine, runner.clock, runner.max_sleep, runner.db = Stuck(), clock, timedelta(seconds=60), None
    assert runner.next_wake(PassReport()) == T0 + IDLE_FLOOR
    report = PassReport()
    report.posts.published = 1
    assert runner.next_wake(report) == T0  # progress: straight on


def test_the_worker_job_wakes_when_another_connection_commits(db, db_path, agents, monkeypatch):
    settings = Settings(data_dir=db_path.parent, db_path=db_path, values={"PARVIS_DEMO": "0"})
    monkeypatch.setattr(publishing_jobs, "_CONNECTORS", {"fake": DemoConnector(clock=lambda: T0)})
    job = publishing_jobs.OutboxJob(settings)
    now = T0 - timedelta(hours=1)
    try:
        job(settings, now)  # nothing due: sleep the longest
        assert job.seconds_until_due(now) == pytest.approx(60, abs=1)
        assert job.seconds_until_due(now) == pytest.approx(60, abs=1)  # no commit elsewhere: nothing recomputed
        clock = FakeClock(now)
        _post(db, agents, clock, at=now + timedelta(seconds=10))  # the console approves a post due in 10 s
        assert job.seconds_until_due(now) == pytest.approx(10, abs=1)
    finally:
        job.close()


def test_the_worker_loop_runs_the_job_when_due(db, db_path, agents):
    calls = []

    class Job:
        def __init__(self):
            self.due = 0.0

        def __call__(self, settings, now):
            calls.append(now)
            self.due = 30.0

        def seconds_until_due(self, now):
            return self.due

    settings = Settings(data_dir=db_path.parent, db_path=db_path, values={"PARVIS_DEMO": "0"})
    job = Job()
    listed = worker.Job("publish", 60, lambda: job(settings, T0), due=job.seconds_until_due)
    assert worker.run_due([listed], lambda: T0) == 1.0  # capped by the loop's turn
    assert len(calls) == 1
    job.due = 0.25
    assert worker.run_due([listed], lambda: T0) == 0.25 and len(calls) == 1


def test_the_bench_publishes_each_post_once_on_time_in_simulated_time():
    result = bench(posts=30, window_s=120, fault_rate=0.2, accounts=2, late_share=0.3)
    assert result["duplicates"] == 0 and result["lost"] == 0 and result["mode"] == "wake on due"
    fixed = bench(posts=10, window_s=60, fixed_tick=True, tick_s=15)
    assert fixed["duplicates"] == 0 and fixed["lost"] == 0 and fixed["mode"] == "fixed tick"


def test_open_db_connections_see_data_version(db_path, db):
    other = open_db(db_path)
    try:
        before = other.execute("PRAGMA data_version").fetchone()[0]
        db.execute("CREATE TABLE scratch (x)")
        assert other.execute("PRAGMA data_version").fetchone()[0] != before
    finally:
        other.close()
