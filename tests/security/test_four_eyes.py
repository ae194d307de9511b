"""Issue #15 finding 1: four eyes that hold. Nobody approves a revision they wrote or edited; any edit after
submission or approval sends it back to review; the record names every revision's editor.

Before the fix, approval compared the approver with the post's creator only, and anyone who may write posts could
edit anyone's: a director rewrote a community manager's post, or edited a post or a series after approving it, and
approved it alone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from core import audit, repo
from core.errors import CharterBlocked, PermissionDenied, WorkflowError
from core.models import DraftState, Platform, Role, SignatureStyle, TargetState
from core.repo import posts as posts_repo
from services.editorial import calendar, post_review, recurrence
from tests.french import raises_fr

S, T = DraftState, TargetState
AT = datetime(2026, 11, 30, 9, 0)  # Paris wall-clock time, a week after the tests' "now"
TEXT = "Collecte des encombrants lundi dans le quartier Nord."


@pytest.fixture
def paul(db, now):
    """A second communication director: the one who may approve what Sophie edited."""
    return repo.create_agent(db, email="paul@valmont.fr", name="Paul Roux", initials="PR", role=Role.DIRECTOR,
                             signature_style=SignatureStyle.FIRST_NAME, now=now)


def submitted_post(db, author, now, text: str = TEXT):
    post = calendar.create_post(db, author, text=text, accounts=["demo"], at=AT, now=now,
                                platforms={"demo": Platform.DEMO})
    return post_review.submit_post(db, author, post.id, now=now)


def test_a_director_who_edits_a_submitted_post_cannot_approve_it(db, agents, paul, now):
    julie, sophie = agents["julie"], agents["sophie"]
    post = submitted_post(db, julie, now)
    edited = calendar.edit_post(db, sophie, post.id, text="Collecte des encombrants mardi (et non lundi).", now=now)
    assert edited.state is S.SUBMITTED
    with raises_fr(WorkflowError, "vous avez rédigé ou modifié ce contenu"):
        post_review.approve_post(db, sophie, post.id, now=now)
    assert posts_repo.get_post(db, post.id).approver_id is None
    approved = post_review.approve_post(db, paul, post.id, now=now)  # another director may
    assert approved.state is S.SCHEDULED and approved.approver_id == paul.id


def test_an_edit_after_approval_goes_back_to_review_and_its_editor_cannot_approve_it(db, agents, paul, now):
    julie, sophie = agents["julie"], agents["sophie"]
    post = post_review.approve_post(db, sophie, submitted_post(db, julie, now).id, now=now)
    assert post.state is S.SCHEDULED
    edited = calendar.edit_post(db, sophie, post.id, text=TEXT + " Sortez-les la veille.", now=now)
    assert edited.state is S.SUBMITTED and edited.approved_at is None and edited.approver_id is None
    assert edited.targets[0].not_before is None  # the worker will not publish it
    with raises_fr(WorkflowError, "quatre yeux"):
        post_review.approve_post(db, sophie, post.id, now=now)
    assert post_review.approve_post(db, paul, post.id, now=now).state is S.SCHEDULED


def test_an_edit_in_review_is_checked_by_the_charter_again(db, agents, now):
    """Before: an approved post edited to a blocked text went back to review with the old, clean charter result."""
    julie, sophie = agents["julie"], agents["sophie"]
    post = post_review.approve_post(db, sophie, submitted_post(db, julie, now).id, now=now)
    with pytest.raises(CharterBlocked):
        calendar.edit_post(db, julie, post.id, text="Appelez Mme Durand au 06 12 34 56 78.", now=now)
    kept = posts_repo.get_post(db, post.id)
    assert kept.text == TEXT and kept.state is S.SCHEDULED  # nothing changed


def test_the_record_names_every_revision_s_editor(db, agents, paul, now):
    from services.editorial import revisions  # the editorial record this finding added

    julie, sophie = agents["julie"], agents["sophie"]
    post = submitted_post(db, julie, now)
    calendar.edit_post(db, sophie, post.id, text="Collecte des encombrants mardi.", now=now)
    post_review.approve_post(db, paul, post.id, now=now)
    lines = revisions.history(db, "post", post.id)
    assert [(r.revision, r.editor, r.origin) for r in lines] == [
        (1, "Julie Martin <julie@valmont.fr>", "rédaction"), (2, "Sophie Laurent <sophie@valmont.fr>", "modification")]
    events = {e["event"]: e for e in audit.events_for(db, f"post:{post.id}")}
    edited = events["post-edited"]
    assert edited["actor"] == "sophie@valmont.fr" and edited["properties"]["revision"] == 2
    approval = events["post-approved"]["properties"]
    assert approval["approver"] == "paul@valmont.fr"
    assert approval["editors"] == ["julie@valmont.fr", "sophie@valmont.fr"]


def test_a_series_edited_by_its_approver_needs_another_approver(db, agents, paul, now):
    julie, sophie = agents["julie"], agents["sophie"]
    rule = recurrence.create_recurrence(db, julie, text=TEXT, accounts=["demo"], freq="weekly", weekdays=[0],
                                        local_time="09:00", start_date=date(2026, 11, 30), now=now,
                                        platforms={"demo": Platform.DEMO})
    recurrence.submit_recurrence(db, julie, rule.id, now=now)
    recurrence.approve_recurrence(db, sophie, rule.id, now=now, horizon=timedelta(days=14))
    edited = recurrence.edit_recurrence(db, sophie, rule.id, text="Encombrants : nouveau circuit.", now=now)
    assert edited.state is S.SUBMITTED
    with raises_fr(WorkflowError, "quatre yeux"):
        recurrence.approve_recurrence(db, sophie, rule.id, now=now, horizon=timedelta(days=14))
    approved = recurrence.approve_recurrence(db, paul, rule.id, now=now, horizon=timedelta(days=14))
    assert approved.state is S.APPROVED and approved.approver_id == paul.id
    approvals = [e for e in audit.events_for(db, f"recurrence:{rule.id}") if e["event"] == "recurrence-approved"]
    assert approvals[-1]["properties"]["editors"] == ["julie@valmont.fr", "sophie@valmont.fr"]


def test_an_occurrence_edited_by_the_series_approver_needs_another_approver(db, agents, paul, now):
    julie, sophie = agents["julie"], agents["sophie"]
    rule = recurrence.create_recurrence(db, julie, text=TEXT, accounts=["demo"], freq="weekly", weekdays=[0],
                                        local_time="09:00", start_date=date(2026, 11, 30), now=now,
                                        platforms={"demo": Platform.DEMO})
    recurrence.submit_recurrence(db, julie, rule.id, now=now)
    recurrence.approve_recurrence(db, sophie, rule.id, now=now, horizon=timedelta(days=14))
    occurrence = next(p for p in posts_repo.posts_in_states(db, [S.SCHEDULED]) if p.recurrence_id == rule.id)
    calendar.edit_post(db, sophie, occurrence.id, text="Exceptionnellement mardi.", now=now)
    with raises_fr(WorkflowError, "quatre yeux"):
        post_review.approve_post(db, sophie, occurrence.id, now=now)
    assert post_review.approve_post(db, paul, occurrence.id, now=now).approver_id == paul.id


def test_a_copy_of_a_director_s_post_is_not_approved_by_that_director(db, agents, now):
    julie, sophie = agents["julie"], agents["sophie"]
    original = calendar.create_post(db, sophie, text="Édito de la directrice.", accounts=["demo"], at=AT, now=now,
                                    platforms={"demo": Platform.DEMO})
    copy = calendar.duplicate(db, julie, original.id, at=AT + timedelta(days=7), now=now)
    post_review.submit_post(db, julie, copy.id, now=now)
    with raises_fr(WorkflowError, "quatre yeux"):
        post_review.approve_post(db, sophie, copy.id, now=now)


def test_community_managers_edit_and_move_only_their_own_posts_and_series(db, agents, now):
    julie, karim, sophie = agents["julie"], agents["karim"], agents["sophie"]
    post = submitted_post(db, julie, now)
    with raises_fr(PermissionDenied, "Seuls son auteur et la direction"):
        calendar.edit_post(db, karim, post.id, text="Texte de Karim.", now=now)
    with raises_fr(PermissionDenied, "Seuls son auteur et la direction"):
        calendar.reschedule(db, karim, post.id, at=AT + timedelta(hours=2), now=now)
    rule = recurrence.create_recurrence(db, julie, text=TEXT, accounts=["demo"], freq="daily", local_time="09:00",
                                        start_date=date(2026, 11, 30), now=now, platforms={"demo": Platform.DEMO})
    with raises_fr(PermissionDenied, "Seuls son auteur et la direction"):
        recurrence.edit_recurrence(db, karim, rule.id, text="Texte de Karim.", now=now)
    assert posts_repo.get_post(db, post.id).text == TEXT
    # the director may (and then someone else approves); any writer may still cancel, which publishes nothing
    assert calendar.edit_post(db, sophie, post.id, text="Texte revu.", now=now).text == "Texte revu."
    assert calendar.cancel_post(db, karim, post.id, now=now).state is S.CANCELLED
