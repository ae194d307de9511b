"""DML of the legal archive (tables from core/migrations/archive.py m030): published messages and their later changes.

Rows are append-only (triggers refuse UPDATE and DELETE). Each row carries ``record_sha256``, the SHA-256 of a
canonical JSON of its fields, and the same digest is written into the audit chain (``message-archived``,
``archived-message-changed``), so an archive row edited behind Parvis's back no longer matches the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError, ValidationError
from core.repo import fts_query

CHANGES = ("edited", "deleted", "hidden", "unhidden")
STATUSES = ("published", "edited", "hidden", "deleted")
MESSAGE_FIELDS = (
    "id", "kind", "source", "platform", "account", "platform_id", "permalink", "text", "body", "signature",
    "author", "author_name", "approver", "approver_name", "charter_version", "charter_result", "in_reply_to",
    "in_reply_to_snapshot", "published_at", "archived_at", "payload_sha256",
)
CHANGE_FIELDS = ("id", "message_id", "seen_at", "change", "text", "actor", "payload_sha256")
# Current status, derived from the appended changes (the archived row itself never changes).
STATUS_SQL = """CASE
    WHEN EXISTS (SELECT 1 FROM archive_changes c WHERE c.message_id = m.id AND c.change = 'deleted') THEN 'deleted'
    WHEN (SELECT c.change FROM archive_changes c WHERE c.message_id = m.id AND c.change IN ('hidden', 'unhidden')
          ORDER BY c.id DESC LIMIT 1) = 'hidden' THEN 'hidden'
    WHEN EXISTS (SELECT 1 FROM archive_changes c WHERE c.message_id = m.id AND c.change = 'edited') THEN 'edited'
    ELSE 'published' END"""


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8): what Parvis hashes."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sha256_text(text: str) -> str:
    """SHA-256 hex of ``text`` encoded as UTF-8 (the exact stored bytes of a payload)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_sha256(row: dict[str, Any], fields: Sequence[str]) -> str:
    """SHA-256 of the canonical JSON of ``fields`` of a stored row."""
    return hashlib.sha256(canonical_json({k: row[k] for k in fields})).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveChange:
    """A later change of an archived message as the platform showed it (or as an agent made it)."""

    id: int
    message_id: int
    seen_at: datetime
    change: str
    text: str | None
    actor: str
    payload_sha256: str
    record_sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchivedMessage:
    """A message published through Parvis, exactly as sent, with who wrote and approved it."""

    id: int
    kind: str
    source: str
    platform: str
    account: str
    platform_id: str
    permalink: str | None
    text: str
    body: str
    signature: str
    author: str
    author_name: str
    approver: str | None
    approver_name: str | None
    charter_version: int | None
    charter_result: tuple[dict[str, Any], ...]
    in_reply_to: str | None
    in_reply_to_snapshot: dict[str, Any]
    published_at: datetime
    archived_at: datetime
    payload_sha256: str
    record_sha256: str
    status: str = "published"


_SELECT = f"SELECT {', '.join('m.' + f for f in MESSAGE_FIELDS)}, m.record_sha256, {STATUS_SQL} AS status " \
          "FROM archive_messages m"


def _message(r: Sequence[Any]) -> ArchivedMessage:
    data = dict(zip((*MESSAGE_FIELDS, "record_sha256", "status"), r, strict=True))
    data["charter_result"] = tuple(json.loads(data["charter_result"] or "[]"))
    data["in_reply_to_snapshot"] = json.loads(data["in_reply_to_snapshot"] or "{}")
    data["published_at"] = from_iso(data["published_at"])
    data["archived_at"] = from_iso(data["archived_at"])
    return ArchivedMessage(**data)


def _change(r: Sequence[Any]) -> ArchiveChange:
    data = dict(zip((*CHANGE_FIELDS, "record_sha256"), r, strict=True))
    data["seen_at"] = from_iso(data["seen_at"])
    return ArchiveChange(**data)


