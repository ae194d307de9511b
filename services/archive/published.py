"""Legal archive: every message published through Parvis, as sent, and what happened to it since.

The publishing code (services/inbox/replies.py, scheduled posts) calls :func:`archive_published` (or
:func:`archive_draft`) in the same write transaction as the "sent" state change. Later changes seen by sync
(edited, deleted, hidden on the platform) go through :func:`record_change`: appended, never overwritten.
Each archived row is sealed by a SHA-256 that is also written into the audit chain; :func:`verify_archive`
checks both. Who may read it (and who may export it) is the role matrix's ``audit.read`` and ``audit.export``
(services/accounts/permissions.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.clock import to_iso
from core.db import write_transaction
from core.errors import NotFoundError
from core.models import Agent, Draft, InboxItem, Published
from core.repo import archive as arch
from core.repo.archive import ArchiveChange, ArchivedMessage, ArchiveFilter
from services.accounts.permissions import SYSTEM_PREFIX, Action, can, require_actor

Actor = Agent | str  # an agent (UI, role-checked) or a system actor such as "system:worker"


def actor_identity(actor: Actor) -> tuple[str, str]:
    """(e-mail or system name, role) of whoever acts."""
    if isinstance(actor, Agent):
        return actor.email, str(actor.role)
    return actor, "system"


def require_audit_reader(actor: Actor) -> None:
    """Only those the role matrix lets read the audit trail (``audit.read``), and system actors."""
    require_actor(actor, Action.AUDIT_READ)


def payload_text(payload: dict[str, Any] | list[Any] | str | None) -> str:
    """The payload as stored: text kept byte for byte; a parsed object serialised canonically."""
    if payload is None:
        return "{}"
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _mention_snapshot(db: Database, uid: str | None) -> dict[str, Any]:
    if not uid:
        return {}
    try:
        item = repo.get_item(db, uid)
    except NotFoundError:
        return {"uid": uid, "missing": True}
    m = item.mention
    if m.private:  # the resident's private words are not copied into the append-only archive (issue #20)
        return {"uid": uid, "platform": str(m.platform), "platform_id": m.platform_id, "private": True,
                "author_id": m.author.platform_id, "author_handle": m.author.handle,
                "created_at": to_iso(m.created_at), "conversation_id": m.conversation_id}
    return {"uid": uid, "platform": str(m.platform), "platform_id": m.platform_id, "text": m.text,
            "author_id": m.author.platform_id, "author_handle": m.author.handle,
            "author_name": m.author.display_name, "created_at": to_iso(m.created_at),
            "permalink": m.permalink, "conversation_id": m.conversation_id}


def archive_published(db: Database, *, kind: str, platform: str, platform_id: str, text: str,
                      author: str, published_at: datetime, now: datetime, source: str = "", account: str = "",
                      permalink: str | None = None, body: str = "", signature: str = "", author_name: str = "",
                      approver: str | None = None, approver_name: str | None = None,
                      charter_version: int | None = None, charter_result: Iterable[dict[str, Any]] = (),
                      in_reply_to: str | None = None,
                      payload: dict[str, Any] | list[Any] | str | None = None,
                      actor: str = audit.SYSTEM_WORKER) -> ArchivedMessage:
    """Archive a published message as sent; idempotent on (platform, platform_id). Audited.

    ``text`` is exactly what the platform received (signature included); ``payload`` the platform's answer
    as captured (kept byte for byte when given as text); ``in_reply_to`` the uid of the mention answered.
    """
    with write_transaction(db):
        existing = arch.message_by_platform_id(db, str(platform), platform_id)
        if existing is not None:
            return existing
        fields = {
            "kind": kind, "source": source, "platform": str(platform), "account": account,
            "platform_id": platform_id, "permalink": permalink, "text": text, "body": body or text,
            "signature": signature, "author": author, "author_name": author_name, "approver": approver,
            "approver_name": approver_name, "charter_version": charter_version,
            "charter_result": json.dumps(list(charter_result), sort_keys=True, ensure_ascii=False, default=str),
            "in_reply_to": in_reply_to,
            "in_reply_to_snapshot": json.dumps(_mention_snapshot(db, in_reply_to), sort_keys=True,
                                               ensure_ascii=False),
            "published_at": to_iso(published_at),
            "archived_at": to_iso(now),
        }
        message = arch.insert_message(db, fields, payload=payload_text(payload))
        audit.record(db, audit.MessageArchived(
            actor=actor, role="system" if actor.startswith("system:") else "", subject=f"archive:{message.id}",
            archive_id=message.id, kind=kind, platform=str(platform), platform_id=platform_id,
            record_sha256=message.record_sha256, payload_sha256=message.payload_sha256), at=now)
    return message


def split_signature(body: str, signed_text: str) -> str:
    """The signature part of ``signed_text`` (what the signing step appended to ``body``)."""
    if signed_text.startswith(body):
        return signed_text[len(body):].strip()
    return ""


def archive_draft(db: Database, draft: Draft, published: Published, *, now: datetime, account: str = "",
                  payload: dict[str, Any] | list[Any] | str | None = None,
                  actor: str = audit.SYSTEM_WORKER) -> ArchivedMessage:
    """Archive a sent reply (or post) from its draft: author, approver and charter check come from the draft."""
    author = repo.get_agent(db, draft.author_id)
    approver = repo.get_agent(db, draft.approver_id) if draft.approver_id else None
    kind = "reply" if draft.mention_uid else "post"
    uid = draft.mention_uid
    if uid and repo.mention_exists(db, uid) and repo.get_item(db, uid).private:
        kind = "private_reply"  # access limited to private.read; never in reports (issue #20)
    return archive_published(
        db, kind=kind, source=f"draft:{draft.id}",
        platform=str(draft.platform), account=account, platform_id=published.platform_id,
        permalink=published.permalink, text=draft.signed_text, body=draft.body,
        signature=split_signature(draft.body, draft.signed_text), author=author.email, author_name=author.name,
        approver=approver.email if approver else None, approver_name=approver.name if approver else None,
        charter_version=draft.charter_version, charter_result=draft.charter_result,
        in_reply_to=draft.mention_uid, payload=payload if payload is not None else {
            "id": published.platform_id, "permalink": published.permalink},
        published_at=draft.sent_at or now, now=now, actor=actor)


def _is_repeat(db: Database, message: ArchivedMessage, change: str, text: str | None) -> bool:
    """True when the change adds nothing (hidden twice, edited to the same text)."""
    history = arch.changes_for(db, message.id)
    if change == "edited":
        current = next((c.text for c in reversed(history) if c.change == "edited"), message.text)
        return text == current
    if change in ("hidden", "unhidden"):
        last = next((c.change for c in reversed(history) if c.change in ("hidden", "unhidden")), "unhidden")
        return last == change
    return any(c.change == "deleted" for c in history)


def record_change(db: Database, *, platform: str, platform_id: str, change: str, seen_at: datetime,
                  actor: str = audit.SYSTEM_WORKER, text: str | None = None,
                  payload: dict[str, Any] | list[Any] | str | None = None) -> ArchiveChange | None:
    """Append a later change of a published message; None when it is not archived or nothing changed. Audited."""
    with write_transaction(db):
        message = arch.message_by_platform_id(db, str(platform), platform_id)
        if message is None or _is_repeat(db, message, change, text):
            return None
        row = arch.insert_change(db, message.id, change=change, seen_at=seen_at, actor=actor,
                                 text=text if change == "edited" else None, payload=payload_text(payload))
        audit.record(db, audit.ArchivedMessageChanged(
            actor=actor, role="system" if actor.startswith("system:") else "", subject=f"archive:{message.id}",
            archive_id=message.id, change_id=row.id, change=change, record_sha256=row.record_sha256), at=seen_at)
    return row


def record_mention_changes(db: Database, changes: Iterable[tuple[str, str, str | None]], *,
                           now: datetime) -> int:
    """Forward sync's revisions ``(uid, change, new text)`` that concern archived messages; return how many."""
    done = 0
    for uid, change, new_text in changes:
        platform, _, platform_id = uid.partition(":")
        if change in arch.CHANGES and record_change(db, platform=platform, platform_id=platform_id, change=change,
                                                    seen_at=now, text=new_text):
            done += 1
    return done


