"""Crash injection for every kind of the outbox: a post, a scheduled reply, and each moderation act (hide, delete,
ban, unban, unhide). The process dies (a BaseException nothing catches) between the intent and the call, between
the call and the outcome record, or during the outcome record (its transaction rolls back); the worker, restarted
under a new identity, reconciles once the claim is stale. Each effect ends exactly once and recorded, or certainly
absent and recorded as such, or « à vérifier » for a person: never twice, never silently lost."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core import audit, repo
from core.config import Settings
from core.models import DraftState, Platform, TargetState
from core.repo import author_bans as author_bans_repo
from core.repo import outbox as acts_repo
from core.repo import posts as posts_repo
from services.editorial import calendar, post_review
from services.inbox import replies
from services.moderation import actions as moderation_actions
from services.moderation import bans as moderation_bans
from services.outbox.engine import UNRECORDED
from services.outbox.runner import Runner, kinds
from services.publishing.content import PublishPolicy
from services.publishing.posts import Publisher
from services.publishing.reply_outbox import ReplyWorker
from tests.conftest import make_mention
from tests.outbox.fakes import FakeModerationPlatform
from tests.publishing.fakes import FakeClock, FakePlatform, SimulatedCrash
from tests.publishing.reply_fakes import FakeReplyPlatform

T0 = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
POLICY = PublishPolicy(grace=timedelta(minutes=15), retry_window=timedelta(minutes=30), backoff_base_s=5,
                       backoff_max_s=60, lease_ttl=timedelta(seconds=60), stale_after=timedelta(seconds=90))
POINTS = {"before the call": "claimed", "after the call": "called", "during the record": "record_txn"}
INSULT = {"kind": "insult", "score": 0.9, "spans": [[0, 6]], "reason": "Propos injurieux"}


def crash_at(point: str):
    """A hook that kills the process the first time ``point`` is reached."""
    seen = []

    def hook(p: str) -> None:
        if p == point and not seen:
            seen.append(p)
            raise SimulatedCrash(p)
    return hook


@pytest.fixture(autouse=True)
def _fresh_process():
    UNRECORDED.clear()  # a crashed process takes its memory with it
    yield
    UNRECORDED.clear()


# ---- posts ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", POINTS)
@pytest.mark.parametrize("searchable", [True, False])
def test_a_post(db, agents, where, searchable):
    clock = FakeClock(T0 - timedelta(hours=1))
    platform = FakePlatform(clock=clock, can_look_up=searchable)
    post = calendar.create_post(db, agents["julie"], text="Collecte des encombrants lundi dans le quartier Nord.",
                                accounts=["fake"], at=T0, now=clock(), platforms={"fake": Platform.DEMO})
    post_review.submit_post(db, agents["julie"], post.id, now=clock())
    post_review.approve_post(db, agents["sophie"], post.id, now=clock(), policy=POLICY)
    clock.now = T0
    dying = Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, worker_id="w1", rng=random.Random(1),
                      hook=crash_at(POINTS[where]))
    with pytest.raises(SimulatedCrash):
        dying.tick()
    [claimed] = posts_repo.get_post(db, post.id).targets
    assert claimed.state is TargetState.PUBLISHING  # the intent is committed, its outcome is not
    assert "post-publishing" in audit.event_names(db)
    restarted = Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, worker_id="w2", rng=random.Random(2))
    for _ in range(12):
        clock.advance(seconds=30)
        restarted.tick()
    [target] = posts_repo.get_post(db, post.id).targets
    reached = where != "before the call"
    if searchable:  # looked up: found -> recorded once; absent -> published now, once
        assert target.state is TargetState.SENT and platform.count(post.text) == 1
        via = [e["properties"]["via"] for e in audit.events_for(db, f"post:{post.id}")
               if e["event"] == "post-published"]
        assert via == (["lookup"] if reached else ["api"])
    else:  # nobody can tell: a person checks, nothing is resent
        assert target.state is TargetState.TO_VERIFY and platform.count(post.text) == int(reached)
    assert audit.verify_chain(db).ok


# ---- scheduled replies -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", POINTS)
@pytest.mark.parametrize("searchable", [True, False])
def test_a_scheduled_reply(db, agents, where, searchable):
    clock = FakeClock(T0 - timedelta(hours=1))
    platform = FakeReplyPlatform(clock=clock, can_look_up=searchable)
    mention = make_mention("Quand passe la collecte rue Hoche ?", pid="m1", created_at=T0 - timedelta(hours=3))
    repo.upsert_mentions(db, [mention], now=clock())
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, now=clock(),
                                 body="Bonjour, la collecte passe mardi matin.")
    replies.schedule(db, agents["julie"], draft.id, at=T0, now=clock())
    clock.now = T0
    dying = ReplyWorker(db, {Platform.X: platform}, clock=clock, policy=POLICY, worker_id="w1",
                        hook=crash_at(POINTS[where]))
    with pytest.raises(SimulatedCrash):
        dying.tick()
    assert repo.get_draft(db, draft.id).state is DraftState.PUBLISHING
    restarted = ReplyWorker(db, {Platform.X: platform}, clock=clock, policy=POLICY, worker_id="w2",
                            rng=random.Random(2))
    for _ in range(12):
        clock.advance(seconds=30)
        restarted.tick()
    after = repo.get_draft(db, draft.id)
    reached = where != "before the call"
    if searchable:
        assert after.state is DraftState.SENT and platform.count(mention) == 1
    else:
        assert after.state is DraftState.TO_VERIFY and platform.count(mention) == int(reached)
    sent = [e for e in audit.events_for(db, mention.uid) if e["event"] == "reply-sent"]
    assert len(sent) == (1 if after.state is DraftState.SENT else 0)
    assert audit.verify_chain(db).ok


# ---- moderation acts ----------------------------------------------------------------------------------------------

@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db")


def _flagged(db, now) -> str:
    m = make_mention("Crétin de maire", author="camille")
    repo.upsert_mentions(db, [m], now=now - timedelta(minutes=30),
                         scores=[repo.Scores(risk_score=0.9, risk_flags=(INSULT,), priority=80.0)])
    return m.uid


def _do(act: str, db, settings, uid, agent, now, hook=None):
    """Ask for ``act`` on ``uid`` as ``agent`` (unban: the author's ban, unhide: the hidden message)."""
    if act == "unban":
        author = repo.get_item(db, uid).mention.author.platform_id
        return moderation_bans.unban(db, settings, "x", author, actor=agent, now=now, hook=hook)
    if act == "unhide":
        return moderation_actions.unhide(db, settings, uid, actor=agent, now=now, hook=hook)
    return moderation_actions.restrict(db, settings, uid, act, "insult_defamation", actor=agent, now=now, hook=hook)


def _in_effect(db, act: str, uid: str) -> bool:
    """Whether the local record says ``act`` happened."""
    item = repo.get_item(db, uid)
    banned = author_bans_repo.ban_of(db, "x", item.mention.author.platform_id) is not None
    return {"hide": item.hidden, "unhide": not item.hidden, "delete": item.deleted_at is not None, "ban": banned,
            "unban": not banned}[act]


EVENT = {"hide": "mention-hidden", "unhide": "mention-unhidden", "delete": "mention-deleted", "ban": "author-banned",
         "unban": "author-unbanned"}
BEFORE = {"unban": "ban", "unhide": "hide"}  # what must be done first


@pytest.mark.parametrize("act", ["hide", "delete", "ban", "unban", "unhide"])
@pytest.mark.parametrize("where", POINTS)
@pytest.mark.parametrize("searchable", [True, False])
def test_a_moderation_act(db, agents, now, settings, monkeypatch, act, where, searchable):
    platform = FakeModerationPlatform(can_look_up=searchable)
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now)
    if act in BEFORE:
        _do(BEFORE[act], db, settings, uid, agents["julie"], now)
    with pytest.raises(SimulatedCrash):  # the console process dies mid-act
        _do(act, db, settings, uid, agents["julie"], now, hook=crash_at(POINTS[where]))
    [intent] = [a for a in acts_repo.acts_for(db, uid) if a.action == act]
    assert intent.state == "sending"  # the intent and its event are committed before the call
    assert [e for e in audit.events_for(db, uid) if e["event"] == "moderation-act-sending"
            and e["properties"]["act_id"] == intent.id]
    reached = where != "before the call"
    assert platform.count(act) == int(reached) and not _in_effect(db, act, uid)

    clock = FakeClock(now + timedelta(seconds=30))
    worker = Runner(db, kinds({}, lambda _d: None, lambda _m: platform), clock=clock, policy=POLICY, worker_id="w")
    assert worker.run_pass().acts.reconciled == 0  # maybe still in flight: left alone until stale
    clock.advance(seconds=POLICY.stale_after.total_seconds())
    worker.run_pass()

    settled = acts_repo.get_act(db, intent.id)
    events = [e for e in audit.events_for(db, uid) if e["event"] == EVENT[act]]
    if searchable and reached:  # found on the platform: recorded, with the person as actor
        assert settled.state == "done" and settled.via == "lookup" and _in_effect(db, act, uid)
        assert [e["properties"]["via"] for e in events if e["properties"]["act_id"] == intent.id] == ["lookup"]
        assert events[-1]["actor"] == "julie@valmont.fr"
    elif searchable:  # certainly not done: failed, nothing changed, the person may do it again
        assert settled.state == "failed" and "rien n'a changé" in settled.error and not _in_effect(db, act, uid)
        assert [e["event"] for e in audit.events_for(db, uid)][-1] == "moderation-act-failed"
        _do(act, db, settings, uid, agents["julie"], now + timedelta(minutes=5))
        assert _in_effect(db, act, uid)
    else:  # nobody can tell: « à vérifier »
        assert settled.state == "to_verify" and not _in_effect(db, act, uid)
        assert [e["event"] for e in audit.events_for(db, uid)][-1] == "moderation-act-to-verify"
        moderation_actions.verify_act(db, settled.id, actor=agents["sophie"], now=now + timedelta(minutes=5),
                                      done=reached)
        assert _in_effect(db, act, uid) is reached
        if not reached:  # the person found it not done: it can be done again
            _do(act, db, settings, uid, agents["julie"], now + timedelta(minutes=6))
            assert _in_effect(db, act, uid)
    assert platform.count(act) == 1
    assert audit.verify_chain(db).ok
