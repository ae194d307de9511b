"""The approval workflow of replies and posts: a pure state machine (no SQL, no I/O).

draft → submitted → approved / changes_requested (comment) → scheduled or sent. Every pair (state, action)
absent from :data:`TRANSITIONS` is refused with :class:`core.errors.WorkflowError`. Guards on top of the table:
- a message that needs approval cannot be scheduled or sent before a director approved it;
- the approver cannot be the author (four-eyes rule);
- editing an approved or scheduled message sends it back to approval;
- an approval given after the scheduled time does not publish by itself: the message stays approved and
  waits for a new time (:func:`after_approval`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from core.errors import WorkflowError
from core.models import DraftState

S = DraftState


class Action(enum.StrEnum):
    """What someone (or the worker) does to a message."""

    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    SCHEDULE = "schedule"
    SEND = "send"  # publishing starts (claimed by the sender or the worker)
    MARK_SENT = "mark_sent"
    MARK_FAILED = "mark_failed"
    MARK_UNCERTAIN = "mark_uncertain"  # the platform call timed out: verify before retrying
    CANCEL = "cancel"


TRANSITIONS: dict[tuple[DraftState, Action], DraftState] = {
    (S.DRAFT, Action.EDIT): S.DRAFT,
    (S.DRAFT, Action.SUBMIT): S.SUBMITTED,
    (S.DRAFT, Action.SCHEDULE): S.SCHEDULED,  # guard: no approval needed
    (S.DRAFT, Action.SEND): S.PUBLISHING,  # guard: no approval needed
    (S.DRAFT, Action.CANCEL): S.CANCELLED,
    (S.SUBMITTED, Action.EDIT): S.SUBMITTED,
    (S.SUBMITTED, Action.APPROVE): S.APPROVED,  # guard: four eyes
    (S.SUBMITTED, Action.REQUEST_CHANGES): S.CHANGES_REQUESTED,  # guard: comment, four eyes
    (S.SUBMITTED, Action.CANCEL): S.CANCELLED,
    (S.CHANGES_REQUESTED, Action.EDIT): S.CHANGES_REQUESTED,
    (S.CHANGES_REQUESTED, Action.SUBMIT): S.SUBMITTED,
    (S.CHANGES_REQUESTED, Action.CANCEL): S.CANCELLED,
    (S.APPROVED, Action.EDIT): S.SUBMITTED,  # back to approval
    (S.APPROVED, Action.SCHEDULE): S.SCHEDULED,
    (S.APPROVED, Action.SEND): S.PUBLISHING,
    (S.APPROVED, Action.CANCEL): S.CANCELLED,
    (S.SCHEDULED, Action.EDIT): S.SUBMITTED,  # guard: DRAFT instead when no approval is needed
    (S.SCHEDULED, Action.SEND): S.PUBLISHING,
    (S.SCHEDULED, Action.CANCEL): S.CANCELLED,
    (S.PUBLISHING, Action.MARK_SENT): S.SENT,
    (S.PUBLISHING, Action.MARK_FAILED): S.FAILED,
    (S.PUBLISHING, Action.MARK_UNCERTAIN): S.TO_VERIFY,
    (S.FAILED, Action.SEND): S.PUBLISHING,  # retry
    (S.FAILED, Action.EDIT): S.SUBMITTED,  # guard: DRAFT instead when no approval is needed
    (S.FAILED, Action.CANCEL): S.CANCELLED,
    (S.TO_VERIFY, Action.MARK_SENT): S.SENT,
    (S.TO_VERIFY, Action.MARK_FAILED): S.FAILED,
}
_NEEDS_APPROVED = {(S.DRAFT, Action.SCHEDULE), (S.DRAFT, Action.SEND)}
_EDIT_BACK = {S.SCHEDULED, S.FAILED}
_STATE_FR = {
    S.DRAFT: "brouillon", S.SUBMITTED: "soumis à validation", S.CHANGES_REQUESTED: "modifications demandées",
    S.APPROVED: "validé", S.SCHEDULED: "programmé", S.PUBLISHING: "en cours d'envoi", S.SENT: "envoyé",
    S.FAILED: "échec d'envoi", S.CANCELLED: "annulé", S.TO_VERIFY: "à vérifier",
}


def state_label(state: DraftState) -> str:
    """French name of a workflow state."""
    return _STATE_FR[state]


def next_state(state: DraftState, action: Action, *, needs_approval: bool, author_id: int | None = None,
               actor_id: int | None = None, comment: str = "") -> DraftState:
    """The state after ``action``, or WorkflowError (with a reason key) saying why it is refused."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise WorkflowError(reason="step_refused", step=str(action), draft_state=str(state))
    if (state, action) in _NEEDS_APPROVED and needs_approval:
        raise WorkflowError(reason="approval_required")
    if action in (Action.APPROVE, Action.REQUEST_CHANGES) and author_id is not None and actor_id == author_id:
        raise WorkflowError(reason="four_eyes")
    if action is Action.REQUEST_CHANGES and not comment.strip():
        raise WorkflowError(reason="changes_comment_required")
    if action is Action.EDIT and state in _EDIT_BACK and not needs_approval:
        return S.DRAFT
    return target


def allowed_actions(state: DraftState) -> tuple[Action, ...]:
    """Actions the table allows from ``state`` (before guards), for the UI's buttons."""
    return tuple(a for (s, a) in TRANSITIONS if s is state)


@dataclass(frozen=True, slots=True)
class AfterApproval:
    """What happens right after an approval: scheduled, or waiting for a new time."""

    state: DraftState
    schedule_missed: bool


def after_approval(scheduled_at: datetime | None, now: datetime) -> AfterApproval:
    """A message approved before its scheduled time gets scheduled; approved after it, it waits for a new time."""
    if scheduled_at is None:
        return AfterApproval(S.APPROVED, False)
    if scheduled_at > now:
        return AfterApproval(S.SCHEDULED, False)
    return AfterApproval(S.APPROVED, True)


APPROVAL_REASONS_FR = {
    "risk": "message d'origine à risque élevé",
    "charter_warnings": "avertissements de la charte",
    "reserve": "période de réserve électorale",
    "agent": "validation systématique pour cet agent",
}


def approval_reasons(*, risk_score: float, risk_threshold: float, warnings: int, reserve_active: bool,
                     agent_needs_approval: bool) -> tuple[str, ...]:
    """Why a message needs a director's approval (empty: it may be sent directly)."""
    reasons = []
    if risk_score >= risk_threshold:
        reasons.append("risk")
    if warnings:
        reasons.append("charter_warnings")
    if reserve_active:
        reasons.append("reserve")
    if agent_needs_approval:
        reasons.append("agent")
    return tuple(reasons)
