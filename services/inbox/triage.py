"""Shared-inbox use cases: list and search, assign, change status, tag, note, presence.

Each change is written together with its audit record in one write transaction. Role checks happen here, in
the core, not only in the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.db import write_transaction
from core.errors import PermissionDenied, ValidationError
from core.models import Agent, Draft, DraftState, InboxItem, Note, Status
from core.repo import InboxQuery  # the list query, built by the inbox page
from services.accounts.permissions import SYSTEM_PREFIX, Action, can, require

MAX_NOTE_LEN = 5_000
MAX_TAG_LEN = 40
# An open detail pane beats every PRESENCE_HEARTBEAT (console/ui/inbox/detail.py): a colleague who left is no
# longer listed after PRESENCE_WINDOW (issue #17: it lingered 5 minutes).
PRESENCE_HEARTBEAT = timedelta(seconds=30)
PRESENCE_WINDOW = timedelta(seconds=90)
THREAD_REPLIES_MAX = 200  # the thread's messages whose sent replies the « Fil » shows

# Allowed status changes from the inbox (replying sets ANSWERED through services.inbox.replies).
_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ASSIGNED, Status.WAITING, Status.ANSWERED, Status.CLOSED, Status.ESCALATED}),
    Status.ASSIGNED: frozenset({Status.NEW, Status.WAITING, Status.ANSWERED, Status.CLOSED, Status.ESCALATED}),
    Status.WAITING: frozenset({Status.ASSIGNED, Status.ANSWERED, Status.CLOSED, Status.ESCALATED, Status.NEW}),
    Status.ANSWERED: frozenset({Status.CLOSED, Status.WAITING, Status.ASSIGNED}),
    Status.CLOSED: frozenset({Status.NEW, Status.ASSIGNED}),  # reopen
    Status.ESCALATED: frozenset({Status.ASSIGNED, Status.ANSWERED, Status.CLOSED, Status.WAITING}),
}


def _require_writer(actor: Agent) -> None:
    """Community managers and directors work the inbox; legal staff and administrators only read it."""
    if not actor.active:
        raise PermissionDenied(f"{actor.email} is deactivated", reason="account_deactivated", email=actor.email)
    require(actor, Action.INBOX_TRIAGE)


@dataclass(frozen=True, slots=True)
class InboxPage:
    """One page of the inbox and the total count for the same filters."""

    items: list[InboxItem]
    total: int
    capped: bool = False  # True when there are at least COUNT_CAP matches (shown as "10 000+")


COUNT_CAP = 10_000


def may_read_private(viewer: Agent | str | None) -> bool:
    """Whether ``viewer`` sees private messages: an agent with ``private.read``, or a system actor (the worker,
    the CLI); nobody when the viewer is unknown (``None``)."""
    if isinstance(viewer, Agent):
        return can(viewer, Action.PRIVATE_READ)
    return viewer is not None and viewer.startswith(SYSTEM_PREFIX)


def require_may_see(viewer: Agent | str | None, item: InboxItem) -> None:
    """PermissionDenied when ``item`` is a private message ``viewer`` may not read (``private.read``)."""
    if item.private and not may_read_private(viewer):
        _refuse_private(viewer)


def _refuse_private(viewer: Agent | str | None) -> None:
    if isinstance(viewer, Agent):
        require(viewer, Action.PRIVATE_READ)  # raises, naming the role and the action
    raise PermissionDenied("private messages need an agent allowed to read them", reason="private_forbidden")


def private_scope(query: InboxQuery, viewer: Agent | str | None) -> InboxQuery:
    """``query`` as ``viewer`` may run it: without private messages for a role without ``private.read`` (the
    « Messages privés » filter is refused to it)."""
    if may_read_private(viewer):
        return query
    if query.private:
        _refuse_private(viewer)
    return replace(query, private=False)


def list_items(db: Database, query: InboxQuery, *, viewer: Agent | str | None = None) -> InboxPage:
    """The inbox list with filters, full-text search and ordering (priority first by default).

    Private messages are listed (and counted) only for a ``viewer`` allowed to read them (:func:`may_read_private`):
    an unknown viewer sees the public messages only.
    """
    query = private_scope(query, viewer)
    total = repo.count_inbox(db, query, cap=COUNT_CAP)
    return InboxPage(items=repo.list_inbox(db, query), total=total, capped=total >= COUNT_CAP)


@dataclass(frozen=True, slots=True)
class ItemDetail:
    """Everything the detail pane shows about one mention."""

    item: InboxItem
    thread: list[InboxItem]
    author_history: list[InboxItem]
    notes: list[Note]
    revisions: list[dict[str, Any]]
    other_viewers: list[Agent]
    assignee: Agent | None
    city_replies: list[Draft] = field(default_factory=list)  # the city's replies sent in this thread
    # The thread's posts above its inbox items that Parvis read only as context (Bluesky getPostThread, decision
    # 0260), root first: {uri, state: post|not_found|blocked, handle, text, created_at, permalink, own}.
    context: list[dict[str, Any]] = field(default_factory=list)
    root: repo.CityPost | None = None  # the city's own post the thread answers, shown first (issue #17)
    root_revisions: list[dict[str, Any]] = field(default_factory=list)  # its edits and deletion seen (0305)


def thread_context(thread: list[InboxItem]) -> list[dict[str, Any]]:
    """The context posts the thread's items carry (``raw["context"]``), each once, root first, without those that
    are inbox items themselves (shown as such). Each item's list is root first; the longest chain leads."""
    inbox = {it.mention.platform_id for it in thread}
    chains = sorted((c for it in thread if isinstance(c := it.mention.raw.get("context"), list)), key=len,
                    reverse=True)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for chain in chains:
        for entry in chain:
            uri = entry.get("uri") if isinstance(entry, dict) else None
            if isinstance(uri, str) and uri not in seen and uri not in inbox:
                seen.add(uri)
                out.append(entry)
    return out