def search(db: Database, filters: ArchiveFilter, *, viewer: Actor | None = None
           ) -> tuple[list[ArchivedMessage], int]:
    """One page of archived messages matching ``filters`` and the total count; the city's private answers only
    for a ``viewer`` allowed to read private messages (``private.read``; system actors too)."""
    if not _may_read_private(viewer):
        filters = replace(filters, include_private=False)
    return arch.search_messages(db, filters), arch.count_messages(db, filters)


def _may_read_private(viewer: Actor | None) -> bool:
    if isinstance(viewer, Agent):
        return can(viewer, Action.PRIVATE_READ)
    return viewer is not None and viewer.startswith(SYSTEM_PREFIX)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageHistory:
    """Everything about one published message, for the Audit page's single-screen view."""

    message: ArchivedMessage
    changes: list[ArchiveChange]
    answered: InboxItem | None
    answered_revisions: list[dict[str, Any]]
    events: list[dict[str, Any]]


def history(db: Database, message_id: int) -> MessageHistory:
    """A message's whole history: as sent, the mention it answered, its workflow and later changes."""
    message = arch.get_message(db, message_id)
    answered = None
    revisions: list[dict[str, Any]] = []
    if message.in_reply_to:
        try:
            answered = repo.get_item(db, message.in_reply_to)
            revisions = repo.revisions(db, message.in_reply_to)
        except NotFoundError:
            answered = None
    subjects = [s for s in (message.in_reply_to, message.source, f"archive:{message.id}") if s]
    seen: dict[int, dict[str, Any]] = {}
    for subject in subjects:
        for event in audit.events_for(db, subject):
            seen[event["id"]] = event
    return MessageHistory(message=message, changes=arch.changes_for(db, message_id), answered=answered,
                          answered_revisions=revisions, events=[seen[k] for k in sorted(seen)])


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    """Outcome of :func:`verify_archive`: rows checked and the problems found (empty when intact)."""

    checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        """True when every archive row matches its seal and its audit record."""
        return not self.problems