def insert_message(db: Database, fields: dict[str, Any], *, payload: str) -> ArchivedMessage:
    """Append an archived message (``fields``: MESSAGE_FIELDS but id and payload_sha256); return it."""
    row = dict(fields)
    row["id"] = int(db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM archive_messages").fetchone()[0])
    row["payload_sha256"] = sha256_text(payload)
    missing = set(MESSAGE_FIELDS) - set(row)
    if missing:
        raise ValidationError(f"archive record lacks {sorted(missing)}")
    row["record_sha256"] = record_sha256(row, MESSAGE_FIELDS)
    row["payload"] = payload
    cols = [*MESSAGE_FIELDS, "record_sha256", "payload"]
    db.execute(f"INSERT INTO archive_messages ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
               [row[c] for c in cols])
    return get_message(db, row["id"])


def insert_change(db: Database, message_id: int, *, change: str, seen_at: datetime, actor: str,
                  text: str | None, payload: str) -> ArchiveChange:
    """Append a change to an archived message's history; return it."""
    if change not in CHANGES:
        raise ValidationError(f"unknown archive change {change!r} (expected one of {', '.join(CHANGES)})")
    row: dict[str, Any] = {
        "id": int(db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM archive_changes").fetchone()[0]),
        "message_id": message_id, "seen_at": to_iso(seen_at), "change": change, "text": text, "actor": actor,
        "payload_sha256": sha256_text(payload),
    }
    row["record_sha256"] = record_sha256(row, CHANGE_FIELDS)
    db.execute("INSERT INTO archive_changes (id, message_id, seen_at, change, text, actor, payload, "
               "payload_sha256, record_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (row["id"], message_id, row["seen_at"], change, text, actor, payload, row["payload_sha256"],
                row["record_sha256"]))
    return _change([row[c] for c in (*CHANGE_FIELDS, "record_sha256")])


def get_message(db: Database, message_id: int) -> ArchivedMessage:
    """One archived message, or NotFoundError."""
    row = db.execute(f"{_SELECT} WHERE m.id = ?", (message_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no archived message {message_id}")
    return _message(row)


def message_by_platform_id(db: Database, platform: str, platform_id: str) -> ArchivedMessage | None:
    """The archived message published as ``platform_id`` on ``platform``, or None."""
    row = db.execute(f"{_SELECT} WHERE m.platform = ? AND m.platform_id = ?", (platform, platform_id)).fetchone()
    return _message(row) if row else None


def messages_replying_to(db: Database, mention_uids: Sequence[str]) -> list[ArchivedMessage]:
    """Archived replies to any of ``mention_uids``, oldest first."""
    if not mention_uids:
        return []
    marks = ",".join("?" * len(mention_uids))
    rows = db.execute(f"{_SELECT} WHERE m.in_reply_to IN ({marks}) ORDER BY m.id", list(mention_uids)).fetchall()
    return [_message(r) for r in rows]


def changes_for(db: Database, message_id: int) -> list[ArchiveChange]:
    """The appended changes of an archived message, oldest first."""
    rows = db.execute(f"SELECT {', '.join(CHANGE_FIELDS)}, record_sha256 FROM archive_changes "
                      "WHERE message_id = ? ORDER BY id", (message_id,)).fetchall()
    return [_change(r) for r in rows]


def message_payload(db: Database, message_id: int) -> str:
    """The platform's answer to the publication, exactly as captured (JSON text)."""
    row = db.execute("SELECT payload FROM archive_messages WHERE id = ?", (message_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no archived message {message_id}")
    return str(row[0])


def change_payloads(db: Database, message_id: int) -> list[tuple[int, str]]:
    """(change id, payload exactly as captured) for each change of a message."""
    return [(int(r[0]), str(r[1])) for r in db.execute(
        "SELECT id, payload FROM archive_changes WHERE message_id = ? ORDER BY id", (message_id,))]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveFilter:
    """Filters of the Audit page's archive search (``until`` exclusive; ``agent`` = author or approver)."""

    since: datetime | None = None
    until: datetime | None = None
    agent: str | None = None
    platforms: tuple[str, ...] = ()
    account: str | None = None
    status: str | None = None
    keyword: str = ""
    newest_first: bool = True
    limit: int | None = 100
    offset: int = 0
    include_private: bool = True  # the city's private answers (kind ``private_reply``): roles with private.read


def _filter_sql(f: ArchiveFilter) -> tuple[str, list[Any]] | None:
    clauses: list[str] = []
    params: list[Any] = []
    if not f.include_private:
        clauses.append("m.kind != 'private_reply'")
    if f.since is not None:
        clauses.append("m.published_at >= ?")
        params.append(to_iso(f.since))
    if f.until is not None:
        clauses.append("m.published_at < ?")
        params.append(to_iso(f.until))
    if f.agent:
        clauses.append("(m.author = ? COLLATE NOCASE OR m.approver = ? COLLATE NOCASE)")
        params += [f.agent, f.agent]
    if f.platforms:
        clauses.append(f"m.platform IN ({','.join('?' * len(f.platforms))})")
        params.extend(f.platforms)
    if f.account:
        clauses.append("m.account = ?")
        params.append(f.account)
    if f.status:
        if f.status not in STATUSES:
            raise ValidationError(f"unknown archive status {f.status!r} (expected one of {', '.join(STATUSES)})")
        clauses.append(f"({STATUS_SQL}) = ?")
        params.append(f.status)
    if f.keyword.strip():
        match = fts_query(f.keyword)
        if not match:
            return None
        clauses.append("m.id IN (SELECT message_id FROM archive_fts WHERE archive_fts MATCH ?)")
        params.append(match)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def search_messages(db: Database, f: ArchiveFilter) -> list[ArchivedMessage]:
    """Archived messages matching ``f``, newest first by default."""
    built = _filter_sql(f)
    if built is None:
        return []
    where, params = built
    order = "DESC" if f.newest_first else "ASC"
    page = ""
    if f.limit is not None:
        page = " LIMIT ? OFFSET ?"
        params = [*params, f.limit, f.offset]
    rows = db.execute(f"{_SELECT} {where} ORDER BY m.published_at {order}, m.id {order}{page}", params).fetchall()
    return [_message(r) for r in rows]


def count_messages(db: Database, f: ArchiveFilter) -> int:
    """How many archived messages match ``f`` (ignores limit/offset)."""
    built = _filter_sql(f)
    if built is None:
        return 0
    where, params = built
    return int(db.execute(f"SELECT count(*) FROM archive_messages m {where}", params).fetchone()[0])


def iter_for_verification(db: Database) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(table, row fields, stored record hash, stored payload) for every archive row, in id order."""
    for r in db.execute(f"SELECT {', '.join(MESSAGE_FIELDS)}, record_sha256, payload FROM archive_messages "
                        "ORDER BY id"):
        yield "archive_messages", dict(zip(MESSAGE_FIELDS, r[:-2], strict=True)), r[-2], r[-1]
    for r in db.execute(f"SELECT {', '.join(CHANGE_FIELDS)}, record_sha256, payload FROM archive_changes "
                        "ORDER BY id"):
        yield "archive_changes", dict(zip(CHANGE_FIELDS, r[:-2], strict=True)), r[-2], r[-1]


# ---- the record for an archival transfer --------------------------------------------------------------

RECEIVED_FIELDS = ("uid", "platform", "platform_id", "account", "kind", "conversation_id", "in_reply_to", "author_id",
                   "author_handle", "text", "lang", "created_at", "ingested_at", "permalink", "status", "hidden",
                   "edited_at", "deleted_at")


def _period(column: str, since: datetime | None, until: datetime | None, *always: str) -> tuple[str, list[Any]]:
    """``WHERE`` clause (or "") and its parameters for ``column`` in [since, until), with the ``always`` clauses."""
    clauses, params = list(always), []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(to_iso(since))
    if until is not None:
        clauses.append(f"{column} < ?")
        params.append(to_iso(until))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def received_messages(db: Database, *, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
    """Mentions received in [since, until) by creation time, with their payload exactly as stored (``raw``);
    private messages are not part of this record (decision 0140: their texts expire and are erasable)."""
    where, params = _period("created_at", since, until, "kind != 'private'")
    rows = db.execute(f"SELECT {', '.join(RECEIVED_FIELDS)}, raw FROM mentions {where} ORDER BY created_at, uid",
                      params).fetchall()
    return [{**dict(zip(RECEIVED_FIELDS, r[:-1], strict=True)), "raw": r[-1]} for r in rows]


def revision_payloads(db: Database, uid: str) -> list[dict[str, Any]]:
    """Revisions of a mention with their payload exactly as stored, oldest first."""
    return [{"id": r[0], "seen_at": r[1], "change": r[2], "old_text": r[3], "new_text": r[4], "raw": r[5]}
            for r in db.execute("SELECT id, seen_at, change, old_text, new_text, raw FROM mention_revisions "
                                "WHERE mention_uid = ? ORDER BY id", (uid,))]


# no ``recorded_at``: it moves at every re-read, and a closed period's package must stay byte-identical
CITY_POST_FIELDS = ("platform", "platform_id", "account", "text", "permalink", "published_at", "source",
                    "edited_at", "deleted_at")


def city_posts_read(db: Database, *, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
    """The city's posts that Parvis read on the platforms (thread roots it did not publish itself, decisions 0285
    and 0305) published in [since, until), as stored: their current text and when they were seen edited or
    deleted."""
    where, params = _period("published_at", since, until)
    rows = db.execute(f"SELECT {', '.join(CITY_POST_FIELDS)} FROM city_posts {where} "
                      "ORDER BY published_at, platform, platform_id", params).fetchall()
    return [dict(zip(CITY_POST_FIELDS, r, strict=True)) for r in rows]


def city_post_revision_payloads(db: Database, platform: str, platform_id: str) -> list[dict[str, Any]]:
    """Revisions of a city post (``city_post_revisions``) with their payload exactly as stored, oldest first."""
    return [{"id": r[0], "seen_at": r[1], "change": r[2], "old_text": r[3], "new_text": r[4], "raw": r[5]}
            for r in db.execute("SELECT id, seen_at, change, old_text, new_text, raw FROM city_post_revisions "
                                "WHERE platform = ? AND platform_id = ? ORDER BY id", (platform, platform_id))]
