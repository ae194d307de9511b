"""Exactly once, or explicitly left for a person: crashes and platform failures injected at every step.

A "crash" is a BaseException raised from the publisher's hook points (inside and between its transactions);
the worker then restarts under a new identity on the same database, as a process would after being killed.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core import audit, repo
from core.db import open_db
from core.models import DraftState, Platform, Role, TargetState
from core.repo import posts as posts_repo
from services.editorial import calendar, post_review
from services.publishing.content import PublishPolicy
from services.publishing.posts import Publisher
from tests.publishing.fakes import FakeClock, FakePlatform, SimulatedCrash

S, T = DraftState, TargetState
T0 = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
POINTS = ("claim_txn", "claimed", "called", "record_txn", "recorded", "looked_up", "reconcile_txn")
ACTIONS = ("ok", "ok", "rate", "perm", "auth", "ambig_before", "ambig_after")
FAST = PublishPolicy(grace=timedelta(minutes=5), retry_window=timedelta(minutes=20), backoff_base_s=5,
                     backoff_max_s=60, lease_ttl=timedelta(seconds=45), stale_after=timedelta(seconds=60),
                     native_lead=timedelta(minutes=12), verify_after=timedelta(minutes=1),
                     verify_window=timedelta(minutes=10))


def world(posts_spec, accounts_spec):
    """A database with approved posts and the fake accounts they target."""
    db = open_db(":memory:")
    clock = FakeClock(T0 - timedelta(hours=2))
    julie = repo.create_agent(db, email="julie@v.fr", name="Julie M", initials="JM", role=Role.COMMUNITY_MANAGER,
                              now=clock())
    sophie = repo.create_agent(db, email="sophie@v.fr", name="Sophie L", initials="SL", role=Role.DIRECTOR,
                               now=clock())
    platforms = {name: FakePlatform(clock=clock, name=name, **spec) for name, spec in accounts_spec.items()}
    ids = []
    for i, (accounts, offset_min, native) in enumerate(posts_spec):
        post = calendar.create_post(db, julie, text=f"Annonce {i} : collecte des encombrants.", accounts=accounts,
                                    at=T0 + timedelta(minutes=offset_min), now=clock(), native_schedule=native,
                                    platforms=dict.fromkeys(accounts, Platform.DEMO))
        post_review.submit_post(db, julie, post.id, now=clock())
        post_review.approve_post(db, sophie, post.id, now=clock(), policy=FAST)
        ids.append(post.id)
    return db, clock, platforms, ids


def settled(db) -> bool:
    """Nothing is waiting on the worker any more (held posts wait on a person)."""
    counts = posts_repo.target_state_counts(db)
    if counts.get(T.PUBLISHING) or counts.get(T.HANDED_OFF):
        return False
    return not any(t.state is T.PENDING for p in posts_repo.posts_in_states(db, [S.SCHEDULED, S.PUBLISHING, S.SENT,
                                                                                 S.FAILED, S.TO_VERIFY])
                   for t in p.targets)


def run(db, clock, platforms, crashes, *, start, until, step_s=20, seed=0):
    """Tick from ``start`` to ``until``; crash where planned and restart under a new identity."""
    hits: Counter[str] = Counter()
    plan = dict(crashes)
    restarts = 0

    def hook(point: str) -> None:
        hits[point] += 1
        if plan.get(point) == hits[point]:
            raise SimulatedCrash(point)

    def boot() -> Publisher:
        return Publisher(db, platforms, clock=clock, policy=FAST, worker_id=f"worker-{restarts}",
                         rng=random.Random(seed + restarts), hook=hook)

    publisher = boot()
    clock.now = start
    while clock() <= until:
        try:
            publisher.tick()
        except SimulatedCrash:
            restarts += 1
            publisher = boot()
        if settled(db) and clock() > T0 + timedelta(minutes=10):
            break
        clock.advance(seconds=step_s)
    return restarts


def check_outcomes(db, platforms, ids):
    """Every target: published once and recorded, or explicitly left for a person; never twice."""
    for post_id in ids:
        post = posts_repo.get_post(db, post_id)
        held = post.state is S.APPROVED and post.hold_reason
        for t in post.targets:
            copies = platforms[t.account].count(post.text)
            assert copies <= 1, f"post {post_id} published {copies} times on {t.account}"
            if t.state is T.SENT:
                assert copies == 1 and t.platform_id in {p.platform_id for p in platforms[t.account].posts}
            elif t.state is T.FAILED:
                assert copies == 0 and t.error, f"failed post {post_id} is on {t.account} or has no reason"
            elif t.state is T.TO_VERIFY:
                assert t.error
            else:
                assert held and t.state is T.PENDING and copies == 0, f"post {post_id}/{t.account} left {t.state}"
            if copies == 1:
                assert t.state in (T.SENT, T.TO_VERIFY), f"post {post_id} is on {t.account} but recorded {t.state}"
    published = [e for e in audit.select_events(db, events=("post-published",))]
    assert len({(e["subject"], e["properties"]) for e in published}) == len(published)
    assert audit.verify_chain(db).ok


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("action", ["ok", "ambig_after", "ambig_before"])
def test_a_crash_at_any_step_never_duplicates_nor_drops(point, action):
    db, clock, platforms, ids = world([(["a"], 0, False), (["a", "b"], 1, False)],
                                      {"a": {"script": [action]}, "b": {}})
    run(db, clock, platforms, [(point, 1)], start=T0, until=T0 + timedelta(minutes=40))
    check_outcomes(db, platforms, ids)
    assert all(t.state is T.SENT for i in ids for t in posts_repo.get_post(db, i).targets)


def test_a_crash_between_the_call_and_the_record_is_reconciled_not_resent():
    db, clock, platforms, ids = world([(["a"], 0, False)], {"a": {}})
    restarts = run(db, clock, platforms, [("called", 1)], start=T0, until=T0 + timedelta(minutes=10))
    assert restarts == 1 and platforms["a"].calls == ["ok"]
    t = posts_repo.get_post(db, ids[0]).targets[0]
    assert t.state is T.SENT and t.platform_id == "a-1"
    assert [a["outcome"] for a in posts_repo.attempts_for(db, t.id)] == ["sent", "found"]


def test_a_crash_after_the_call_on_a_platform_that_cannot_be_searched_goes_to_a_person():
    db, clock, platforms, ids = world([(["a"], 0, False)], {"a": {"can_look_up": False}})
    run(db, clock, platforms, [("called", 1)], start=T0, until=T0 + timedelta(minutes=10))
    t = posts_repo.get_post(db, ids[0]).targets[0]
    assert t.state is T.TO_VERIFY and platforms["a"].calls == ["ok"]
    assert posts_repo.get_post(db, ids[0]).state is S.TO_VERIFY


account = st.fixed_dictionaries({
    "script": st.lists(st.sampled_from(ACTIONS), max_size=6),
    "lookups": st.lists(st.sampled_from(["ok", "ok", "fail"]), max_size=4),
    "can_look_up": st.booleans(),
    "native": st.booleans(),
})
post = st.tuples(st.sampled_from([["a"], ["b"], ["a", "b"]]), st.integers(0, 6), st.booleans())


@settings(max_examples=int(os.environ.get("PARVIS_PUBLISH_EXAMPLES", "60")), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(posts=st.lists(post, min_size=1, max_size=4), a=account, b=account,
       crashes=st.lists(st.tuples(st.sampled_from(POINTS), st.integers(1, 3)), max_size=3,
                        unique_by=lambda c: c[0]),
       late_min=st.sampled_from([0, 0, 0, 3, 8, 20]), seed=st.integers(0, 1000))
def test_exactly_once_or_explicitly_left_for_a_person(posts, a, b, crashes, late_min, seed):
    db, clock, platforms, ids = world(posts, {"a": a, "b": b})
    start = T0 - FAST.native_lead - timedelta(minutes=1) + timedelta(minutes=late_min)
    restarts = run(db, clock, platforms, crashes, start=start, until=T0 + timedelta(minutes=60), seed=seed)
    check_outcomes(db, platforms, ids)
    for state, count in posts_repo.target_state_counts(db).items():
        event(f"targets {state}: {'some' if count else 'none'}")
    event(f"restarts: {min(restarts, 2)}")
    db.close()
