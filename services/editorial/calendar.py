"""The publishing calendar: write, edit, reschedule, duplicate and cancel posts (approval is in
:mod:`services.editorial.post_review`, the views in :mod:`services.editorial.calendar_views`, recurring posts in
:mod:`services.editorial.recurrence`).

A post targets one or more accounts (connector names: ``demo``, ``x``, ``facebook``...) with a shared text and
optional variants keyed by account or platform; images need alternative text; its time is entered in Paris
wall-clock time and stored in UTC (:mod:`services.editorial.calendar_time`). Every change is audited in the same
transaction, and every content change is a revision naming its editor (:mod:`services.editorial.revisions`:
nobody approves what they wrote or edited). Editing the content of a submitted, approved or scheduled post sends
it back to review (charter checked again, approval cleared); moving it in time does not (the approved content
is unchanged), but a post can only be moved to a future time. Community managers edit and move their own posts
only, directors (``post.edit_any``) anyone's; any writer may cancel (that publishes nothing, and is audited).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

from sqlite_utils import Database

from connectors.base import Connector
from core import audit
from core.db import write_transaction
from core.errors import ConnectorError, ValidationError, WorkflowError
from core.models import Agent, DraftState, Platform, Post, TargetState
from core.repo import editorial_revisions as revisions_repo
from core.repo import posts as posts_repo
from core.repo import recurrence as recurrence_repo
from editorial.workflow import Action as Flow
from editorial.workflow import next_state
from services.accounts.permissions import Action, require, require_owner_or
from services.editorial.calendar_time import paris_to_utc
from services.publishing.content import PublishPolicy, content_hash, hash_of

S, T = DraftState, TargetState
# Posts whose content or time may still change (nothing has gone out or is going out).
_NOT_STARTED = {T.PENDING, T.CANCELLED, T.FAILED}


def subject(post_id: int) -> str:
    """Audit subject of a post."""
    return f"post:{post_id}"


class _Who(TypedDict):
    actor: str
    role: str


def _who(agent: Agent) -> _Who:
    return {"actor": agent.email, "role": str(agent.role)}


def resolve_accounts(accounts: Sequence[str], platforms: Mapping[str, Platform] | None = None
                     ) -> list[tuple[str, Platform]]:
    """``[(account, platform)]`` for the accounts chosen; an account named like a platform needs no mapping."""
    out: list[tuple[str, Platform]] = []
    for account in dict.fromkeys(a.strip() for a in accounts if a.strip()):
        platform = (platforms or {}).get(account)
        if platform is None:
            try:
                platform = Platform(account.split(":")[0])
            except ValueError:
                raise ValidationError(reason="post_account_unknown", account=account) from None
        out.append((account, platform))
    if not out:
        raise ValidationError(reason="post_no_account")
    return out


def _check_content(text: str, targets: Sequence[tuple[str, Platform]], variants: Mapping[str, str],
                   media: Sequence[Mapping[str, Any]]) -> None:
    keys = {a for a, _ in targets} | {str(p) for _, p in targets}
    unknown = sorted(set(variants) - keys)
    if unknown:
        raise ValidationError(reason="post_variant_unknown_account", accounts=unknown)
    for account, platform in targets:
        if not (variants.get(account) or variants.get(str(platform)) or text).strip():
            raise ValidationError(reason="post_text_empty", account=account)
    for i, item in enumerate(media, 1):
        if item.get("kind", "image") == "image" and not str(item.get("alt", "")).strip():
            raise ValidationError(reason="post_image_no_alt", image=item.get("name") or f"n° {i}")


def _future_utc(at: datetime, now: datetime, fold: int) -> datetime:
    when = paris_to_utc(at, fold=fold)
    if when <= now:
        raise ValidationError(reason="post_time_past")
    return when


def _clean_media(media: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"kind": str(m.get("kind", "image")), "name": str(m.get("name", "")), "alt": str(m.get("alt", "")).strip(),
             **({"path": str(m["path"])} if m.get("path") else {})} for m in media]


def create_post(db: Database, agent: Agent, *, text: str, accounts: Sequence[str], at: datetime, now: datetime,
                variants: Mapping[str, str] | None = None, media: Sequence[Mapping[str, Any]] = (),
                native_schedule: bool = False, platforms: Mapping[str, Platform] | None = None,
                fold: int = 0, source_post_id: int | None = None) -> Post:
    """Write a draft post for ``at`` (naive = Paris wall-clock time; ``fold=1``: second 02:xx in October)."""
    require(agent, Action.POST_CREATE)
    targets = resolve_accounts(accounts, platforms)
    variants = {k: v for k, v in (variants or {}).items() if v.strip()}
    clean = _clean_media(media)
    _check_content(text, targets, variants, clean)
    when = _future_utc(at, now, fold)
    digest = content_hash(text=text.strip(), variants=variants, media=clean, accounts=[a for a, _ in targets],
                          native_schedule=native_schedule)
    with write_transaction(db):
        post_id = posts_repo.insert_post(db, author_id=agent.id, text=text.strip(), scheduled_at=when, state=S.DRAFT,
                                         content_hash=digest, targets=targets, now=now, variants=variants,
                                         media=clean, native_schedule=native_schedule)
        assert post_id is not None
        revisions_repo.add(db, "post", post_id, editor_id=agent.id, content_hash=digest, now=now,
                           origin="duplicated" if source_post_id is not None else "created",
                           source=("post", source_post_id) if source_post_id is not None else None)
        audit.record(db, audit.PostCreated(**_who(agent), subject=subject(post_id), post_id=post_id,
                                           text=text.strip(), accounts=tuple(a for a, _ in targets),
                                           scheduled_at=when, variants=variants, media=tuple(clean),
                                           source_post_id=source_post_id), at=now)
    return posts_repo.get_post(db, post_id)


def _not_started(post: Post, what: str) -> None:
    """``what``: "edit" or "move"."""
    busy = [t.account for t in post.targets if t.state not in _NOT_STARTED]
    if busy:
        raise WorkflowError(reason="post_started_edit" if what == "edit" else "post_started_move", accounts=busy)


def edit_post(db: Database, agent: Agent, post_id: int, *, now: datetime, text: str | None = None,
              accounts: Sequence[str] | None = None, variants: Mapping[str, str] | None = None,
              media: Sequence[Mapping[str, Any]] | None = None, native_schedule: bool | None = None,
              platforms: Mapping[str, Platform] | None = None) -> Post:
    """Change a post's content (nothing if unchanged). A submitted, approved or scheduled post goes back to
    review: charter checked again (a blocking finding refuses the edit), approval cleared, and the editor may
    not approve it (four eyes over every revision's editor)."""
    from services.editorial.post_review import charter_review  # the approval side owns the review

    require(agent, Action.POST_CREATE)
    with write_transaction(db):
        post = posts_repo.get_post(db, post_id)
        require_owner_or(agent, post.author_id, Action.POST_EDIT_ANY, base=Action.POST_CREATE)
        _not_started(post, "edit")
        new_text = post.text if text is None else text.strip()
        current = [(t.account, t.platform) for t in post.targets]
        targets = current if accounts is None else resolve_accounts(accounts, {**dict(current), **(platforms or {})})
        new_variants = dict(post.variants) if variants is None else {k: v for k, v in variants.items() if v.strip()}
        new_media = list(post.media) if media is None else _clean_media(media)
        native = post.native_schedule if native_schedule is None else native_schedule
        _check_content(new_text, targets, new_variants, new_media)
        digest = content_hash(text=new_text, variants=new_variants, media=new_media,
                              accounts=[a for a, _ in targets], native_schedule=native)
        if digest == hash_of(post):
            return post
        state = next_state(post.state, Flow.EDIT, needs_approval=True)
        reopened = post.state in (S.APPROVED, S.SCHEDULED, S.FAILED)
        changes: dict[str, Any] = {"text": new_text, "variants": new_variants, "media": new_media,
                                   "native_schedule": native, "content_hash": digest, "state": state}
        if reopened:
            changes.update(approved_hash=None, approved_at=None, approver_id=None, hold_reason="")
        posts_repo.update_post(db, post_id, now=now, **changes)
        new_accounts = {a for a, _ in targets}
        posts_repo.remove_targets(db, post_id, [a for a, _ in current if a not in new_accounts])
        posts_repo.add_targets(db, post_id, [(a, p) for a, p in targets if a not in dict(current)], now=now)
        _park_targets(db, post_id, now=now)
        version: int | None = None
        warnings: tuple[str, ...] = ()
        if state is S.SUBMITTED:  # back to review: the reviewer sees the charter result of this revision
            version, records, warnings = charter_review(db, posts_repo.get_post(db, post_id), now)
            posts_repo.update_post(db, post_id, submitted_at=now, charter_version=version, charter_result=records,
                                   comment="", now=now)
        revision = revisions_repo.add(db, "post", post_id, editor_id=agent.id, origin="edited", content_hash=digest,
                                      now=now)
        audit.record(db, audit.PostEdited(**_who(agent), subject=subject(post_id), post_id=post_id, text=new_text,
                                          accounts=tuple(sorted(new_accounts)), variants=new_variants,
                                          media=tuple(new_media), reopened=reopened, revision=revision,
                                          in_review=state is S.SUBMITTED, charter_version=version,
                                          warnings=warnings), at=now)
    return posts_repo.get_post(db, post_id)


def _park_targets(db: Database, post_id: int, *, now: datetime) -> None:
    """Targets of a post that is not released: pending, not due, attempts and errors cleared."""
    posts_repo.update_post_targets(db, post_id, states=[T.PENDING, T.FAILED], now=now, state=T.PENDING,
                                   due_at=None, not_before=None, deadline_at=None, attempts=0, needs_check=False,
                                   error_code="", error="", claim_token=None, claimed_by=None, claimed_at=None)


def reschedule(db: Database, agent: Agent, post_id: int, *, at: datetime, now: datetime, fold: int = 0,
               policy: PublishPolicy | None = None) -> Post:
    """Move a post to a new (future) time; a post held for lateness or late approval is scheduled again."""
    from services.editorial.post_review import release  # the approval side owns "release to the worker"

    require(agent, Action.POST_CREATE)
    when = _future_utc(at, now, fold)
    with write_transaction(db):
        post = posts_repo.get_post(db, post_id)
        require_owner_or(agent, post.author_id, Action.POST_EDIT_ANY, base=Action.POST_CREATE)
        if post.state is S.CANCELLED:
            raise WorkflowError(reason="post_cancelled_move")
        _not_started(post, "move")
        posts_repo.update_post(db, post_id, scheduled_at=when, hold_reason="", now=now)
        audit.record(db, audit.PostRescheduled(**_who(agent), subject=subject(post_id), post_id=post_id,
                                               before=post.scheduled_at, after=when), at=now)
        if post.state in (S.APPROVED, S.SCHEDULED, S.FAILED):
            release(db, agent, posts_repo.get_post(db, post_id), now=now, policy=policy)
    return posts_repo.get_post(db, post_id)


def duplicate(db: Database, agent: Agent, post_id: int, *, now: datetime, at: datetime | None = None,
              fold: int = 0) -> Post:
    """A new draft with the same content and accounts, at ``at`` (default: the original time, if still ahead)."""
    source = posts_repo.get_post(db, post_id)
    when = at if at is not None else source.scheduled_at
    return create_post(db, agent, text=source.text, accounts=list(source.accounts), at=when, now=now,
                       variants=source.variants, media=source.media, native_schedule=source.native_schedule,
                       platforms={t.account: t.platform for t in source.targets}, fold=fold, source_post_id=post_id)


def _not_busy(post: Post) -> None:
    busy = [t.account for t in post.targets if t.state in (T.PUBLISHING, T.TO_VERIFY)]
    if busy:
        raise WorkflowError(reason="post_sending_or_to_verify", accounts=busy)


def cancel_post(db: Database, agent: Agent, post_id: int, *, now: datetime, reason: str = "",
                connectors: Mapping[str, Connector] | None = None) -> Post:
    """Cancel what has not gone out; a post natively scheduled on a platform is withdrawn there first."""
    require(agent, Action.POST_CREATE)
    post = posts_repo.get_post(db, post_id)
    if post.state is S.CANCELLED:
        return post
    _not_busy(post)
    for target in post.targets:
        if target.state is T.HANDED_OFF and target.platform_id:
            connector = (connectors or {}).get(target.account)
            if connector is None:
                raise WorkflowError(reason="post_withdraw_needs_connection", account=target.account)
            try:
                connector.delete(target.platform_id)
            except ConnectorError as err:
                raise WorkflowError(reason="post_withdraw_failed", account=target.account, cause=err) from err
    with write_transaction(db):
        post = posts_repo.get_post(db, post_id)
        _not_busy(post)
        live = [t for t in post.targets if t.state in (T.PENDING, T.FAILED, T.HANDED_OFF)]
        sent = [t for t in post.targets if t.state is T.SENT]
        if not live and sent:
            raise WorkflowError(reason="post_fully_published")
        for target in live:
            if not posts_repo.update_target(db, target.id, now=now, expect_state=target.state, state=T.CANCELLED,
                                            not_before=None):
                raise WorkflowError(reason="post_send_just_started", account=target.account)
        state = S.SENT if sent else S.CANCELLED
        posts_repo.update_post(db, post_id, state=state, now=now)
        audit.record(db, audit.PostCancelled(**_who(agent), subject=subject(post_id), post_id=post_id,
                                             reason=reason), at=now)
        if post.recurrence_id is not None and post.occurrence_date is not None:
            _skip_occurrence(db, agent, post, now=now)
    return posts_repo.get_post(db, post_id)


def _skip_occurrence(db: Database, agent: Agent, post: Post, *, now: datetime) -> None:
    """A cancelled occurrence of a recurring post becomes an exception of its rule (never re-created)."""
    assert post.recurrence_id is not None and post.occurrence_date is not None
    rule = recurrence_repo.get(db, post.recurrence_id)
    recurrence_repo.update(db, rule.id, now=now, exceptions=sorted({*rule.exceptions, post.occurrence_date}))
    audit.record(db, audit.RecurrenceExceptionAdded(**_who(agent), subject=f"recurrence:{rule.id}",
                                                    recurrence_id=rule.id, day=post.occurrence_date.isoformat(),
                                                    cancelled_post_id=post.id), at=now)
