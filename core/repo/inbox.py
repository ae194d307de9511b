"""Reading and working the shared inbox: items, filters and full-text search, threads, status, tags, notes, presence."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core import mention_keys
from core.clock import from_iso, to_iso
from core.errors import NotFoundError, ValidationError
from core.models import (
    OPEN_STATUSES,
    PRIVATE_KIND,
    Author,
    InboxItem,
    Mention,
    Note,
    Platform,
    Status,
    is_known_author,
)

MENTION_COLUMNS = (
    "uid, platform, platform_id, account, kind, conversation_id, in_reply_to, author_id, author_handle, "
    "author_name, author_followers, text, lang, created_at, permalink, media, raw, ingested_at, status, "
    "assigned_to, sentiment, sentiment_confidence, risk_score, risk_flags, priority, hidden, edited_at, "
    "deleted_at, quote_of, model_version, risk_model_version"
)
_OPEN_SQL = "status IN ('new', 'assigned', 'waiting', 'escalated')"  # must match the partial indexes


def _row_to_item(r: Sequence[Any], tags: tuple[str, ...] = ()) -> InboxItem:
    (uid, platform, platform_id, account, kind, conversation_id, in_reply_to, author_id, author_handle,
     author_name, author_followers, text, lang, created_at, permalink, media, raw, ingested_at, status,
     assigned_to, sentiment, sentiment_confidence, risk_score, risk_flags, priority, hidden, edited_at,
     deleted_at, quote_of, model_version, risk_model_version) = r
    mention = Mention(
        platform=Platform(platform), platform_id=platform_id, text=text, account=account, kind=kind,
        author=Author(platform_id=author_id, handle=author_handle, display_name=author_name,
                      followers=author_followers),
        created_at=from_iso(created_at),  # type: ignore[arg-type]
        conversation_id=conversation_id, in_reply_to=in_reply_to, lang=lang, permalink=permalink,
        media=tuple(json.loads(media or "[]")), raw=json.loads(raw or "{}"), quote_of=quote_of)
    return InboxItem(
        mention=mention, status=Status(status), assigned_to=assigned_to,
        ingested_at=from_iso(ingested_at),  # type: ignore[arg-type]
        sentiment=sentiment, sentiment_confidence=sentiment_confidence, risk_score=risk_score or 0.0,
        risk_flags=tuple(json.loads(risk_flags or "[]")), priority=priority or 0.0, tags=tags,
        hidden=bool(hidden), edited_at=from_iso(edited_at), deleted_at=from_iso(deleted_at),
        model_version=model_version, risk_model_version=risk_model_version)


def _tags_for(db: Database, uids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    if not uids:
        return {}
    marks = ",".join("?" * len(uids))
    out: dict[str, list[str]] = {}
    for uid, tag in db.execute(f"SELECT mention_uid, tag FROM mention_tags WHERE mention_uid IN ({marks}) "
                               "ORDER BY tag", list(uids)):
        out.setdefault(uid, []).append(tag)
    return {k: tuple(v) for k, v in out.items()}


def _items(db: Database, rows: list[Sequence[Any]]) -> list[InboxItem]:
    tags = _tags_for(db, [r[0] for r in rows])
    return [_row_to_item(r, tags.get(r[0], ())) for r in rows]


def mention_exists(db: Database, uid: str) -> bool:
    """Whether a mention with this uid is stored."""
    return db.execute("SELECT 1 FROM mentions WHERE uid = ?", (uid,)).fetchone() is not None


def get_item(db: Database, uid: str) -> InboxItem:
    """One stored mention with the team's work, or NotFoundError."""
    row = db.execute(f"SELECT {MENTION_COLUMNS} FROM mentions WHERE uid = ?", (uid,)).fetchone()
    if row is None:
        raise NotFoundError(f"no mention {uid}")
    return _items(db, [row])[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxQuery:
    """Filters of the shared inbox. ``status=None`` and ``open_only`` means every open status."""

    platforms: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    open_only: bool = True
    assigned_to: int | None = None
    unassigned: bool = False
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str = ""
    min_risk: float | None = None
    private: bool | None = None  # None: both; True: private messages only (« Messages privés »); False: none
    order: str = "priority"  # priority | newest | oldest
    limit: int = 50
    offset: int = 0


_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """Turn what a user typed into a safe FTS5 query: each word quoted, prefix-matched, AND-ed."""
    words = _FTS_TOKEN.findall(text)
    return " ".join(f'"{w}"*' for w in words[:12])


def _where(q: InboxQuery) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if q.statuses:
        for s in q.statuses:
            Status(s)  # raises ValueError on a bad status
        clauses.append(f"m.status IN ({','.join('?' * len(q.statuses))})")
        params.extend(q.statuses)
    elif q.open_only:
        clauses.append("m." + _OPEN_SQL)
    if q.platforms:
        clauses.append(f"m.platform IN ({','.join('?' * len(q.platforms))})")
        params.extend(q.platforms)
    if q.assigned_to is not None:
        clauses.append("m.assigned_to = ?")
        params.append(q.assigned_to)
    elif q.unassigned:
        clauses.append("m.assigned_to IS NULL")
    if q.tag:
        clauses.append("m.uid IN (SELECT mention_uid FROM mention_tags WHERE tag = ?)")
        params.append(q.tag)
    if q.since:
        clauses.append("m.created_at >= ?")
        params.append(to_iso(q.since))
    if q.until:
        clauses.append("m.created_at < ?")
        params.append(to_iso(q.until))
    if q.min_risk is not None:
        clauses.append("m.risk_score >= ?")
        params.append(q.min_risk)
    if q.private is not None:
        clauses.append("m.kind = ?" if q.private else "m.kind != ?")
        params.append(PRIVATE_KIND)
    return clauses, params


_ORDERS = {
    "priority": "m.priority DESC, m.created_at DESC",
    "newest": "m.created_at DESC",
    "oldest": "m.created_at ASC",
}


def list_inbox(db: Database, q: InboxQuery) -> list[InboxItem]:
    """The inbox page: filtered, ordered (priority by default), paginated; full-text if ``q.search``."""
    try:
        clauses, params = _where(q)
    except ValueError as err:
        raise ValidationError(str(err)) from err
    order = _ORDERS.get(q.order)
    if order is None:
        raise ValidationError(f"unknown order {q.order!r}")
    cols = ", ".join("m." + c.strip() for c in MENTION_COLUMNS.split(","))
    if q.search.strip():
        match = fts_query(q.search)
        if not match:
            return []
        if q.order in _TIME_ORDERS:
            return _search_in_time_order(db, q, match, clauses, params, cols)
        clauses.insert(0, "m.rowid IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)")
        params.insert(0, match)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = f"SELECT {cols} FROM mentions m {where} ORDER BY {order} LIMIT ? OFFSET ?"
    rows = db.execute(sql, [*params, q.limit, q.offset]).fetchall()
    return _items(db, rows)


_TIME_ORDERS = {"newest": "DESC", "oldest": "ASC"}


def _search_in_time_order(db: Database, q: InboxQuery, match: str, clauses: list[str], params: list[Any],
                          cols: str) -> list[InboxItem]:
    """Full-text search, newest or oldest first: the index hands over its matches in rowid order, which is time
    order (core/mention_keys.py), so one page costs a few dozen matches, not a sort of all of them; the date
    filters also bound the rowids the index walks."""
    bounds: list[str] = ["f.mentions_fts MATCH ?"]
    values: list[Any] = [match]
    if q.since:
        bounds.append("f.rowid >= ?")
        values.append(mention_keys.block_start(q.since))
    if q.until:  # up to the end of the millisecond; the exact created_at filter stays in ``clauses``
        bounds.append("f.rowid < ?")
        values.append(mention_keys.block_start(q.until) + mention_keys.SLOTS)
    where = " AND ".join(bounds + clauses)
    sql = (f"SELECT {cols} FROM mentions_fts AS f JOIN mentions AS m ON m.rowid = f.rowid WHERE {where} "
           f"ORDER BY f.rowid {_TIME_ORDERS[q.order]} LIMIT ? OFFSET ?")
    rows = db.execute(sql, [*values, *params, q.limit, q.offset]).fetchall()
    return _items(db, rows)


def count_inbox(db: Database, q: InboxQuery, *, cap: int | None = None) -> int:
    """How many mentions match ``q`` (ignores limit/offset); stops counting at ``cap`` when given."""
    clauses, params = _where(q)
    if q.search.strip():
        match = fts_query(q.search)
        if not match:
            return 0
        clauses.insert(0, "m.rowid IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)")
        params.insert(0, match)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    if cap is not None:
        sql = f"SELECT count(*) FROM (SELECT 1 FROM mentions m {where} LIMIT ?)"
        return int(db.execute(sql, [*params, cap]).fetchone()[0])
    return int(db.execute(f"SELECT count(*) FROM mentions m {where}", params).fetchone()[0])


def conversation(db: Database, platform: str, conversation_id: str, *, limit: int = 200) -> list[InboxItem]:
    """Every stored mention of a thread, oldest first."""
    rows = db.execute(f"SELECT {MENTION_COLUMNS} FROM mentions WHERE platform = ? AND conversation_id = ? "
                      "ORDER BY created_at LIMIT ?", (platform, conversation_id, limit)).fetchall()
    return _items(db, rows)


def author_history(db: Database, platform: str, author_id: str, *, exclude_uid: str = "",
                   limit: int = 20, include_private: bool = True) -> list[InboxItem]:
    """The author's earlier messages, newest first (private messages left out unless ``include_private``); none
    for an unknown author ("" or ``unknown:…``), whose id is no identity shared with other items."""
    if not is_known_author(author_id):
        return []
    extra = "" if include_private else f" AND kind != '{PRIVATE_KIND}'"
    rows = db.execute(f"SELECT {MENTION_COLUMNS} FROM mentions WHERE platform = ? AND author_id = ? AND uid != ?"
                      f"{extra} ORDER BY created_at DESC LIMIT ?",
                      (platform, author_id, exclude_uid, limit)).fetchall()
    return _items(db, rows)


def set_status(db: Database, uid: str, status: Status, *, now: datetime) -> Status:
    """Set a mention's status; return the previous one."""
    before = get_item(db, uid).status
    extra = ", first_response_at = COALESCE(first_response_at, ?)" if status is Status.ANSWERED else ""
    params: list[Any] = [str(status), to_iso(now)]
    if extra:
        params.append(to_iso(now))
    db.execute(f"UPDATE mentions SET status = ?, updated_at = ?{extra} WHERE uid = ?", [*params, uid])
    return before


def set_assignee(db: Database, uid: str, agent_id: int | None, *, now: datetime) -> int | None:
    """Assign a mention (``None`` unassigns); return the previous assignee."""
    before = get_item(db, uid).assigned_to
    db.execute("UPDATE mentions SET assigned_to = ?, updated_at = ? WHERE uid = ?", (agent_id, to_iso(now), uid))
    return before


def set_hidden(db: Database, uid: str, hidden: bool, *, now: datetime) -> None:
    """Mark a mention hidden/unhidden after a successful platform call."""
    db.execute("UPDATE mentions SET hidden = ?, updated_at = ? WHERE uid = ?", (int(hidden), to_iso(now), uid))


def set_agent_sentiment(db: Database, uid: str, label: str, *, now: datetime) -> None:
    """An agent's correction of the sentiment label (kept over later model scores)."""
    db.execute("UPDATE mentions SET sentiment = ?, sentiment_confidence = 1.0, sentiment_source = 'agent', "
               "updated_at = ? WHERE uid = ?", (label, to_iso(now), uid))


def add_tag(db: Database, uid: str, tag: str) -> bool:
    """Tag a mention; False if it already had the tag."""
    cur = db.execute("INSERT OR IGNORE INTO mention_tags (mention_uid, tag) VALUES (?, ?)", (uid, tag))
    return cur.rowcount > 0


def remove_tag(db: Database, uid: str, tag: str) -> bool:
    """Untag a mention; False if it did not have the tag."""
    cur = db.execute("DELETE FROM mention_tags WHERE mention_uid = ? AND tag = ?", (uid, tag))
    return cur.rowcount > 0


def all_tags(db: Database) -> list[str]:
    """Every tag in use, alphabetically."""
    return [r[0] for r in db.execute("SELECT DISTINCT tag FROM mention_tags ORDER BY tag")]


def add_note(db: Database, uid: str, agent_id: int, text: str, *, now: datetime) -> int:
    """Store an internal note; return its id."""
    cur = db.execute("INSERT INTO notes (mention_uid, agent_id, text, created_at) VALUES (?, ?, ?, ?)",
                     (uid, agent_id, text, to_iso(now)))
    return int(cur.lastrowid or 0)


def notes_for(db: Database, uid: str) -> list[Note]:
    """Internal notes on a mention, oldest first."""
    rows = db.execute("SELECT id, mention_uid, agent_id, text, created_at FROM notes WHERE mention_uid = ? "
                      "ORDER BY id", (uid,)).fetchall()
    return [Note(id=r[0], mention_uid=r[1], agent_id=r[2], text=r[3], created_at=from_iso(r[4]))  # type: ignore[arg-type]
            for r in rows]


def mention_count(db: Database) -> int:
    """Total stored mentions."""
    return int(db.execute("SELECT count(*) FROM mentions").fetchone()[0])


def simulate_team_work(db: Database, agent_id: int) -> None:
    """Benchmark setup only: close a third of the mentions and assign a seventh, as a busy team would."""
    db.execute("UPDATE mentions SET status = 'closed' WHERE rowid % 3 = 0")
    db.execute("UPDATE mentions SET status = 'assigned', assigned_to = ? WHERE rowid % 7 = 1", (agent_id,))


def status_counts(db: Database) -> dict[str, int]:
    """Mentions per status."""
    return dict(db.execute("SELECT status, count(*) FROM mentions GROUP BY status").fetchall())


def open_statuses() -> tuple[str, ...]:
    """The statuses that count as open (the inbox default)."""
    return tuple(sorted(str(s) for s in OPEN_STATUSES))



def touch_presence(db: Database, uid: str, agent_id: int, *, now: datetime) -> None:
    """Record that ``agent_id`` has ``uid`` open now."""
    db.execute("INSERT INTO presence (mention_uid, agent_id, seen_at) VALUES (?, ?, ?) "
               "ON CONFLICT (mention_uid, agent_id) DO UPDATE SET seen_at = excluded.seen_at",
               (uid, agent_id, to_iso(now)))


def viewers(db: Database, uid: str, *, since: datetime) -> list[int]:
    """Agents who had ``uid`` open since ``since``."""
    return [r[0] for r in db.execute("SELECT agent_id FROM presence WHERE mention_uid = ? AND seen_at >= ? "
                                     "ORDER BY seen_at DESC", (uid, to_iso(since)))]
