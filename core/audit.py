"""Append-only, hash-chained audit log.

Each action is an :class:`AuditEvent` subclass with a kebab-case ``name``; :func:`record` appends it inside
the caller's write transaction, so the change and its audit row commit (or roll back) together.
Each row stores the SHA-256 of the previous row (``prev_hash``) and its own ``hash`` over a canonical JSON
of its id, time, actor, role, event, subject, properties and ``prev_hash``: editing, deleting, inserting or
reordering a row behind Parvis's back breaks the chain, which :func:`verify_chain` detects. SQLite triggers
(core/storage.py m004) refuse UPDATE and DELETE. Every event name is documented in docs/audit-events.md
(a test checks it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlite_utils import Database

from core.clock import from_iso, to_iso

GENESIS = "0" * 64
SYSTEM_WORKER = "system:worker"
SYSTEM_CLI = "system:cli"


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """Base class: ``actor`` is an agent e-mail or ``system:*``; ``subject`` the object acted on."""

    name: ClassVar[str] = ""
    actor: str
    role: str = ""
    subject: str = ""

    def properties(self) -> dict[str, Any]:
        """Event-specific fields (everything but actor, role and subject)."""
        data = asdict(self)
        for key in ("actor", "role", "subject"):
            data.pop(key)
        return data


# ---- foundation events ------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class SyncCompleted(AuditEvent):
    """A connector sync pass finished (counts only; mentions themselves are in the record)."""

    name: ClassVar[str] = "sync-completed"
    connector: str
    fetched: int
    inserted: int
    updated: int
    revised: int = 0
    skipped: int = 0
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class MentionsImported(AuditEvent):
    """Mentions loaded from a JSONL/CSV export with ``python -m console import``."""

    name: ClassVar[str] = "mentions-imported"
    file: str
    sha256: str
    inserted: int
    updated: int
    rejected_lines: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MentionRevised(AuditEvent):
    """The platform shows a mention edited, deleted or hidden since we first saw it."""

    name: ClassVar[str] = "mention-revised"
    change: str
    old_text: str | None = None
    new_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class MentionAssigned(AuditEvent):
    """A mention was assigned (or unassigned: ``after`` is None)."""

    name: ClassVar[str] = "mention-assigned"
    before: int | None
    after: int | None


@dataclass(frozen=True, kw_only=True)
class StatusChanged(AuditEvent):
    """A mention's inbox status changed."""

    name: ClassVar[str] = "status-changed"
    before: str
    after: str


@dataclass(frozen=True, kw_only=True)
class TagAdded(AuditEvent):
    """A tag was put on a mention."""

    name: ClassVar[str] = "tag-added"
    tag: str


@dataclass(frozen=True, kw_only=True)
class TagRemoved(AuditEvent):
    """A tag was taken off a mention."""

    name: ClassVar[str] = "tag-removed"
    tag: str


@dataclass(frozen=True, kw_only=True)
class NoteAdded(AuditEvent):
    """An internal note was written on a mention."""

    name: ClassVar[str] = "note-added"
    note_id: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ReplyDrafted(AuditEvent):
    """A reply draft was created or edited."""

    name: ClassVar[str] = "reply-drafted"
    draft_id: int
    body: str


@dataclass(frozen=True, kw_only=True)
class ReplySent(AuditEvent):
    """A reply went out: the exact text sent, the platform id and permalink."""

    name: ClassVar[str] = "reply-sent"
    draft_id: int
    text: str
    platform: str
    platform_id: str
    permalink: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReplyFailed(AuditEvent):
    """Sending a reply failed; nothing was published."""

    name: ClassVar[str] = "reply-failed"
    draft_id: int
    error_code: str
    error: str


@dataclass(frozen=True, kw_only=True)
class AgentCreated(AuditEvent):
    """An agent account was created."""

    name: ClassVar[str] = "agent-created"
    email: str
    agent_role: str


def event_classes() -> list[type[AuditEvent]]:
    """Every concrete AuditEvent subclass (used by the docs test)."""
    seen: list[type[AuditEvent]] = []
    stack = list(AuditEvent.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls.name:
            seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: c.name)