def detail(db: Database, uid: str, *, viewer: Agent | None = None, now: datetime) -> ItemDetail:
    """The whole conversation thread, the author's earlier messages, notes, and who else has it open.

    When ``viewer`` is given, their presence on this item is recorded (for other agents' collision warning).
    A private message needs a viewer allowed to read it; opening it records ``private-conversation-read`` (once
    per agent and presence window). The author's history holds private messages only for such a viewer.
    """
    item = repo.get_item(db, uid)
    require_may_see(viewer, item)
    m = item.mention
    private_ok = may_read_private(viewer)
    thread = repo.conversation(db, str(m.platform), m.conversation_id) if m.conversation_id else [item]
    if not private_ok:
        thread = [t for t in thread if not t.private]
    history = repo.author_history(db, str(m.platform), m.author.platform_id, exclude_uid=uid,
                                  include_private=private_ok)
    others: list[Agent] = []
    if viewer is not None:
        if item.private and viewer.id not in repo.viewers(db, uid, since=now - PRESENCE_WINDOW):
            with write_transaction(db):
                audit.record(db, audit.PrivateConversationRead(
                    actor=viewer.email, role=str(viewer.role), subject=uid, platform=str(m.platform),
                    conversation_id=m.conversation_id or ""), at=now)
        others = presence(db, uid, viewer, now=now)
    assignee = repo.get_agent(db, item.assigned_to) if item.assigned_to else None
    sent = [d for it in thread[:THREAD_REPLIES_MAX] for d in repo.drafts_for(db, it.uid)
            if d.state in (DraftState.SENT, DraftState.TO_VERIFY, DraftState.PUBLISHING)]
    root = None  # the city's post the comments answer (none for a private conversation)
    if m.conversation_id and not item.private:
        root = repo.thread_root(db, str(m.platform), m.conversation_id)
    root_revisions = repo.city_post_revisions(db, root.platform, root.platform_id) if root else []
    return ItemDetail(item=item, thread=thread, author_history=history, notes=repo.notes_for(db, uid),
                      revisions=repo.revisions(db, uid), other_viewers=others, assignee=assignee,
                      city_replies=sorted(sent, key=lambda d: d.sent_at or d.updated_at),
                      context=thread_context(thread), root=root, root_revisions=root_revisions)


def presence(db: Database, uid: str, viewer: Agent, *, now: datetime) -> list[Agent]:
    """Record that ``viewer`` has ``uid`` open (a heartbeat); the other agents who had it open lately."""
    with write_transaction(db):
        repo.touch_presence(db, uid, viewer.id, now=now)
    ids = [a for a in repo.viewers(db, uid, since=now - PRESENCE_WINDOW) if a != viewer.id]
    return [repo.get_agent(db, a) for a in ids]


