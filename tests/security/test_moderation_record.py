"""Issue #15 finding 2 (a moderation act reaches the platform but not the record). An effect the platform made
whose record cannot be written at once — the database locked longer than the busy
timeout (another connection holding ``BEGIN IMMEDIATE``, as ``import --bulk`` does), or the disk full — is never
reported as "not done": the intent and its audit event exist, the person is told it was sent and is being
recorded, and the record is completed by the next action of the process, or by the worker's reconciliation if
the process died meanwhile."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from console.messages import notice
from core import audit, repo
from core.config import Settings
from core.db import open_db
from core.errors import DatabaseBusy, Unavailable, WorkflowError
from core.models import DraftState, Platform, TargetState
from core.repo import moderation_actions as moderation_actions_repo
from core.repo import outbox as acts_repo
from core.repo import posts as posts_repo
from services.editorial import calendar, post_review
from services.inbox import replies
from services.moderation import actions as moderation_actions
from services.moderation import bans as moderation_bans
from services.outbox.engine import UNRECORDED
from services.outbox.runner import Runner, kinds
from services.publishing import reply_sending
from services.publishing.posts import Publisher
from tests.conftest import make_mention
from tests.french import raises_fr
from tests.outbox.fakes import FakeModerationPlatform
from tests.outbox.test_crash_injection import POLICY, T0, _in_effect
from tests.publishing.fakes import FakeClock, FakePlatform
from tests.publishing.reply_fakes import FakeReplyPlatform

INSULT = {"kind": "insult", "score": 0.9, "spans": [[0, 6]], "reason": "Propos injurieux"}
EVENT = {"hide": "mention-hidden", "unhide": "mention-unhidden", "delete": "mention-deleted", "ban": "author-banned",
         "unban": "author-unbanned"}


@pytest.fixture(autouse=True)
def _fresh_process():
    UNRECORDED.clear()
    yield
    UNRECORDED.clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "p.db")


@pytest.fixture
def other(db_path):
    """A second connection to the same file: the bulk import that holds the write lock."""
    conn = open_db(db_path)
    yield conn
    if conn.conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def _flagged(db, now, author="camille") -> str:
    m = make_mention("Crétin de maire", author=author)
    repo.upsert_mentions(db, [m], now=now - timedelta(minutes=30),
                         scores=[repo.Scores(risk_score=0.9, risk_flags=(INSULT,), priority=80.0)])
    return m.uid


def _act(action, db, settings, uid, agent, now):
    if action == "unban":
        author = repo.get_item(db, uid).mention.author.platform_id
        return moderation_bans.unban(db, settings, "x", author, actor=agent, now=now)
    if action == "unhide":
        return moderation_actions.unhide(db, settings, uid, actor=agent, now=now)
    return moderation_actions.restrict(db, settings, uid, action, "threat", actor=agent, now=now)


def _events(db, uid, name):
    return [e for e in audit.events_for(db, uid) if e["event"] == name]


class Locker:
    """Takes the write lock on another connection while the platform call is in flight, when armed."""

    def __init__(self, other) -> None:
        self.other, self.armed = other, False

    def __call__(self, _action: str) -> None:
        if self.armed:
            self.other.execute("BEGIN IMMEDIATE")  # held until the test releases it

    def release(self) -> None:
        self.armed = False
        self.other.execute("ROLLBACK")


@pytest.mark.parametrize("action", ["hide", "delete", "ban", "unban", "unhide"])
def test_database_locked_past_the_busy_timeout_the_act_is_reported_sent_then_recorded_by_the_next_action(
        db, other, agents, now, settings, monkeypatch, action):
    locker = Locker(other)
    platform = FakeModerationPlatform(before_effect=locker)
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now)
    if action in ("unban", "unhide"):
        _act({"unban": "ban", "unhide": "hide"}[action], db, settings, uid, agents["julie"], now)
    db.execute("PRAGMA busy_timeout = 50")  # a small busy timeout: the lock outlasts it
    locker.armed = True
    out = _act(action, db, settings, uid, agents["julie"], now)
    assert out.done and not out.recorded and "envoyée à la plateforme" in notice(out.notice)  # never "nothing changed"
    assert platform.count(action) == 1
    [intent] = [a for a in acts_repo.acts_for(db, uid) if a.action == action]
    assert intent.state == "sending" and intent.id == out.act_id
    assert [e["properties"]["act_id"] for e in _events(db, uid, "moderation-act-sending")][-1] == intent.id
    assert not [e for e in _events(db, uid, EVENT[action]) if e["properties"]["act_id"] == intent.id]
    assert not _in_effect(db, action, uid)  # not recorded yet...

    locker.release()
    written = moderation_actions.finish_records(db, now=now + timedelta(seconds=20))  # the next action / page
    assert written == 1
    assert acts_repo.get_act(db, intent.id).state == "done" and _in_effect(db, action, uid)
    [event] = [e for e in _events(db, uid, EVENT[action]) if e["properties"]["act_id"] == intent.id]
    assert event["properties"]["via"] == "api" and event["actor"] == "julie@valmont.fr"
    assert moderation_actions.finish_records(db, now=now + timedelta(seconds=21)) == 0
    assert platform.count(action) == 1 and audit.verify_chain(db).ok


def test_the_next_act_writes_the_pending_record_first(db, other, agents, now, settings, monkeypatch):
    locker = Locker(other)
    platform = FakeModerationPlatform(before_effect=locker)
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    first, second = _flagged(db, now), _flagged(db, now, author="dominique")
    db.execute("PRAGMA busy_timeout = 50")
    locker.armed = True
    assert not moderation_actions.hide(db, settings, first, "threat", actor=agents["julie"], now=now).recorded
    locker.release()
    assert moderation_actions.hide(db, settings, second, "threat", actor=agents["karim"], now=now).recorded
    assert repo.get_item(db, first).hidden and repo.get_item(db, second).hidden
    hidden = [e["subject"] for e in audit.select_events(db, events=("mention-hidden",))]
    assert hidden == [first, second]


@pytest.mark.parametrize("searchable", [True, False])
def test_database_locked_then_the_console_dies_the_worker_completes_the_record(
        db, other, agents, now, settings, monkeypatch, searchable):
    locker = Locker(other)
    platform = FakeModerationPlatform(before_effect=locker, can_look_up=searchable)
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now)
    db.execute("PRAGMA busy_timeout = 50")
    locker.armed = True
    out = moderation_actions.restrict(db, settings, uid, "ban", "threat", actor=agents["julie"], now=now)
    assert out.done and not out.recorded
    locker.release()
    UNRECORDED.clear()  # the Streamlit process is restarted: its memory of the answer is gone
    clock = FakeClock(now + POLICY.stale_after + timedelta(seconds=1))
    Runner(db, kinds({}, lambda _d: None, lambda _m: platform), clock=clock, policy=POLICY, worker_id="w").run_pass()
    act = acts_repo.get_act(db, out.act_id)
    if searchable:  # seen on the platform: recorded as done
        assert act.state == "done" and act.via == "lookup" and _in_effect(db, "ban", uid)
        assert [e["properties"]["via"] for e in _events(db, uid, "author-banned")] == ["lookup"]
    else:  # cannot be seen: a person checks; the intent says what was asked, never "nothing changed"
        assert act.state == "to_verify" and _events(db, uid, "moderation-act-to-verify")
    assert platform.count("ban") == 1


@pytest.mark.parametrize("action", ["hide", "delete", "ban"])
def test_disk_full_at_the_outcome_write(db, agents, now, settings, monkeypatch, action):
    platform = FakeModerationPlatform()
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now)
    add_decision = moderation_actions_repo.add_decision
    full = [True]

    def disk_full(*args, **kwargs):  # the last write of the outcome's transaction: everything before rolls back
        if full[0]:
            raise sqlite3.OperationalError("database or disk is full")
        return add_decision(*args, **kwargs)

    monkeypatch.setattr(moderation_actions_repo, "add_decision", disk_full)
    out = moderation_actions.restrict(db, settings, uid, action, "threat", actor=agents["julie"], now=now)
    assert out.done and not out.recorded and "envoyée à la plateforme" in notice(out.notice)
    assert not db.conn.in_transaction
    assert acts_repo.get_act(db, out.act_id).state == "sending" and not _in_effect(db, action, uid)
    assert _events(db, uid, "moderation-act-sending") and not _events(db, uid, EVENT[action])
    full[0] = False  # space freed
    assert moderation_actions.finish_records(db, now=now + timedelta(seconds=5)) == 1
    assert acts_repo.get_act(db, out.act_id).state == "done" and _in_effect(db, action, uid)
    assert len(_events(db, uid, EVENT[action])) == 1 and audit.verify_chain(db).ok


class CommitFails(sqlite3.Connection):
    """A connection whose COMMIT fails while ``full`` is set and leaves the transaction open, as SQLite does when
    the disk fills up at commit time."""

    full = False

    def execute(self, sql, *args):  # type: ignore[no-untyped-def]
        if self.full and sql.strip().upper() == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


def test_disk_full_at_the_commit_of_the_outcome(db, db_path, agents, now, settings, monkeypatch):
    """The COMMIT of the outcome's transaction fails: core.db.write_transaction rolls it back (the engine keeps no
    workaround of its own), the act is reported sent and being recorded, and the connection's next write works."""
    conn = sqlite3.connect(str(db_path), factory=CommitFails, isolation_level=None, check_same_thread=False)
    failing = Database(conn)
    failing.execute("PRAGMA foreign_keys = ON")
    platform = FakeModerationPlatform(before_effect=lambda _action: setattr(conn, "full", True))
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now)
    try:
        out = moderation_actions.restrict(failing, settings, uid, "hide", "threat", actor=agents["julie"], now=now)
        assert out.done and not out.recorded and "envoyée à la plateforme" in notice(out.notice)
        assert not failing.conn.in_transaction  # rolled back: nothing half-written pending on the connection
        assert acts_repo.get_act(db, out.act_id).state == "sending" and not repo.get_item(db, uid).hidden
        conn.full = False  # space freed
        assert moderation_actions.finish_records(failing, now=now + timedelta(seconds=5)) == 1
        assert acts_repo.get_act(db, out.act_id).state == "done" and repo.get_item(db, uid).hidden
        assert len(_events(db, uid, "mention-hidden")) == 1 and audit.verify_chain(db).ok
    finally:
        conn.close()


