"""The calendar service: content rules, approval re-opened by edits, reschedule, duplicate, cancel, retry, views."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from core import audit
from core.errors import CharterBlocked, PermissionDenied, ValidationError, WorkflowError
from core.models import DraftState, Platform, TargetState
from core.repo import posts as posts_repo
from services.editorial import calendar, calendar_views, post_review
from services.publishing.posts import Publisher
from tests.french import raises_fr
from tests.publishing.conftest import POLICY, T0

S, T = DraftState, TargetState
PARIS_9H = datetime(2026, 6, 15, 9, 0)  # naive = Paris wall-clock time; = T0 in UTC


def test_time_is_entered_in_paris_and_stored_in_utc(db, agents, clock):
    post = calendar.create_post(db, agents["julie"], text="Fête de la musique place de la mairie.", accounts=["x"],
                                at=PARIS_9H, now=clock())
    assert post.scheduled_at == T0 and post.state is S.DRAFT and post.targets[0].platform is Platform.X


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"media": [{"name": "affiche.png", "alt": ""}]}, "texte alternatif"),
    ({"variants": {"facebook": "Autre texte"}}, "Variante"),
    ({"accounts": []}, "au moins un compte"),
    ({"accounts": ["mastodon-inconnu"]}, "Compte inconnu"),
    ({"at": datetime(2026, 6, 14, 9, 0)}, "déjà passée"),
    ({"text": "   "}, "vide"),
])
def test_invalid_posts_are_refused_with_a_clear_message(db, agents, clock, kwargs, message):
    args = {"text": "Conseil municipal jeudi à 19h.", "accounts": ["x"], "at": PARIS_9H, **kwargs}
    with raises_fr(ValidationError, message):
        calendar.create_post(db, agents["julie"], now=clock(), **args)


def test_images_with_alt_text_are_kept(db, agents, clock):
    post = calendar.create_post(db, agents["julie"], text="Nouvelle aire de jeux.", accounts=["facebook"],
                                at=PARIS_9H, now=clock(), media=[{"name": "aire.jpg", "alt": "Toboggan rouge"}])
    assert post.media == ({"kind": "image", "name": "aire.jpg", "alt": "Toboggan rouge"},)


def test_legal_cannot_write_posts_and_authors_cannot_approve_their_own(db, agents, clock, make_post):
    with pytest.raises(PermissionDenied):
        calendar.create_post(db, agents["marc"], text="x", accounts=["x"], at=PARIS_9H, now=clock())
    post = make_post(approve=False)
    post_review.submit_post(db, agents["julie"], post.id, now=clock())
    with pytest.raises(PermissionDenied):
        post_review.approve_post(db, agents["karim"], post.id, now=clock())
    own = calendar.create_post(db, agents["sophie"], text="Édito de la directrice.", accounts=["x"], at=PARIS_9H,
                               now=clock())
    post_review.submit_post(db, agents["sophie"], own.id, now=clock())
    with raises_fr(WorkflowError, "quatre yeux"):
        post_review.approve_post(db, agents["sophie"], own.id, now=clock())


def test_submit_runs_the_charter_and_blocks(db, agents, clock):
    post = calendar.create_post(db, agents["julie"], text="Appelez Mme Durand au 06 12 34 56 78.", accounts=["x"],
                                at=PARIS_9H, now=clock())
    with pytest.raises(CharterBlocked):
        post_review.submit_post(db, agents["julie"], post.id, now=clock())
    assert posts_repo.get_post(db, post.id).state is S.DRAFT


def test_editing_the_content_of_a_scheduled_post_reopens_approval(db, agents, clock, make_post):
    post = make_post()
    assert post.state is S.SCHEDULED
    edited = calendar.edit_post(db, agents["julie"], post.id, text="Collecte décalée à mardi.", now=clock())
    assert edited.state is S.SUBMITTED and edited.approved_at is None
    assert edited.targets[0].not_before is None  # not due for the worker any more
    assert audit.events_for(db, f"post:{post.id}")[-1]["properties"]["reopened"] is True


def test_an_unchanged_edit_keeps_the_approval(db, agents, clock, make_post):
    post = make_post()
    same = calendar.edit_post(db, agents["julie"], post.id, text=post.text, now=clock())
    assert same.state is S.SCHEDULED


def test_moving_a_post_in_time_keeps_its_approval(db, agents, clock, make_post):
    post = make_post()
    moved = calendar.reschedule(db, agents["julie"], post.id, at=datetime(2026, 6, 16, 18, 30), now=clock(),
                                policy=POLICY)
    assert moved.state is S.SCHEDULED and moved.scheduled_at == datetime.fromisoformat("2026-06-16T16:30+00:00")
    assert moved.targets[0].not_before == moved.scheduled_at
    with pytest.raises(ValidationError):
        calendar.reschedule(db, agents["julie"], post.id, at=datetime(2026, 6, 1, 9, 0), now=clock())


def test_duplicate_makes_an_independent_draft(db, agents, clock, make_post):
    post = make_post(accounts=("a", "b"), variants={"a": "Version A."})
    copy = calendar.duplicate(db, agents["karim"], post.id, at=datetime(2026, 6, 22, 9, 0), now=clock())
    assert copy.id != post.id and copy.state is S.DRAFT and copy.accounts == ("a", "b")
    assert copy.variants == {"a": "Version A."} and copy.author_id == agents["karim"].id
    created = audit.events_for(db, f"post:{copy.id}")
    assert [e["event"] for e in created] == ["post-created"]
    assert created[0]["properties"]["source_post_id"] == post.id


def test_cancel_and_published_posts_cannot_be_edited(db, agents, clock, platform, make_post, publisher):
    post = make_post()
    clock.now = T0
    publisher.tick()
    with raises_fr(WorkflowError, "Dupliquez"):
        calendar.edit_post(db, agents["julie"], post.id, text="Autre", now=clock())
    with pytest.raises(WorkflowError):
        calendar.cancel_post(db, agents["julie"], post.id, now=clock())
    other = make_post("Deuxième annonce.", at=T0 + timedelta(hours=2))
    assert calendar.cancel_post(db, agents["julie"], other.id, now=clock()).state is S.CANCELLED


def test_retry_failed_publishes_again_after_a_permanent_failure(db, agents, clock, platform, make_post, publisher):
    post = make_post()
    platform.script = ["perm"]
    clock.now = T0
    publisher.tick()
    assert posts_repo.get_post(db, post.id).state is S.FAILED
    retried = post_review.retry_failed(db, agents["julie"], post.id, now=clock(), policy=POLICY)
    assert retried.state is S.SCHEDULED
    publisher.tick()
    assert posts_repo.get_post(db, post.id).state is S.SENT and len(platform.posts) == 1
    assert "post-retried" in audit.event_names(db)


def test_week_month_and_queue_views(db, agents, clock, platform, make_post, publisher):
    sent = make_post("Publiée lundi.")
    failing = make_post("Échouera lundi.", at=T0 + timedelta(minutes=5))
    later = make_post("Jeudi soir.", accounts=("fake", "x"), at=T0 + timedelta(days=3, hours=10))
    draft = make_post("Brouillon mercredi.", at=T0 + timedelta(days=2), approve=False)
    platform.script = ["ok", "perm"]
    clock.now = T0 + timedelta(minutes=6)
    Publisher(db, {"fake": platform}, clock=clock, policy=POLICY).tick()

    week = calendar_views.week(db, date(2026, 6, 17))
    assert list(week.days) == [date(2026, 6, 15) + timedelta(days=i) for i in range(7)]
    monday = {e.post_id: e for e in week.days[date(2026, 6, 15)]}
    assert monday[sent.id].label == "publiée" and monday[sent.id].targets[0].permalink
    assert monday[failing.id].state is S.FAILED and "retry" in monday[failing.id].actions
    assert [e.post_id for e in week.days[date(2026, 6, 18)]] == [later.id]
    assert [e.post_id for e in calendar_views.week(db, date(2026, 6, 15), accounts=["x"]).days[date(2026, 6, 18)]] \
        == [later.id]
    assert calendar_views.week(db, date(2026, 6, 15), accounts=["x"]).days[date(2026, 6, 15)] == []

    month = calendar_views.month(db, 2026, 6)
    assert month.weeks[0][0] == date(2026, 6, 1) and month.weeks[-1][-1] == date(2026, 7, 5)
    assert sum(len(v) for v in month.days.values()) == 4

    queue = calendar_views.queue(db, now=clock())
    assert [e.post_id for e in queue.attention] == [failing.id]
    assert [e.post_id for e in queue.upcoming] == [draft.id, later.id]
    detail = calendar_views.detail(db, failing.id)
    assert detail["attempts"]["fake"][0]["outcome"] == "failed"
