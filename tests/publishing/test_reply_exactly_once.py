"""Scheduled replies go out exactly once, or are explicitly left for a person: crashes and platform failures are
injected at every step while two workers (two connections to one database file) take turns, as two processes
started by mistake would. A crashed worker restarts under a new identity.
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core import audit, repo
from core.db import open_db, write_transaction
from core.models import DraftState, Platform, Role
from core.repo import leases as lease_repo
from core.repo import reply_outbox as outbox_repo
from services.inbox import replies
from services.publishing.content import PublishPolicy
from services.publishing.posts import LEASE
from services.publishing.reply_outbox import ReplyReport, ReplyWorker
from tests.conftest import make_mention
from tests.publishing.fakes import FakeClock, SimulatedCrash
from tests.publishing.reply_fakes import FakeReplyPlatform

S = DraftState
T0 = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
POINTS = ("claim_txn", "claimed", "called", "record_txn", "recorded", "looked_up", "reconcile_txn")
ACTIONS = ("ok", "ok", "rate", "perm", "auth", "ambig_before", "ambig_after")
FAST = PublishPolicy(retry_window=timedelta(minutes=20), backoff_base_s=5, backoff_max_s=60,
                     lease_ttl=timedelta(seconds=45), stale_after=timedelta(seconds=60))


def world(path: Path, offsets: list[int], **platform_spec):
    """A database file with scheduled replies (one per mention, at ``T0 + offset`` minutes) and the fake X."""
    db = open_db(path)
    clock = FakeClock(T0 - timedelta(hours=2))
    julie = repo.create_agent(db, email="julie@v.fr", name="Julie M", initials="JM", role=Role.COMMUNITY_MANAGER,
                              now=clock())
    platform = FakeReplyPlatform(clock=clock, **platform_spec)
    ids = []
    for i, offset in enumerate(offsets):
        mention = make_mention(f"Question {i} : quand passe la collecte rue Hoche ?", pid=f"m{i}",
                               created_at=T0 - timedelta(hours=3))
        repo.upsert_mentions(db, [mention], now=clock())
        draft = replies.create_draft(db, julie, mention_uid=mention.uid, now=clock(),
                                     body=f"Bonjour, la collecte passe mardi matin (réponse {i}).")
        replies.schedule(db, julie, draft.id, at=T0 + timedelta(minutes=offset), now=clock())
        ids.append(draft.id)
    return db, clock, platform, ids


def settled(db, ids) -> bool:
    """Nothing waits on a worker any more."""
    return all(repo.get_draft(db, i).state not in (S.SCHEDULED, S.PUBLISHING) for i in ids)


def run(path: Path, clock, platform, ids, crashes, *, start, until, step_s=20, seed=0) -> int:
    """Workers A and B tick in turn on their own connections; a crash restarts that worker under a new name."""
    hits: Counter[str] = Counter()
    plan = dict(crashes)
    restarts = 0
    conns = {"a": open_db(path), "b": open_db(path)}

    def hook(point: str) -> None:
        hits[point] += 1
        if plan.get(point) == hits[point]:
            raise SimulatedCrash(point)

    def boot(name: str) -> ReplyWorker:
        return ReplyWorker(conns[name], {Platform.X: platform}, clock=clock, policy=FAST,
                           worker_id=f"{name}-{restarts}", rng=random.Random(seed + restarts), hook=hook)

    workers = {"a": boot("a"), "b": boot("b")}
    clock.now = start
    try:
        while clock() <= until:
            for name in ("a", "b"):
                try:
                    workers[name].tick()
                except SimulatedCrash:
                    restarts += 1
                    workers[name] = boot(name)
            if settled(conns["a"], ids) and clock() > T0 + timedelta(minutes=10):
                break
            clock.advance(seconds=step_s)
    finally:
        for conn in conns.values():
            conn.close()
    return restarts


def check_outcomes(db, platform, ids) -> None:
    """Every reply: sent once and recorded, or explicitly left for a person; never twice, never dropped."""
    for draft_id in ids:
        draft = repo.get_draft(db, draft_id)
        send = outbox_repo.get_send(db, draft_id)
        mention = repo.get_item(db, draft.mention_uid).mention
        copies = platform.count(mention)
        assert copies <= 1, f"reply {draft_id} sent {copies} times"
        if draft.state is S.SENT:
            assert copies == 1 and draft.platform_post_id in {r.platform_id for r in platform.replies}
            assert repo.get_item(db, mention.uid).status == "answered"
        elif draft.state is S.FAILED:
            assert copies == 0 and send.error, f"failed reply {draft_id} is out, or has no reason"
        elif draft.state is S.TO_VERIFY:
            assert send.error
        else:
            pytest.fail(f"reply {draft_id} left {draft.state}")
        sent_events = [e for e in audit.events_for(db, mention.uid) if e["event"] == "reply-sent"]
        if draft.state is S.SENT:
            assert len(sent_events) == 1
    assert audit.verify_chain(db).ok


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("action", ["ok", "ambig_after", "ambig_before"])
def test_a_crash_at_any_step_never_duplicates_nor_drops(tmp_path, point, action):
    db, clock, platform, ids = world(tmp_path / "p.db", [0, 1], script=[action])
    run(tmp_path / "p.db", clock, platform, ids, [(point, 1)], start=T0, until=T0 + timedelta(minutes=40))
    check_outcomes(db, platform, ids)
    assert all(repo.get_draft(db, i).state is S.SENT for i in ids)
    db.close()


def test_a_crash_between_the_call_and_the_record_is_reconciled_not_resent(tmp_path):
    db, clock, platform, ids = world(tmp_path / "p.db", [0])
    restarts = run(tmp_path / "p.db", clock, platform, ids, [("called", 1)], start=T0,
                   until=T0 + timedelta(minutes=10))
    assert restarts == 1 and platform.calls == ["ok"]
    draft = repo.get_draft(db, ids[0])
    assert draft.state is S.SENT and draft.platform_post_id == "reply-1"
    sent = [e for e in audit.events_for(db, draft.mention_uid) if e["event"] == "reply-sent"]
    assert [e["properties"]["via"] for e in sent] == ["lookup"]
    db.close()


def test_a_crash_after_the_call_on_a_platform_that_cannot_be_searched_goes_to_a_person(tmp_path):
    db, clock, platform, ids = world(tmp_path / "p.db", [0], can_look_up=False)
    run(tmp_path / "p.db", clock, platform, ids, [("called", 1)], start=T0, until=T0 + timedelta(minutes=10))
    assert repo.get_draft(db, ids[0]).state is S.TO_VERIFY and platform.calls == ["ok"]
    assert "reply-to-verify" in [e["event"] for e in audit.events_for(db, repo.get_draft(db, ids[0]).mention_uid)]
    db.close()


def test_a_rate_limited_scheduled_reply_is_retried_after_a_backoff(tmp_path):
    db, clock, platform, ids = world(tmp_path / "p.db", [0], script=["rate", "rate"])
    run(tmp_path / "p.db", clock, platform, ids, [], start=T0, until=T0 + timedelta(minutes=10))
    assert platform.calls == ["rate", "rate", "ok"] and repo.get_draft(db, ids[0]).state is S.SENT
    events = [e["event"] for e in audit.events_for(db, repo.get_draft(db, ids[0]).mention_uid)]
    assert events.count("reply-retry-scheduled") == 2
    db.close()


def test_only_the_lease_holder_sends_and_the_other_takes_over_when_it_dies(tmp_path):
    db, clock, platform, ids = world(tmp_path / "p.db", [0, 1, 2])
    other = open_db(tmp_path / "p.db")
    try:
        a = ReplyWorker(db, {Platform.X: platform}, clock=clock, policy=FAST, worker_id="a")
        b = ReplyWorker(other, {Platform.X: platform}, clock=clock, policy=FAST, worker_id="b")
        clock.now = T0
        leased = []
        for _ in range(10):  # until T0 + 2 min 15 s: every reply is due
            leased.append((a.tick().leased, b.tick().leased))
            clock.advance(seconds=15)
        assert all(x and not y for x, y in leased)
        assert all(repo.get_draft(db, i).state is S.SENT for i in ids)
        for _ in range(5):  # A stops; once its lease has expired, B holds it
            clock.advance(seconds=15)
            b.tick()
        assert lease_repo.holder(db, LEASE, now=clock()) == "b"
    finally:
        other.close()
    assert len(platform.replies) == 3
    db.close()


def test_a_worker_that_lost_its_lease_without_noticing_cannot_claim(tmp_path):
    db, clock, platform, ids = world(tmp_path / "p.db", [0])
    a = ReplyWorker(db, {Platform.X: platform}, clock=clock, policy=FAST, worker_id="a")
    clock.now = T0 - timedelta(minutes=5)
    assert a.tick().leased
    clock.now = T0 + FAST.lease_ttl  # A stalled past its lease; B took over in the meantime
    with write_transaction(db):
        lease_repo.acquire(db, LEASE, "b", now=clock(), until=clock() + FAST.lease_ttl)
    report = ReplyReport()
    a.process(ids[0], report)  # A goes on with the reply it had listed as due
    assert platform.calls == [] and report.results == []
    assert repo.get_draft(db, ids[0]).state is S.SCHEDULED
    assert a._lease_lost  # noqa: SLF001
    db.close()


def test_two_threads_racing_on_the_same_file_never_duplicate(tmp_path):
    path = tmp_path / "p.db"
    db, clock, platform, ids = world(path, list(range(10)))
    clock.now = T0 + timedelta(minutes=20)

    def work(name: str) -> None:
        conn = open_db(path)
        try:
            worker = ReplyWorker(conn, {Platform.X: platform}, clock=clock, policy=FAST, worker_id=name)
            for _ in range(4):
                worker.tick()
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("t1", "t2")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(r.in_reply_to for r in platform.replies) == sorted(f"m{i}" for i in range(10))
    check_outcomes(db, platform, ids)
    db.close()


platform_spec = st.fixed_dictionaries({
    "script": st.lists(st.sampled_from(ACTIONS), max_size=6),
    "lookups": st.lists(st.sampled_from(["ok", "ok", "fail"]), max_size=4),
    "can_look_up": st.booleans(),
})


@settings(max_examples=int(os.environ.get("PARVIS_PUBLISH_EXAMPLES", "60")), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(offsets=st.lists(st.integers(0, 6), min_size=1, max_size=4), spec=platform_spec,
       crashes=st.lists(st.tuples(st.sampled_from(POINTS), st.integers(1, 3)), max_size=3, unique_by=lambda c: c[0]),
       late_min=st.sampled_from([0, 0, 0, 3, 25]), seed=st.integers(0, 1000))
def test_exactly_once_or_explicitly_left_for_a_person(offsets, spec, crashes, late_min, seed):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.db"
        db, clock, platform, ids = world(path, offsets, **spec)
        restarts = run(path, clock, platform, ids, crashes, start=T0 + timedelta(minutes=late_min),
                       until=T0 + timedelta(minutes=70), seed=seed)
        check_outcomes(db, platform, ids)
        for draft_id in ids:
            event(f"reply {repo.get_draft(db, draft_id).state}")
        event(f"restarts: {min(restarts, 2)}")
        db.close()