def test_database_locked_before_the_intent_nothing_is_sent(db, other, agents, now, settings, monkeypatch):
    platform = FakeModerationPlatform()
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now)
    db.execute("PRAGMA busy_timeout = 50")
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(DatabaseBusy, match="nothing was changed"):  # true: the platform was not called
        moderation_actions.hide(db, settings, uid, "threat", actor=agents["julie"], now=now)
    other.execute("ROLLBACK")
    assert platform.calls == [] and acts_repo.acts_for(db, uid) == []


def test_a_director_confirmation_is_closed_with_the_delayed_record(db, other, agents, now, settings, monkeypatch):
    locker = Locker(other)
    platform = FakeModerationPlatform(before_effect=locker)
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now, author="elu-opposition")
    moderation_actions.mark_author(db, uid, "opposition", actor=agents["julie"], now=now)
    request = moderation_actions.hide(db, settings, uid, "threat", actor=agents["julie"], now=now)
    db.execute("PRAGMA busy_timeout = 50")
    locker.armed = True
    out = moderation_actions.confirm_request(db, settings, request.request_id, actor=agents["sophie"], now=now)
    assert out.done and not out.recorded
    locker.release()
    assert moderation_actions_repo.get_request(db, request.request_id).state == "pending"
    moderation_actions.finish_records(db, now=now)
    assert moderation_actions_repo.get_request(db, request.request_id).state == "confirmed"
    [event] = _events(db, uid, "mention-hidden")
    assert event["properties"]["confirmed_by"] == "sophie@valmont.fr" and repo.get_item(db, uid).hidden


