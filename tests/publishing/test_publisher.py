"""The publishing worker: on time, once; retries, permanent failures, ambiguity, lateness, guards, native scheduling."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from core import audit
from core.models import DraftState, TargetState
from core.repo import archive as archive_repo
from core.repo import posts as posts_repo
from editorial.charter import Finding, Severity
from editorial.engine import CharterResult
from services.editorial import calendar, post_review
from services.publishing.posts import Publisher
from tests.publishing.conftest import POLICY, T0
from tests.publishing.fakes import FakePlatform

S, T = DraftState, TargetState


def target(db, post_id, account="fake"):
    return next(t for t in posts_repo.get_post(db, post_id).targets if t.account == account)


def run_until(publisher, clock, until, step_s=15):
    while clock() < until:
        publisher.tick()
        clock.advance(seconds=step_s)
    publisher.tick()


def test_an_approved_post_is_published_at_its_time_once(db, clock, platform, make_post, publisher):
    post = make_post()
    publisher.tick()
    assert platform.posts == []  # not before its time
    clock.now = T0 + timedelta(seconds=3)
    report = publisher.tick()
    publisher.tick()
    assert report.published == 1 and len(platform.posts) == 1
    t = target(db, post.id)
    assert t.state is T.SENT and t.platform_id == "fake-1" and t.permalink.endswith("fake-1")
    assert posts_repo.get_post(db, post.id).state is S.SENT
    event = [e for e in audit.events_for(db, f"post:{post.id}") if e["event"] == "post-published"][0]
    assert event["properties"]["text"] == post.text
    assert event["properties"]["platform_id"] == "fake-1"
    assert event["properties"]["permalink"] == "https://fake.invalid/fake/fake-1"
    archived = archive_repo.message_by_platform_id(db, "demo", "fake-1")
    assert archived.text == post.text and archived.author == "julie@valmont.fr"
    assert archived.approver == "sophie@valmont.fr"
    assert audit.verify_chain(db).ok


def test_per_platform_variant_is_what_is_sent(db, clock, agents, make_post):
    x, fb = FakePlatform(clock=clock, name="x"), FakePlatform(clock=clock, name="fb")
    post = make_post("Texte commun pour tous les comptes.", accounts=("x", "fb"),
                     variants={"x": "Version courte pour X."})
    clock.now = T0
    Publisher(db, {"x": x, "fb": fb}, clock=clock, policy=POLICY).tick()
    assert [p.text for p in x.posts] == ["Version courte pour X."]
    assert [p.text for p in fb.posts] == ["Texte commun pour tous les comptes."]
    assert posts_repo.get_post(db, post.id).state is S.SENT


@pytest.mark.parametrize("action", ["perm", "auth"])
def test_permanent_failure_fails_at_once_with_the_reason(db, clock, platform, make_post, publisher, action):
    post = make_post()
    platform.script = [action]
    clock.now = T0
    publisher.tick()
    clock.advance(minutes=5)
    publisher.tick()
    t = target(db, post.id)
    assert t.state is T.FAILED and platform.calls == [action]
    assert t.error_code in ("permanent_failure", "auth_failed") and t.error
    assert posts_repo.get_post(db, post.id).state is S.FAILED
    assert "post-failed" in audit.event_names(db)


def test_rate_limit_is_retried_with_backoff_then_published(db, clock, platform, make_post, publisher):
    post = make_post()
    platform.script = ["rate", "rate"]
    clock.now = T0
    publisher.tick()
    t = target(db, post.id)
    assert t.state is T.PENDING and t.not_before > T0 and t.error_code == "rate_limited"
    first_delay = t.not_before - T0
    assert timedelta(seconds=2.5) <= first_delay <= timedelta(seconds=5)
    run_until(publisher, clock, T0 + timedelta(minutes=2), step_s=5)
    assert platform.calls == ["rate", "rate", "ok"] and len(platform.posts) == 1
    assert target(db, post.id).state is T.SENT


def test_transient_failures_stop_at_the_deadline_and_fail(db, clock, platform, make_post, publisher):
    post = make_post()
    platform.script = ["rate"] * 1000
    clock.now = T0
    run_until(publisher, clock, T0 + POLICY.retry_window + timedelta(minutes=2), step_s=15)
    t = target(db, post.id)
    assert t.state is T.FAILED and "Délai dépassé" in t.error and platform.posts == []
    delays = [a for a in posts_repo.attempts_for(db, t.id) if a["kind"] == "publish"]
    assert 3 <= len(delays) < 60  # exponential backoff, not one call per tick


def test_ambiguous_failure_looks_on_the_platform_before_calling_again(db, clock, platform, make_post, publisher):
    post = make_post()
    platform.script = ["ambig_after"]
    clock.now = T0
    publisher.tick()
    assert target(db, post.id).needs_check
    run_until(publisher, clock, T0 + timedelta(minutes=2), step_s=5)
    assert platform.calls == ["ambig_after"] and len(platform.posts) == 1
    t = target(db, post.id)
    assert t.state is T.SENT and t.platform_id == "fake-1"


def test_ambiguous_failure_where_nothing_was_created_is_retried(db, clock, platform, make_post, publisher):
    post = make_post()
    platform.script = ["ambig_before"]
    clock.now = T0
    run_until(publisher, clock, T0 + timedelta(minutes=2), step_s=5)
    assert platform.calls == ["ambig_before", "ok"] and target(db, post.id).state is T.SENT


def test_ambiguous_failure_without_lookup_goes_to_a_person(db, clock, make_post):
    blind = FakePlatform(clock=clock, can_look_up=False, script=["ambig_after"])
    post = make_post()
    clock.now = T0
    publisher = Publisher(db, {"fake": blind}, clock=clock, policy=POLICY)
    run_until(publisher, clock, T0 + timedelta(minutes=5))
    t = target(db, post.id)
    assert t.state is T.TO_VERIFY and blind.calls == ["ambig_after"]
    assert posts_repo.get_post(db, post.id).state is S.TO_VERIFY
    # the person looks and confirms: published, with its link
    post_review.verify_target(db, calendar_agent(db), post.id, "fake", published=True, now=clock(),
                              permalink="https://fake.invalid/fake/fake-1", platform_id="fake-1")
    assert posts_repo.get_post(db, post.id).state is S.SENT
    assert audit.event_names(db)[-2:] == ["post-published", "message-archived"]


def calendar_agent(db):
    from core import repo

    return repo.agent_by_email(db, "julie@valmont.fr")


def test_late_post_within_grace_is_published(db, clock, platform, make_post, publisher):
    post = make_post()
    clock.now = T0 + POLICY.grace - timedelta(seconds=30)  # the worker was down until now
    publisher.tick()
    assert target(db, post.id).state is T.SENT


def test_late_post_beyond_grace_is_held_for_a_new_time(db, clock, platform, make_post, publisher, agents):
    post = make_post()
    clock.now = T0 + POLICY.grace + timedelta(minutes=1)
    report = publisher.tick()
    assert report.held == 1 and platform.posts == []
    held = posts_repo.get_post(db, post.id)
    assert held.state is S.APPROVED and held.hold_reason == "late"
    assert "post-held" in audit.event_names(db)
    publisher.tick()
    assert platform.posts == []
    calendar.reschedule(db, agents["julie"], post.id, at=clock.now + timedelta(hours=1), now=clock(), policy=POLICY)
    clock.advance(hours=1, seconds=1)
    publisher.tick()
    assert len(platform.posts) == 1 and posts_repo.get_post(db, post.id).state is S.SENT


def test_approval_after_the_time_does_not_publish(db, clock, agents, platform, publisher):
    post = calendar.create_post(db, agents["julie"], text="Fermeture exceptionnelle de la mairie annexe.",
                                accounts=["fake"], at=T0, now=clock(), platforms={"fake": "demo"})
    post_review.submit_post(db, agents["julie"], post.id, now=clock())
    clock.now = T0 + timedelta(minutes=1)
    approved = post_review.approve_post(db, agents["sophie"], post.id, now=clock(), policy=POLICY)
    assert approved.state is S.APPROVED and approved.hold_reason == "approved_late"
    publisher.tick()
    assert platform.posts == []


@pytest.mark.parametrize("state", ["draft", "submitted", "cancelled"])
def test_unapproved_or_cancelled_posts_are_never_published(db, clock, agents, platform, make_post, publisher, state):
    post = make_post(approve=state == "cancelled")
    if state == "submitted":
        post_review.submit_post(db, agents["julie"], post.id, now=clock())
    if state == "cancelled":
        calendar.cancel_post(db, agents["julie"], post.id, now=clock())
    clock.now = T0 + timedelta(seconds=1)
    publisher.tick()
    assert platform.posts == []


def test_post_edited_after_approval_behind_the_services_back_is_not_published(db, clock, platform, make_post,
                                                                             publisher):
    post = make_post()
    posts_repo.update_post(db, post.id, text="Texte changé après validation.", now=clock())
    clock.now = T0
    publisher.tick()
    assert platform.posts == []
    t = target(db, post.id)
    assert t.state is T.FAILED and t.error_code == "not_approved"


def test_charter_failure_at_publish_time_fails_with_the_reason(db, clock, platform, make_post):
    def blocking(db, text, platform, media, now):
        finding = Finding(code="reserve_blackout", severity=Severity.BLOCK, message="Veille du scrutin.", start=0,
                          end=1)
        return CharterResult((finding,), 3, len(text), 280)

    post = make_post()
    clock.now = T0
    Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, check=blocking).tick()
    t = target(db, post.id)
    assert t.state is T.FAILED and t.error_code == "charter_blocked" and "Veille du scrutin" in t.error
    assert platform.calls == []


def test_native_scheduling_hands_off_then_verifies_after_the_time(db, clock, make_post):
    fb = FakePlatform(clock=clock, native=True)
    post = make_post(native=True)
    publisher = Publisher(db, {"fake": fb}, clock=clock, policy=POLICY, rng=random.Random(2))
    clock.now = T0 - POLICY.native_lead
    publisher.tick()
    t = target(db, post.id)
    assert t.state is T.HANDED_OFF and len(fb.posts) == 1 and fb.posts[0].visible_at == T0
    clock.now = T0 + POLICY.verify_after + timedelta(seconds=1)
    publisher.tick()
    assert target(db, post.id).state is T.SENT and len(fb.posts) == 1
    names = audit.event_names(db)
    assert "post-handed-off" in names and names[-2:] == ["post-published", "message-archived"]


def test_native_post_not_seen_after_its_time_goes_to_a_person(db, clock, make_post):
    fb = FakePlatform(clock=clock, native=True)
    post = make_post(native=True)
    publisher = Publisher(db, {"fake": fb}, clock=clock, policy=POLICY)
    clock.now = T0 - POLICY.native_lead
    publisher.tick()
    fb.posts.clear()  # the platform lost it
    run_until(publisher, clock, T0 + POLICY.verify_window + timedelta(minutes=2), step_s=60)
    assert target(db, post.id).state is T.TO_VERIFY


def test_native_post_can_be_cancelled_on_the_platform(db, clock, agents, make_post):
    fb = FakePlatform(clock=clock, native=True)
    post = make_post(native=True)
    clock.now = T0 - POLICY.native_lead
    Publisher(db, {"fake": fb}, clock=clock, policy=POLICY).tick()
    cancelled = calendar.cancel_post(db, agents["julie"], post.id, now=clock(), connectors={"fake": fb})
    assert cancelled.state is S.CANCELLED and fb.posts == []


def test_another_worker_holding_the_lease_blocks_publishing(db, clock, platform, make_post):
    make_post()
    clock.now = T0
    first = Publisher(db, {"fake": FakePlatform(clock=clock)}, clock=clock, policy=POLICY, worker_id="a")
    assert first.acquire_lease()
    second = Publisher(db, {"fake": platform}, clock=clock, policy=POLICY, worker_id="b")
    assert second.tick().leased is False and platform.posts == []
