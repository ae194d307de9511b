"""The inbox's "Envoyer": a double click, a second tab or a second person never sends a reply twice, and a
console process that dies mid-send is reconciled by the worker instead of being sent again."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from console.messages import message_for
from core import audit, repo
from core.db import open_db
from core.errors import WorkflowError
from core.models import DraftState, Platform
from services.inbox import replies
from services.publishing import reply_sending
from services.publishing.content import PublishPolicy
from services.publishing.reply_outbox import ReplyWorker
from tests.french import raises_fr
from tests.publishing.reply_fakes import FakeReplyPlatform

CLEAN = "Bonjour, merci pour votre signalement : la collecte passe demain matin rue Hoche."
POLICY = PublishPolicy(stale_after=timedelta(seconds=90), retry_window=timedelta(minutes=30))


@pytest.fixture
def mention(db, now, mention_factory):
    m = mention_factory("Les poubelles ne sont pas ramassées rue Hoche", author="camille")
    repo.upsert_mentions(db, [m], now=now)
    return m


def test_two_tabs_clicking_send_on_the_same_draft_at_once_send_it_once(db, db_path, agents, now, mention):
    platform = FakeReplyPlatform(clock=lambda: now, delay_s=0.3)  # slow enough for the clicks to overlap
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    outcomes: list[str] = []

    def click() -> None:
        conn = open_db(db_path)  # each tab's rerun opens its own connection
        try:
            replies.send(conn, agents["julie"], draft.id, platform, now=now)
            outcomes.append("sent")
        except WorkflowError as err:
            outcomes.append(message_for(err))
        finally:
            conn.close()

    tabs = [threading.Thread(target=click) for _ in range(2)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=30)
    assert sorted(outcomes)[-1] == "sent" and len(outcomes) == 2
    assert "déjà" in sorted(outcomes)[0]
    assert platform.count(mention) == 1
    assert repo.get_draft(db, draft.id).state is DraftState.SENT
    events = [e["event"] for e in audit.events_for(db, mention.uid)]
    assert events.count("reply-sending") == 1 and events.count("reply-sent") == 1


def test_a_second_click_after_the_reply_went_out_is_refused(db, agents, now, mention):
    platform = FakeReplyPlatform(clock=lambda: now)
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    replies.send(db, agents["julie"], draft.id, platform, now=now)
    with raises_fr(WorkflowError, "déjà été envoyée"):
        replies.send(db, agents["sophie"], draft.id, platform, now=now + timedelta(seconds=1))
    assert platform.count(mention) == 1


def test_the_same_text_composed_twice_on_one_mention_goes_out_once(db, agents, now, mention):
    """Two tabs each created a draft with the same reply (or "Envoyer" was clicked twice on a new reply)."""
    platform = FakeReplyPlatform(clock=lambda: now)
    first = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    second = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    replies.send(db, agents["julie"], first.id, platform, now=now)
    with raises_fr(WorkflowError, "identique"):
        replies.send(db, agents["julie"], second.id, platform, now=now)
    assert platform.count(mention) == 1 and repo.get_draft(db, second.id).state is DraftState.DRAFT
    other = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, now=now,
                                 body="Précision : le camion passera avant 9 h.")
    assert replies.send(db, agents["julie"], other.id, platform, now=now).state is DraftState.SENT


def test_a_person_cannot_send_a_scheduled_reply_the_worker_is_sending(db, agents, now, mention):
    platform = FakeReplyPlatform(clock=lambda: now + timedelta(hours=1))
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    replies.schedule(db, agents["julie"], draft.id, at=now + timedelta(hours=1), now=now)
    refused: list[str] = []

    def meanwhile(point: str) -> None:
        if point == "claimed":  # the worker's call is about to start: Julie clicks "Envoyer" in the inbox
            with pytest.raises(WorkflowError) as err:
                replies.send(db, agents["julie"], draft.id, platform, now=now + timedelta(hours=1))
            refused.append(message_for(err.value))

    worker = ReplyWorker(db, {Platform.X: platform}, clock=lambda: now + timedelta(hours=1), worker_id="w",
                         hook=meanwhile)
    (result,) = worker.tick().results
    assert result.ok and refused == ["Cette réponse est déjà en cours d'envoi."]
    assert platform.count(mention) == 1


@pytest.mark.parametrize("reached_the_platform", [True, False])
def test_a_console_that_died_mid_send_is_reconciled_by_the_worker(db, agents, now, mention, reached_the_platform):
    clock_now = [now]
    platform = FakeReplyPlatform(clock=lambda: clock_now[0])
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    claim = reply_sending.claim(db, agents["julie"], draft.id, now=now)
    if reached_the_platform:
        platform.reply(claim.mention, claim.text)
    # ... and the Streamlit process is killed before it records anything: the draft stays "publishing"
    worker = ReplyWorker(db, {Platform.X: platform}, clock=lambda: clock_now[0], policy=POLICY, worker_id="w")
    clock_now[0] = now + timedelta(seconds=30)
    worker.tick()
    assert repo.get_draft(db, draft.id).state is DraftState.PUBLISHING  # maybe still in flight: left alone
    clock_now[0] = now + POLICY.stale_after + timedelta(seconds=1)
    worker.tick()
    after = repo.get_draft(db, draft.id)
    if reached_the_platform:
        assert after.state is DraftState.SENT and after.platform_post_id == "reply-1"
    else:  # verified absent: nothing went out; the person decides whether to send it again
        assert after.state is DraftState.FAILED and platform.count(mention) == 0
        assert replies.send(db, agents["julie"], draft.id, platform, now=clock_now[0]).state is DraftState.SENT
    assert platform.count(mention) == 1


def test_an_uncertain_send_is_checked_by_the_worker_before_anything_else(db, agents, now, mention):
    clock_now = [now]
    platform = FakeReplyPlatform(clock=lambda: clock_now[0], script=["ambig_after"])
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    with pytest.raises(Exception, match="timeout"):
        replies.send(db, agents["julie"], draft.id, platform, now=now)
    assert repo.get_draft(db, draft.id).state is DraftState.PUBLISHING  # locked while it is being checked
    with raises_fr(WorkflowError, "en cours"):
        replies.send(db, agents["julie"], draft.id, platform, now=now)
    clock_now[0] = now + timedelta(minutes=1)
    ReplyWorker(db, {Platform.X: platform}, clock=lambda: clock_now[0], policy=POLICY, worker_id="w").tick()
    assert repo.get_draft(db, draft.id).state is DraftState.SENT and platform.calls == ["ambig_after"]
    assert platform.count(mention) == 1


def test_a_reply_stuck_sending_from_before_the_claims_were_recorded_goes_to_a_person(db, agents, now, mention):
    from dataclasses import replace

    platform = FakeReplyPlatform(clock=lambda: now)
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    repo.save_draft(db, replace(draft, state=DraftState.PUBLISHING))  # no claim columns: an older Parvis
    ReplyWorker(db, {Platform.X: platform}, clock=lambda: now, policy=POLICY, worker_id="w").tick()
    assert repo.get_draft(db, draft.id).state is DraftState.TO_VERIFY and platform.calls == []