def test_an_uncertain_answer_is_looked_up_by_the_worker(db, agents, now, settings, monkeypatch):
    platform = FakeModerationPlatform(script=["ambig_after"])
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now)
    with raises_fr(Unavailable, "incertain"):
        moderation_actions.hide(db, settings, uid, "threat", actor=agents["julie"], now=now)
    [act] = acts_repo.acts_for(db, uid)
    assert act.state == "sending" and act.needs_check and _events(db, uid, "moderation-act-uncertain")
    clock = FakeClock(now + timedelta(minutes=1))
    Runner(db, kinds({}, lambda _d: None, lambda _m: platform), clock=clock, policy=POLICY, worker_id="w").run_pass()
    assert acts_repo.get_act(db, act.id).state == "done" and repo.get_item(db, uid).hidden
    assert platform.count("hide") == 1


def test_a_refused_act_says_nothing_changed_and_a_second_act_on_the_same_message_waits(
        db, agents, now, settings, monkeypatch):
    platform = FakeModerationPlatform(script=["perm"])
    monkeypatch.setattr("services.connections.assembly.connector_for", lambda _settings, _mention: platform)
    uid = _flagged(db, now)
    with pytest.raises(Exception, match="403"):
        moderation_actions.hide(db, settings, uid, "threat", actor=agents["julie"], now=now)
    [act] = acts_repo.acts_for(db, uid)
    assert act.state == "failed" and _events(db, uid, "moderation-act-failed")
    # an act in flight on the same message: a second one is refused until the first is settled
    def meanwhile(point: str) -> None:
        if point == "claimed":
            with raises_fr(WorkflowError, "déjà en cours"):
                moderation_actions.restrict(db, settings, uid, "delete", "threat", actor=agents["karim"], now=now)

    moderation_actions.restrict(db, settings, uid, "hide", "threat", actor=agents["julie"], now=now, hook=meanwhile)
    assert repo.get_item(db, uid).hidden and [a.action for a in acts_repo.acts_for(db, uid)] == ["hide", "hide"]


