"""The approval state machine: every (state, action) pair, guards, four eyes, approval after the slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from core.errors import WorkflowError
from core.models import DraftState as S
from editorial.workflow import TRANSITIONS, Action, after_approval, allowed_actions, approval_reasons, next_state
from tests.french import raises_fr

ALLOWED = {
    (S.DRAFT, Action.EDIT): S.DRAFT, (S.DRAFT, Action.SUBMIT): S.SUBMITTED,
    (S.DRAFT, Action.SCHEDULE): S.SCHEDULED, (S.DRAFT, Action.SEND): S.PUBLISHING,
    (S.DRAFT, Action.CANCEL): S.CANCELLED,
    (S.SUBMITTED, Action.EDIT): S.SUBMITTED, (S.SUBMITTED, Action.APPROVE): S.APPROVED,
    (S.SUBMITTED, Action.REQUEST_CHANGES): S.CHANGES_REQUESTED, (S.SUBMITTED, Action.CANCEL): S.CANCELLED,
    (S.CHANGES_REQUESTED, Action.EDIT): S.CHANGES_REQUESTED, (S.CHANGES_REQUESTED, Action.SUBMIT): S.SUBMITTED,
    (S.CHANGES_REQUESTED, Action.CANCEL): S.CANCELLED,
    (S.APPROVED, Action.EDIT): S.SUBMITTED, (S.APPROVED, Action.SCHEDULE): S.SCHEDULED,
    (S.APPROVED, Action.SEND): S.PUBLISHING, (S.APPROVED, Action.CANCEL): S.CANCELLED,
    (S.SCHEDULED, Action.EDIT): S.SUBMITTED, (S.SCHEDULED, Action.SEND): S.PUBLISHING,
    (S.SCHEDULED, Action.CANCEL): S.CANCELLED,
    (S.PUBLISHING, Action.MARK_SENT): S.SENT, (S.PUBLISHING, Action.MARK_FAILED): S.FAILED,
    (S.PUBLISHING, Action.MARK_UNCERTAIN): S.TO_VERIFY,
    (S.FAILED, Action.SEND): S.PUBLISHING, (S.FAILED, Action.EDIT): S.SUBMITTED, (S.FAILED, Action.CANCEL): S.CANCELLED,
    (S.TO_VERIFY, Action.MARK_SENT): S.SENT, (S.TO_VERIFY, Action.MARK_FAILED): S.FAILED,
}


def test_the_table_is_exactly_the_documented_one():
    assert TRANSITIONS == ALLOWED


@pytest.mark.parametrize(("state", "action"), sorted(product(S, Action)))
def test_every_pair_is_allowed_or_refused(state, action):
    """Every illegal transition is refused with a French explanation; every legal one lands where documented."""
    kwargs = {"needs_approval": True, "author_id": 1, "actor_id": 2, "comment": "à revoir"}
    if (state, action) in ALLOWED:
        if (state, action) in {(S.DRAFT, Action.SEND), (S.DRAFT, Action.SCHEDULE)}:
            kwargs["needs_approval"] = False
        assert next_state(state, action, **kwargs) is ALLOWED[(state, action)]
    else:
        with raises_fr(WorkflowError, "Impossible (de |d')"):
            next_state(state, action, **kwargs)


def test_sent_and_cancelled_are_terminal():
    assert allowed_actions(S.SENT) == () and allowed_actions(S.CANCELLED) == ()


@pytest.mark.parametrize("action", [Action.SEND, Action.SCHEDULE])
def test_a_draft_that_needs_approval_cannot_go_out(action):
    with raises_fr(WorkflowError, "validé par la direction"):
        next_state(S.DRAFT, action, needs_approval=True)


@pytest.mark.parametrize("action", [Action.APPROVE, Action.REQUEST_CHANGES])
def test_four_eyes(action):
    with raises_fr(WorkflowError, "quatre yeux"):
        next_state(S.SUBMITTED, action, needs_approval=True, author_id=7, actor_id=7, comment="x")


def test_request_changes_needs_a_comment():
    with raises_fr(WorkflowError, "commentaire"):
        next_state(S.SUBMITTED, Action.REQUEST_CHANGES, needs_approval=True, author_id=1, actor_id=2, comment="  ")


def test_editing_sends_approved_back_but_unapproved_scheduled_back_to_draft():
    assert next_state(S.APPROVED, Action.EDIT, needs_approval=False) is S.SUBMITTED
    assert next_state(S.SCHEDULED, Action.EDIT, needs_approval=True) is S.SUBMITTED
    assert next_state(S.SCHEDULED, Action.EDIT, needs_approval=False) is S.DRAFT
    assert next_state(S.FAILED, Action.EDIT, needs_approval=False) is S.DRAFT


def test_approval_after_the_scheduled_time_does_not_publish_by_itself():
    now = datetime(2026, 5, 4, 10, tzinfo=UTC)
    assert after_approval(now + timedelta(hours=1), now).state is S.SCHEDULED
    late = after_approval(now - timedelta(minutes=1), now)
    assert late.state is S.APPROVED and late.schedule_missed
    assert after_approval(None, now).state is S.APPROVED


def test_approval_reasons():
    assert approval_reasons(risk_score=0.2, risk_threshold=0.7, warnings=0, reserve_active=False,
                            agent_needs_approval=False) == ()
    assert approval_reasons(risk_score=0.7, risk_threshold=0.7, warnings=2, reserve_active=True,
                            agent_needs_approval=True) == ("risk", "charter_warnings", "reserve", "agent")