def assign(db: Database, uid: str, agent_id: int | None, *, actor: Agent, now: datetime) -> InboxItem:
    """Assign ``uid`` to ``agent_id`` (None: unassign). A new item becomes ASSIGNED; unassigning reverts to NEW."""
    _require_writer(actor)
    with write_transaction(db):
        target = repo.get_agent(db, agent_id) if agent_id is not None else None
        if target is not None and not can(target, Action.INBOX_TRIAGE):  # those who work the inbox, active
            raise ValidationError(f"{target.name} cannot be assigned inbox items", reason="assignee_not_allowed",
                                  name=target.name)
        item = repo.get_item(db, uid)
        require_may_see(actor, item)
        if target is not None and item.private and not can(target, Action.PRIVATE_READ):
            raise ValidationError(f"{target.name} cannot read private messages", reason="assignee_not_allowed",
                                  name=target.name)
        before = repo.set_assignee(db, uid, agent_id, now=now)
        audit.record(db, audit.MentionAssigned(actor=actor.email, role=actor.role, subject=uid,
                                               before=before, after=agent_id), at=now)
        if agent_id is not None and item.status is Status.NEW:
            _set_status(db, uid, item.status, Status.ASSIGNED, actor=actor, now=now)
        elif agent_id is None and item.status is Status.ASSIGNED:
            _set_status(db, uid, item.status, Status.NEW, actor=actor, now=now)
    return repo.get_item(db, uid)


def _set_status(db: Database, uid: str, before: Status, after: Status, *, actor: Agent, now: datetime) -> None:
    repo.set_status(db, uid, after, now=now)
    audit.record(db, audit.StatusChanged(actor=actor.email, role=actor.role, subject=uid,
                                         before=str(before), after=str(after)), at=now)


def change_status(db: Database, uid: str, status: Status | str, *, actor: Agent, now: datetime) -> InboxItem:
    """Move ``uid`` to ``status`` if the transition is allowed (ValidationError otherwise)."""
    _require_writer(actor)
    try:
        target = Status(status)
    except ValueError as err:
        raise ValidationError(f"unknown status {status!r}", reason="status_unknown", status=str(status)) from err
    with write_transaction(db):
        item = repo.get_item(db, uid)
        require_may_see(actor, item)
        if target is item.status:
            return item
        if target not in _TRANSITIONS[item.status]:
            raise ValidationError(f"cannot go from {item.status} to {target}", reason="status_transition_refused",
                                  status_from=str(item.status), status_to=str(target))
        _set_status(db, uid, item.status, target, actor=actor, now=now)
    return repo.get_item(db, uid)


def allowed_statuses(current: Status) -> list[Status]:
    """Statuses reachable from ``current`` (for the UI's select box)."""
    return [s for s in Status if s in _TRANSITIONS[current]]


def _clean_tag(tag: str) -> str:
    cleaned = " ".join(tag.strip().lower().split())
    if not cleaned or len(cleaned) > MAX_TAG_LEN:
        raise ValidationError(f"a tag has 1 to {MAX_TAG_LEN} characters", reason="tag_length", max=MAX_TAG_LEN)
    return cleaned


def add_tag(db: Database, uid: str, tag: str, *, actor: Agent, now: datetime) -> InboxItem:
    """Tag ``uid`` (lower-cased, trimmed); no-op if already tagged."""
    _require_writer(actor)
    cleaned = _clean_tag(tag)
    with write_transaction(db):
        require_may_see(actor, repo.get_item(db, uid))
        if repo.add_tag(db, uid, cleaned):
            audit.record(db, audit.TagAdded(actor=actor.email, role=actor.role, subject=uid, tag=cleaned), at=now)
    return repo.get_item(db, uid)


def remove_tag(db: Database, uid: str, tag: str, *, actor: Agent, now: datetime) -> InboxItem:
    """Remove a tag from ``uid``."""
    _require_writer(actor)
    cleaned = _clean_tag(tag)
    with write_transaction(db):
        if repo.remove_tag(db, uid, cleaned):
            audit.record(db, audit.TagRemoved(actor=actor.email, role=actor.role, subject=uid, tag=cleaned), at=now)
    return repo.get_item(db, uid)


def add_note(db: Database, uid: str, text: str, *, actor: Agent, now: datetime) -> Note:
    """Add an internal note (never published)."""
    _require_writer(actor)
    body = text.strip()
    if not body:
        raise ValidationError("a note cannot be empty", reason="note_required")
    if len(body) > MAX_NOTE_LEN:
        raise ValidationError(f"a note has at most {MAX_NOTE_LEN} characters", reason="note_too_long",
                              max=MAX_NOTE_LEN)
    with write_transaction(db):
        require_may_see(actor, repo.get_item(db, uid))
        note_id = repo.add_note(db, uid, actor.id, body, now=now)
        audit.record(db, audit.NoteAdded(actor=actor.email, role=actor.role, subject=uid, note_id=note_id,
                                         text=body), at=now)
    return next(n for n in repo.notes_for(db, uid) if n.id == note_id)


def get_item(db: Database, uid: str) -> InboxItem:
    """One stored mention with the team's work, or NotFoundError."""
    return repo.get_item(db, uid)


def all_tags(db: Database) -> list[str]:
    """Every tag in use, alphabetically (the inbox's tag filter)."""
    return repo.all_tags(db)