# ---- posts and replies: the same memory of an unwritten answer ------------------------------------------------

def test_a_worker_whose_record_is_locked_out_writes_it_at_the_next_pass_without_a_lookup(db, other, agents):
    clock = FakeClock(T0 - timedelta(hours=1))
    platform = FakePlatform(clock=clock, can_look_up=False)  # no lookup: only the remembered answer can tell
    post = calendar.create_post(db, agents["julie"], text="Fermeture de la piscine samedi.", accounts=["fake"],
                                at=T0, now=clock(), platforms={"fake": Platform.DEMO})
    post_review.submit_post(db, agents["julie"], post.id, now=clock())
    post_review.approve_post(db, agents["sophie"], post.id, now=clock(), policy=POLICY)
    db.execute("PRAGMA busy_timeout = 50")

    def lock(point: str) -> None:
        if point == "called":
            other.execute("BEGIN IMMEDIATE")

    clock.now = T0
    Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, worker_id="w", hook=lock).tick()
    assert posts_repo.get_post(db, post.id).targets[0].state is TargetState.PUBLISHING
    other.execute("ROLLBACK")
    clock.advance(seconds=5)
    publisher = Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, worker_id="w", rng=random.Random(0))
    assert publisher.next_due() is not None
    publisher.tick()
    [target] = posts_repo.get_post(db, post.id).targets
    assert target.state is TargetState.SENT and platform.count(post.text) == 1
    assert [a["outcome"] for a in posts_repo.attempts_for(db, target.id)] == ["sent"]


def test_a_person_sending_a_reply_while_the_database_is_locked_is_told_it_went_out(db, other, agents, now):
    platform = FakeReplyPlatform(clock=lambda: now)
    first = make_mention("Les poubelles ne sont pas ramassées rue Hoche", author="camille")
    second = make_mention("Et rue Pasteur ?", author="paul")
    repo.upsert_mentions(db, [first, second], now=now)
    one = replies.create_draft(db, agents["julie"], mention_uid=first.uid, now=now,
                               body="Bonjour, la collecte passe demain matin rue Hoche.")
    two = replies.create_draft(db, agents["julie"], mention_uid=second.uid, now=now,
                               body="Bonjour, rue Pasteur aussi, demain matin.")
    db.execute("PRAGMA busy_timeout = 50")
    def lock(point: str) -> None:
        if point == "called":
            other.execute("BEGIN IMMEDIATE")

    sent = reply_sending.send_now(db, agents["julie"], one.id, platform, now=now, hook=lock)
    assert sent.state is DraftState.PUBLISHING and platform.count(first) == 1  # out, being recorded
    other.execute("ROLLBACK")
    replies.send(db, agents["julie"], two.id, platform, now=now)  # the next send writes the first record too
    assert repo.get_draft(db, one.id).state is DraftState.SENT and repo.get_draft(db, two.id).state is DraftState.SENT
    assert repo.get_item(db, first.uid).status == "answered"
