"""Approval of posts and the person's side of the outbox: submit, approve (four eyes), request changes,
release to the worker, retry what failed, and settle what is "à vérifier".

A post is released to the publishing worker (state ``scheduled``) only when a director who neither wrote nor
edited it (:mod:`services.editorial.revisions`) approved exactly its current content before its time. Approved
after its time, it stays ``approved`` with ``hold_reason="approved_late"`` and waits for a new time
(:func:`services.editorial.calendar.reschedule`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core import audit
from core.db import write_transaction
from core.errors import CharterBlocked, NotFoundError, ValidationError, WorkflowError
from core.models import Agent, DraftState, Post, Published, TargetState
from core.repo import posts as posts_repo
from editorial.workflow import Action as Flow
from editorial.workflow import after_approval, next_state
from services.accounts.permissions import Action, require
from services.editorial import revisions
from services.editorial.calendar import subject
from services.publishing.content import (
    DEFAULT_POLICY,
    CharterCheck,
    PublishPolicy,
    charter_check,
    hash_of,
    refresh_state,
    text_for,
)
from services.publishing.outcomes import archive_post

S, T = DraftState, TargetState


def _who(agent: Agent) -> dict[str, str]:
    return {"actor": agent.email, "role": str(agent.role)}


def charter_review(db: Database, post: Post, now: datetime, check: CharterCheck = charter_check
                   ) -> tuple[int | None, list[dict[str, Any]], tuple[str, ...]]:
    """Charter check of every account's text: (charter version, findings per account, warning codes); a
    blocking finding raises CharterBlocked."""
    records: list[dict[str, Any]] = []
    blocked: list[str] = []
    warnings: list[str] = []
    version = None
    for target in post.targets:
        result = check(db, text_for(post, target.account, target.platform), target.platform, post.media, now)
        version = result.charter_version
        records.extend({**r, "account": target.account} for r in result.records())
        warnings.extend(f.code for f in result.warnings)
        if result.blocked:
            blocked.extend(f"{target.account} : {f.message}" for f in result.findings
                           if str(f.severity) == "block")
    if blocked:
        raise CharterBlocked(reason="charter_blocks_post", blocked=" ; ".join(blocked), findings=tuple(records))
    return version, records, tuple(dict.fromkeys(warnings))


RESERVE_CODES = frozenset({"reserve_bilan", "reserve_candidate", "reserve_theme", "reserve_blackout"})


def post_findings(db: Database, post: Post, now: datetime, check: CharterCheck = charter_check
                  ) -> list[dict[str, Any]]:
    """The charter findings of every account's text of ``post`` at ``now`` (never raises on a blocking one): what
    the author sees in the Calendrier and the director before approving — a réserve finding first (issue #17)."""
    records: list[dict[str, Any]] = []
    for target in post.targets:
        result = check(db, text_for(post, target.account, target.platform), target.platform, post.media, now)
        records.extend({**r, "account": target.account} for r in result.records())
    return sorted(records, key=lambda r: r.get("code") not in RESERVE_CODES)


def preview_findings(db: Database, text: str, platforms: Sequence[Any], now: datetime,
                     check: CharterCheck = charter_check) -> list[dict[str, Any]]:
    """The charter findings of a text not saved yet, for each platform chosen (the new-post form), réserve
    findings first; the same finding on several platforms is listed once."""
    seen: dict[tuple[str, int, int], dict[str, Any]] = {}
    for platform in dict.fromkeys(platforms):
        for r in check(db, text, platform, (), now).records():
            seen.setdefault((str(r.get("code")), int(r.get("start") or 0), int(r.get("end") or 0)), r)
    return sorted(seen.values(), key=lambda r: r.get("code") not in RESERVE_CODES)


def submit_post(db: Database, agent: Agent, post_id: int, *, now: datetime,
                check: CharterCheck = charter_check) -> Post:
    """Send a draft to approval after the charter check of every account's text (a blocking finding refuses)."""
    require(agent, Action.POST_CREATE)
    with write_transaction(db):
        post = posts_repo.get_post(db, post_id)
        state = next_state(post.state, Flow.SUBMIT, needs_approval=True)
        version, records, warnings = charter_review(db, post, now, check)
        posts_repo.update_post(db, post_id, state=state, submitted_at=now, charter_version=version,
                               charter_result=records, comment="", now=now)
        audit.record(db, audit.PostSubmitted(**_who(agent), subject=subject(post_id), post_id=post_id,
                                             content_hash=post.content_hash, charter_version=version,
                                             warnings=warnings), at=now)
    return posts_repo.get_post(db, post_id)


def approve_post(db: Database, director: Agent, post_id: int, *, now: datetime, seen_hash: str | None = None,
                 policy: PublishPolicy = DEFAULT_POLICY) -> Post:
    """Approve a submitted post that one neither wrote nor edited; scheduled if still ahead of its time, else it
    waits."""
    require(director, Action.POST_APPROVE)
    with write_transaction(db):
        post = posts_repo.get_post(db, post_id)
        next_state(post.state, Flow.APPROVE, needs_approval=True, author_id=post.author_id, actor_id=director.id)
        revisions.require_not_editor(db, director, "post", post_id)
        if seen_hash is not None and seen_hash != post.content_hash:
            raise WorkflowError(reason="post_changed_during_review")
        outcome = after_approval(post.scheduled_at, now)
        posts_repo.update_post(db, post_id, state=S.APPROVED, approver_id=director.id, approved_at=now,
                               approved_hash=hash_of(post), hold_reason="approved_late" if outcome.schedule_missed
                               else "", now=now)
        audit.record(db, audit.PostApproved(**_who(director), subject=subject(post_id), post_id=post_id,
                                            approver=director.email, content_hash=hash_of(post),
                                            scheduled=not outcome.schedule_missed,
                                            editors=revisions.editor_emails(db, "post", post_id)), at=now)
        if outcome.schedule_missed:
            audit.record(db, audit.PostHeld(**_who(director), subject=subject(post_id), post_id=post_id,
                                            reason="approved_late", scheduled_at=post.scheduled_at), at=now)
        else:
            release(db, director, posts_repo.get_post(db, post_id), now=now, policy=policy)
    return posts_repo.get_post(db, post_id)


def request_changes(db: Database, director: Agent, post_id: int, *, comment: str, now: datetime) -> Post:
    """Send a submitted post back to its author with a comment."""
    require(director, Action.POST_APPROVE)
    with write_transaction(db):
        post = posts_repo.get_post(db, post_id)
        state = next_state(post.state, Flow.REQUEST_CHANGES, needs_approval=True, author_id=post.author_id,
                           actor_id=director.id, comment=comment)
        posts_repo.update_post(db, post_id, state=state, comment=comment.strip(), now=now)
        audit.record(db, audit.PostChangesRequested(**_who(director), subject=subject(post_id), post_id=post_id,
                                                    comment=comment.strip()), at=now)
    return posts_repo.get_post(db, post_id)


def release(db: Database, actor: Agent | None, post: Post, *, now: datetime,
            policy: PublishPolicy | None = None) -> None:
    """Hand an approved post to the worker: targets pending from its time (call inside a transaction)."""
    policy = policy or DEFAULT_POLICY
    if post.approved_at is None or post.approved_hash != hash_of(post):
        raise WorkflowError(reason="post_not_approved")
    if post.scheduled_at <= now:
        raise WorkflowError(reason="post_time_passed")
    first_try = post.scheduled_at - policy.native_lead if post.native_schedule else post.scheduled_at
    posts_repo.update_post_targets(
        db, post.id, states=[T.PENDING, T.FAILED], now=now, state=T.PENDING, due_at=post.scheduled_at,
        not_before=max(first_try, now), deadline_at=post.scheduled_at + policy.retry_window, attempts=0,
        needs_check=False, error_code="", error="", claim_token=None, claimed_by=None, claimed_at=None)
    posts_repo.update_post(db, post.id, state=S.SCHEDULED, hold_reason="", now=now)
    who = _who(actor) if actor is not None else {"actor": audit.SYSTEM_WORKER}
    audit.record(db, audit.PostScheduled(**who, subject=subject(post.id), post_id=post.id,
                                         scheduled_at=post.scheduled_at), at=now)


def retry_failed(db: Database, agent: Agent, post_id: int, *, now: datetime,
                 policy: PublishPolicy = DEFAULT_POLICY) -> Post:
    """Publish again, now, on the accounts where the post failed (its approved content is unchanged)."""
    require(agent, Action.POST_CREATE)
    with write_transaction(db):
        post = posts_repo.get_post(db, post_id)
        failed = [t for t in post.targets if t.state is T.FAILED]
        if not failed:
            raise WorkflowError(reason="post_nothing_to_retry")
        if post.approved_at is None or post.approved_hash != hash_of(post):
            raise WorkflowError(reason="post_changed_since_approval")
        for target in failed:
            posts_repo.update_target(db, target.id, now=now, expect_state=T.FAILED, state=T.PENDING, due_at=now,
                                     not_before=now, deadline_at=now + policy.retry_window, attempts=0,
                                     needs_check=False, error_code="", error="")
        posts_repo.update_post(db, post_id, state=S.SCHEDULED, hold_reason="", now=now)
        audit.record(db, audit.PostRetried(**_who(agent), subject=subject(post_id), post_id=post_id,
                                           accounts=tuple(t.account for t in failed)), at=now)
    return posts_repo.get_post(db, post_id)


def verify_target(db: Database, agent: Agent, post_id: int, account: str, *, published: bool, now: datetime,
                  platform_id: str | None = None, permalink: str | None = None) -> Post:
    """Settle a target "à vérifier": a person looked on the platform and says whether the post is there."""
    require(agent, Action.POST_CREATE)
    if published and not (platform_id or permalink):
        raise ValidationError(reason="post_link_required")
    with write_transaction(db):
        post = posts_repo.get_post(db, post_id)
        target = next((t for t in post.targets if t.account == account), None)
        if target is None:
            raise NotFoundError(reason="post_target_unknown", post_id=post_id, account=account)
        if target.state is not T.TO_VERIFY:
            raise WorkflowError(reason="post_target_not_to_verify")
        if published:
            posts_repo.update_target(db, target.id, now=now, expect_state=T.TO_VERIFY, state=T.SENT,
                                     platform_id=platform_id, permalink=permalink, published_at=now, error_code="",
                                     error="")
        else:
            posts_repo.update_target(db, target.id, now=now, expect_state=T.TO_VERIFY, state=T.FAILED,
                                     error_code="verified_absent",
                                     error="Vérifié par une personne : la publication n'est pas sur la plateforme.")
        posts_repo.finish_attempts(db, target.id, outcome="verified", now=now, platform_id=platform_id)
        audit.record(db, audit.PostVerified(**_who(agent), subject=subject(post_id), post_id=post_id, account=account,
                                            published=published, platform_id=platform_id, permalink=permalink),
                     at=now)
        if published:
            audit.record(db, audit.PostPublished(**_who(agent), subject=subject(post_id), post_id=post_id,
                                                 account=account, platform=str(target.platform),
                                                 text=target.sent_text or text_for(post, account, target.platform),
                                                 platform_id=platform_id or "", permalink=permalink,
                                                 attempt=target.attempts, via="person"), at=now)
            if platform_id:
                archive_post(db, post, target, Published(platform_id=platform_id, permalink=permalink),
                             target.sent_text or text_for(post, account, target.platform), now=now, actor=agent.email)
        refresh_state(db, post_id, now=now)
    return posts_repo.get_post(db, post_id)


def pending_review(db: Database, director: Agent, *, limit: int = 100) -> Sequence[Post]:
    """Posts waiting for a director's approval, oldest time first."""
    require(director, Action.POST_APPROVE)
    return posts_repo.posts_in_states(db, [S.SUBMITTED], limit=limit)