def verify_archive(db: Database) -> ArchiveReport:
    """Recompute each archive row's seal and payload hash and compare them with the audit chain."""
    sealed: dict[tuple[str, int], str] = {}
    for row in audit.select_events(db, events=(audit.MessageArchived.name, audit.ArchivedMessageChanged.name)):
        props = json.loads(row["properties"])
        if row["event"] == audit.MessageArchived.name:
            sealed[("archive_messages", int(props["archive_id"]))] = props["record_sha256"]
        else:
            sealed[("archive_changes", int(props["change_id"]))] = props["record_sha256"]
    problems: list[str] = []
    checked = 0
    fields = {"archive_messages": arch.MESSAGE_FIELDS, "archive_changes": arch.CHANGE_FIELDS}
    for table, row, stored, payload in arch.iter_for_verification(db):
        checked += 1
        where = f"{table} #{row['id']}"
        if arch.record_sha256(row, fields[table]) != stored:
            problems.append(f"{where}: content does not match its seal (row edited)")
        elif arch.sha256_text(payload) != row["payload_sha256"]:
            problems.append(f"{where}: captured payload does not match its hash (payload edited)")
        elif sealed.pop((table, row["id"]), None) != stored:
            problems.append(f"{where}: seal differs from the one in the audit chain (row rewritten or added)")
    problems += [f"{table} #{rid}: archived per the audit chain but missing (row deleted)"
                 for table, rid in sorted(sealed)]
    return ArchiveReport(checked, problems)