# ---- chain ------------------------------------------------------------------------------------------

def canonical(row: dict[str, Any]) -> bytes:
    """The exact bytes hashed for a row: canonical JSON of its chained fields."""
    keys = ("id", "at", "actor", "role", "event", "subject", "properties", "prev_hash")
    return json.dumps({k: row[k] for k in keys}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 hex of :func:`canonical`."""
    return hashlib.sha256(canonical(row)).hexdigest()


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def record(db: Database, event: AuditEvent, *, at: datetime) -> dict[str, Any]:
    """Append ``event`` to the chain and return the stored row.

    Call inside the caller's :func:`core.storage.write_transaction` so the change and its record commit
    together; a bare call still works (it runs in its own transaction).
    """
    if not event.name:
        raise ValueError(f"{type(event).__name__} has no event name")
    last = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    props = {k: _encode(v) for k, v in event.properties().items()}
    row = {
        "id": (last[0] + 1) if last else 1,
        "at": to_iso(at),
        "actor": event.actor,
        "role": event.role,
        "event": event.name,
        "subject": event.subject,
        "properties": json.dumps(props, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
        "prev_hash": last[1] if last else GENESIS,
    }
    row["hash"] = row_hash(row)
    db.execute(
        "INSERT INTO audit_log (id, at, actor, role, event, subject, properties, prev_hash, hash) "
        "VALUES (:id, :at, :actor, :role, :event, :subject, :properties, :prev_hash, :hash)", row)
    return row


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Outcome of :func:`verify_chain`: ``ok``, the count checked, the first broken id and why."""

    ok: bool
    checked: int
    head_id: int | None
    head_hash: str
    broken_id: int | None = None
    reason: str = ""


def iter_rows(db: Database, *, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """Every audit row in id order, streamed in batches (constant memory on millions of rows)."""
    last_id = 0
    while True:
        rows = db.execute(
            "SELECT id, at, actor, role, event, subject, properties, prev_hash, hash FROM audit_log "
            "WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch)).fetchall()
        if not rows:
            return
        yield from rows
        last_id = rows[-1][0]


def verify_chain(db: Database) -> ChainReport:
    """Recompute every hash; report the first row edited, deleted, inserted or reordered."""
    prev_hash, expected_id, checked = GENESIS, 1, 0
    sha = hashlib.sha256
    dumps = json.dumps
    for rid, at, actor, role, event, subject, properties, stored_prev, stored_hash in iter_rows(db):
        if rid != expected_id:
            reason = "missing row(s) before this one (deleted)" if rid > expected_id else "id out of order"
            return ChainReport(False, checked, rid, prev_hash, rid, reason)
        if stored_prev != prev_hash:
            return ChainReport(False, checked, rid, prev_hash, rid,
                               "prev_hash does not match the previous row (row inserted, deleted or reordered)")
        body = dumps({"actor": actor, "at": at, "event": event, "id": rid, "prev_hash": stored_prev,
                      "properties": properties, "role": role, "subject": subject},
                     sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if sha(body).hexdigest() != stored_hash:
            return ChainReport(False, checked, rid, prev_hash, rid, "content does not match its hash (row edited)")
        prev_hash = stored_hash
        expected_id += 1
        checked += 1
    return ChainReport(True, checked, expected_id - 1 if checked else None, prev_hash)


def events_for(db: Database, subject: str) -> list[dict[str, Any]]:
    """The audit rows about ``subject``, oldest first, with properties decoded."""
    rows = db.execute(
        "SELECT id, at, actor, role, event, subject, properties FROM audit_log WHERE subject = ? ORDER BY id",
        (subject,)).fetchall()
    return [{"id": r[0], "at": from_iso(r[1]), "actor": r[2], "role": r[3], "event": r[4], "subject": r[5],
             "properties": json.loads(r[6])} for r in rows]


def event_names(db: Database) -> list[str]:
    """All event names recorded so far, in order (handy in tests)."""
    return [r[0] for r in db.execute("SELECT event FROM audit_log ORDER BY id")]

