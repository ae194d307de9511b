"""Typed reads and writes (DML) over the schema in core/storage.py; returns domain dataclasses.

Functions here do not open transactions of their own unless said so: services wrap a change and its audit
record in :func:`core.storage.write_transaction`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core import json_text, mention_keys
from core.clock import from_iso, to_iso
from core.errors import NotFoundError, ValidationError
from core.storage import RISK_FLAGS_EACH, RISK_KIND, write_transaction
from core.models import (
    OPEN_STATUSES,
    Agent,
    Author,
    ConnectorHealth,
    Draft,
    DraftState,
    InboxItem,
    Mention,
    Note,
    Platform,
    Role,
    SignatureStyle,
    Status,
)

MENTION_COLUMNS = (
    "uid, platform, platform_id, account, kind, conversation_id, in_reply_to, author_id, author_handle, "
    "author_name, author_followers, text, lang, created_at, permalink, media, raw, ingested_at, status, "
    "assigned_to, sentiment, sentiment_confidence, risk_score, risk_flags, priority, hidden, edited_at, "
    "deleted_at"
)
_OPEN_SQL = "status IN ('new', 'assigned', 'waiting', 'escalated')"  # must match the partial indexes


# ---- mentions -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Scores:
    """Moderation output stored with a mention (computed by moderation/, stored here)."""

    sentiment: str | None = None
    sentiment_confidence: float | None = None
    risk_score: float = 0.0
    risk_flags: tuple[dict[str, Any], ...] = ()
    priority: float = 0.0
    model_version: str | None = None


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What :func:`upsert_mentions` did."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    revised: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)  # uid, change, old, new


_INSERT_COLS = (
    "uid", "platform", "platform_id", "account", "kind", "conversation_id", "in_reply_to", "author_id",
    "author_handle", "author_name", "author_followers", "text", "lang", "created_at", "permalink", "media", "raw",
    "ingested_at", "updated_at", "sentiment", "sentiment_confidence", "sentiment_source", "risk_score", "risk_flags",
    "priority", "model_version",
)
_INSERT_SQL = (f"INSERT INTO mentions (rowid, {', '.join(_INSERT_COLS)}) "
               f"VALUES (?, {', '.join('?' * len(_INSERT_COLS))})")
_IN_KEYS = "(SELECT value FROM json_each(?))"  # a JSON array of rowids, bound as one parameter


def _mention_row(m: Mention, now_iso: str, sc: Scores) -> tuple[Any, ...]:
    return (
        m.uid, str(m.platform), m.platform_id, m.account, m.kind, m.conversation_id, m.in_reply_to,
        m.author.platform_id, m.author.handle, m.author.display_name, m.author.followers, m.text, m.lang,
        to_iso(m.created_at), m.permalink, json_text.dumps(list(m.media)) if m.media else "[]",
        json_text.dumps(m.raw), now_iso, now_iso,
        sc.sentiment, sc.sentiment_confidence, "model" if sc.sentiment else None, sc.risk_score,
        json_text.dumps(list(sc.risk_flags)) if sc.risk_flags else "[]", sc.priority,
        sc.model_version,
    )


def upsert_mentions(db: Database, mentions: Sequence[Mention], *, now: datetime,
                    scores: Sequence[Scores] | None = None) -> UpsertResult:
    """Insert new mentions; for known ones refresh platform fields only.

    Never touches the team's work (status, assignee, tags, notes). A changed text is an *edit*: the old text is
    kept in ``mention_revisions`` and ``edited_at`` set, so nothing is silently overwritten.
    Duplicates inside ``mentions`` are collapsed (last wins). New rows are added to the full-text index in one
    statement (much cheaper than a per-row trigger), inside the same transaction.
    """
    if scores is not None and len(scores) != len(mentions):
        raise ValueError("scores must align with mentions")
    with write_transaction(db):
        return _upsert(db, mentions, now=now, scores=scores)


def _upsert(db: Database, mentions: Sequence[Mention], *, now: datetime,
            scores: Sequence[Scores] | None) -> UpsertResult:
    now_iso = to_iso(now)
    by_uid: dict[str, tuple[Mention, Scores | None]] = {}
    for i, m in enumerate(mentions):
        by_uid[m.uid] = (m, scores[i] if scores is not None else None)
    result = UpsertResult()
    uids = list(by_uid)
    existing: dict[str, str] = {}
    for start in range(0, len(uids), 500):
        chunk = uids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        existing.update(db.execute(f"SELECT uid, text FROM mentions WHERE uid IN ({marks})", chunk).fetchall())
    empty = Scores()
    new_rows = [_mention_row(m, now_iso, sc or empty) for uid, (m, sc) in by_uid.items() if uid not in existing]
    if new_rows:
        keys = free_mention_keys(db, [mention_keys.block_start(by_uid[r[0]][0].created_at) for r in new_rows])
        # In key (= time) order: pages often come newest first, and appending keeps the table's pages full.
        db.conn.executemany(_INSERT_SQL, sorted(((k, *r) for k, r in zip(keys, new_rows, strict=True)),
                                                key=lambda row: row[0]))
        new_keys = json.dumps(keys)
        db.execute("INSERT INTO mentions_fts (rowid, text, author_handle, author_name) "
                   f"SELECT rowid, text, author_handle, author_name FROM mentions WHERE rowid IN {_IN_KEYS}",
                   (new_keys,))
        _rollup_new_mentions(db, new_keys)
        result.inserted.extend(r[0] for r in new_rows)
    for uid, old_text in existing.items():
        m, _ = by_uid[uid]
        if m.text != old_text:
            db.execute(
                "INSERT INTO mention_revisions (mention_uid, seen_at, change, old_text, new_text, raw) "
                "VALUES (?, ?, 'edited', ?, ?, ?)",
                (uid, now_iso, old_text, m.text, json_text.dumps(m.raw)))
            db.execute("UPDATE mentions SET text = ?, edited_at = ?, updated_at = ? WHERE uid = ?",
                       (m.text, now_iso, now_iso, uid))
            result.revised.append((uid, "edited", old_text, m.text))
        db.execute(  # only when something changed: an update of the author fires the FTS trigger
            "UPDATE mentions SET author_handle = ?, author_name = ?, author_followers = ?, permalink = "
            "COALESCE(?, permalink), updated_at = ? WHERE uid = ? AND (author_handle IS NOT ? OR author_name IS NOT ? "
            "OR author_followers IS NOT ? OR (? IS NOT NULL AND permalink IS NOT ?))",
            (m.author.handle, m.author.display_name, m.author.followers, m.permalink, now_iso, uid, m.author.handle,
             m.author.display_name, m.author.followers, m.permalink, m.permalink))
        result.updated.append(uid)
    return result


def free_mention_keys(db: Database, blocks: list[int]) -> list[int]:
    """Time-ordered rowids for new mentions, given each one's millisecond block (core/mention_keys.py): the
    next slot after the block's highest stored one, in the order given."""
    top: dict[int, int | None] = {}
    distinct = sorted(set(blocks))
    for start in range(0, len(distinct), 5000):
        chunk = json.dumps(distinct[start:start + 5000])
        top.update(db.execute("SELECT value, (SELECT max(rowid) FROM mentions WHERE rowid >= value AND rowid < "
                              "value + ?) FROM json_each(?)", (mention_keys.SLOTS, chunk)).fetchall())
    keys: list[int] = []
    for block in blocks:
        last = top.get(block)
        key = block if last is None else last + 1
        if key >= block + mention_keys.SLOTS:
            raise ValidationError("more than a million mentions in one millisecond: refusing the batch")
        top[block] = key
        keys.append(key)
    return keys


def _rollup_new_mentions(db: Database, new_keys: str) -> None:
    """Add the new mentions (``new_keys``: their rowids as a JSON array) to the dashboard's hourly roll-ups (one
    statement each; updates and deletes are kept exact by the triggers of storage m060)."""
    db.execute(
        "INSERT INTO dash_hourly (hour, platform, account, sentiment, n, answered, flagged) "
        "SELECT substr(created_at, 1, 13), platform, account, COALESCE(sentiment, ''), count(*), "
        "sum(first_response_at IS NOT NULL), sum(risk_flags NOT IN ('[]', '')) FROM mentions "
        f"WHERE rowid IN {_IN_KEYS} GROUP BY 1, 2, 3, 4 "
        "ON CONFLICT (hour, platform, account, sentiment) DO UPDATE SET n = n + excluded.n, "
        "answered = answered + excluded.answered, flagged = flagged + excluded.flagged", (new_keys,))
    db.execute(
        "INSERT INTO dash_risk_hourly (hour, platform, account, kind, n) "
        "SELECT hour, platform, account, kind, count(DISTINCT rid) FROM ("
        " SELECT substr(m.created_at, 1, 13) AS hour, m.platform, m.account, m.rowid AS rid,"
        f" {RISK_KIND} AS kind FROM mentions AS m, {RISK_FLAGS_EACH}"
        f" WHERE m.rowid IN {_IN_KEYS} AND m.risk_flags NOT IN ('[]', '')"
        ") WHERE kind IS NOT NULL GROUP BY 1, 2, 3, 4 "
        "ON CONFLICT (hour, platform, account, kind) DO UPDATE SET n = n + excluded.n", (new_keys,))
    db.execute(  # mentions imported with a first response already known (storage m061)
        "INSERT OR REPLACE INTO dash_responses (created_s, mention_uid, platform, account, responded_s, agent_id) "
        "SELECT unixepoch(m.created_at), m.uid, m.platform, m.account, unixepoch(m.first_response_at), "
        "COALESCE((SELECT agent_id FROM first_responses WHERE mention_uid = m.uid), m.assigned_to) "
        f"FROM mentions AS m WHERE m.rowid IN {_IN_KEYS} AND m.first_response_at IS NOT NULL", (new_keys,))


def record_platform_change(db: Database, uid: str, change: str, *, now: datetime,
                           raw: dict[str, Any] | None = None, old_text: str | None = None,
                           new_text: str | None = None) -> None:
    """Record that the platform shows ``uid`` deleted / hidden / unhidden / edited (appended, never overwritten).

    An ``edited`` change is a step of the platform's own edit history: ``edited_at`` is set, and the mention's
    text follows the step only when it is the step's text before (an edit found after the mention was stored,
    Mastodon's re-check); a mention stored with its current version keeps it.
    """
    now_iso = to_iso(now)
    db.execute("INSERT INTO mention_revisions (mention_uid, seen_at, change, old_text, new_text, raw) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               (uid, now_iso, change, old_text, new_text, json.dumps(raw or {}, ensure_ascii=False, default=str)))
    if change == "edited":
        db.execute("UPDATE mentions SET edited_at = COALESCE(edited_at, ?), updated_at = ? WHERE uid = ?",
                   (now_iso, now_iso, uid))
        if old_text is not None and new_text is not None and old_text != new_text:
            db.execute("UPDATE mentions SET text = ? WHERE uid = ? AND text = ?", (new_text, uid, old_text))
    elif change == "deleted":
        db.execute("UPDATE mentions SET deleted_at = COALESCE(deleted_at, ?), updated_at = ? WHERE uid = ?",
                   (now_iso, now_iso, uid))
    elif change in ("hidden", "unhidden"):
        db.execute("UPDATE mentions SET hidden = ?, updated_at = ? WHERE uid = ?",
                   (1 if change == "hidden" else 0, now_iso, uid))


def edits_recorded(db: Database, uid: str) -> list[tuple[str | None, str | None]]:
    """``(old text, new text)`` of every ``edited`` revision of a mention, oldest first."""
    rows = db.execute("SELECT old_text, new_text FROM mention_revisions WHERE mention_uid = ? AND change = 'edited' "
                      "ORDER BY id", (uid,)).fetchall()
    return [(r[0], r[1]) for r in rows]


def revisions(db: Database, uid: str) -> list[dict[str, Any]]:
    """Every change the platform showed on a mention, oldest first."""
    rows = db.execute("SELECT seen_at, change, old_text, new_text FROM mention_revisions WHERE mention_uid = ? "
                      "ORDER BY id", (uid,)).fetchall()
    return [{"seen_at": from_iso(r[0]), "change": r[1], "old_text": r[2], "new_text": r[3]} for r in rows]


def update_scores(db: Database, uid: str, scores: Scores) -> None:
    """Store moderation scores computed after ingestion (e.g. a re-score with another model)."""
    db.execute(
        "UPDATE mentions SET sentiment = ?, sentiment_confidence = ?, sentiment_source = 'model', risk_score = ?, "
        "risk_flags = ?, priority = ?, model_version = ? WHERE uid = ? AND COALESCE(sentiment_source, '') != 'agent'",
        (scores.sentiment, scores.sentiment_confidence, scores.risk_score,
         json.dumps(list(scores.risk_flags), ensure_ascii=False), scores.priority, scores.model_version, uid))


def _row_to_item(r: Sequence[Any], tags: tuple[str, ...] = ()) -> InboxItem:
    (uid, platform, platform_id, account, kind, conversation_id, in_reply_to, author_id, author_handle,
     author_name, author_followers, text, lang, created_at, permalink, media, raw, ingested_at, status,
     assigned_to, sentiment, sentiment_confidence, risk_score, risk_flags, priority, hidden, edited_at,
     deleted_at) = r
    mention = Mention(
        platform=Platform(platform), platform_id=platform_id, text=text, account=account, kind=kind,
        author=Author(platform_id=author_id, handle=author_handle, display_name=author_name,
                      followers=author_followers),
        created_at=from_iso(created_at),  # type: ignore[arg-type]
        conversation_id=conversation_id, in_reply_to=in_reply_to, lang=lang, permalink=permalink,
        media=tuple(json.loads(media or "[]")), raw=json.loads(raw or "{}"))
    return InboxItem(
        mention=mention, status=Status(status), assigned_to=assigned_to,
        ingested_at=from_iso(ingested_at),  # type: ignore[arg-type]
        sentiment=sentiment, sentiment_confidence=sentiment_confidence, risk_score=risk_score or 0.0,
        risk_flags=tuple(json.loads(risk_flags or "[]")), priority=priority or 0.0, tags=tags,
        hidden=bool(hidden), edited_at=from_iso(edited_at), deleted_at=from_iso(deleted_at))


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
                   limit: int = 20) -> list[InboxItem]:
    """The author's earlier messages, newest first."""
    rows = db.execute(f"SELECT {MENTION_COLUMNS} FROM mentions WHERE platform = ? AND author_id = ? AND uid != ? "
                      "ORDER BY created_at DESC LIMIT ?", (platform, author_id, exclude_uid, limit)).fetchall()
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


# ---- presence (collision warning) --------------------------------------------------------------------

def touch_presence(db: Database, uid: str, agent_id: int, *, now: datetime) -> None:
    """Record that ``agent_id`` has ``uid`` open now."""
    db.execute("INSERT INTO presence (mention_uid, agent_id, seen_at) VALUES (?, ?, ?) "
               "ON CONFLICT (mention_uid, agent_id) DO UPDATE SET seen_at = excluded.seen_at",
               (uid, agent_id, to_iso(now)))


def viewers(db: Database, uid: str, *, since: datetime) -> list[int]:
    """Agents who had ``uid`` open since ``since``."""
    return [r[0] for r in db.execute("SELECT agent_id FROM presence WHERE mention_uid = ? AND seen_at >= ? "
                                     "ORDER BY seen_at DESC", (uid, to_iso(since)))]


# ---- agents -------------------------------------------------------------------------------------------

_AGENT_COLS = "id, email, name, initials, role, signature_style, team_signature, needs_approval, active"


def _agent(r: Sequence[Any]) -> Agent:
    return Agent(id=r[0], email=r[1], name=r[2], initials=r[3], role=Role(r[4]),
                 signature_style=SignatureStyle(r[5]), team_signature=r[6], needs_approval=bool(r[7]),
                 active=bool(r[8]))


def create_agent(db: Database, *, email: str, name: str, initials: str, role: Role,
                 signature_style: SignatureStyle = SignatureStyle.FIRST_NAME, team_signature: str = "",
                 needs_approval: bool = False, password_hash: str | None = None, now: datetime) -> Agent:
    """Create an agent; ValidationError if the e-mail is taken."""
    if db.execute("SELECT 1 FROM agents WHERE email = ?", (email,)).fetchone():
        raise ValidationError(f"an agent with e-mail {email} already exists")
    cur = db.execute(
        "INSERT INTO agents (email, name, initials, role, signature_style, team_signature, needs_approval, "
        "password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (email, name, initials, str(role), str(signature_style), team_signature, int(needs_approval),
         password_hash, to_iso(now)))
    return get_agent(db, int(cur.lastrowid or 0))


def get_agent(db: Database, agent_id: int) -> Agent:
    """One agent by id, or NotFoundError."""
    row = db.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE id = ?", (agent_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no agent {agent_id}")
    return _agent(row)


def agent_by_email(db: Database, email: str) -> Agent | None:
    """One agent by e-mail (case-insensitive), or None."""
    row = db.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE email = ?", (email,)).fetchone()
    return _agent(row) if row else None


def list_agents(db: Database, *, active_only: bool = True) -> list[Agent]:
    """Agents by name."""
    where = "WHERE active = 1" if active_only else ""
    return [_agent(r) for r in db.execute(f"SELECT {_AGENT_COLS} FROM agents {where} ORDER BY name")]


def update_agent(db: Database, agent_id: int, **changes: Any) -> Agent:
    """Change an agent's profile fields (name, initials, role, signature_style, team_signature, ...)."""
    allowed = {"name", "initials", "role", "signature_style", "team_signature", "needs_approval", "active"}
    bad = set(changes) - allowed
    if bad:
        raise ValidationError(f"cannot change {sorted(bad)}")
    for key, value in changes.items():
        stored = int(value) if isinstance(value, bool) else str(value)
        db.execute(f"UPDATE agents SET {key} = ? WHERE id = ?", (stored, agent_id))  # key is whitelisted
    return get_agent(db, agent_id)


def count_agents_with_password(db: Database) -> int:
    """Active agents who can sign in with a password."""
    return int(db.execute("SELECT count(*) FROM agents WHERE active = 1 AND password_hash IS NOT NULL").fetchone()[0])


def agent_credentials(db: Database, email: str) -> dict[str, Any] | None:
    """Password hash and lockout counters for sign-in, or None."""
    row = db.execute("SELECT id, password_hash, failed_logins, locked_until, active FROM agents WHERE email = ?",
                     (email,)).fetchone()
    if row is None:
        return None
    return {"id": row[0], "password_hash": row[1], "failed_logins": row[2], "locked_until": from_iso(row[3]),
            "active": bool(row[4])}


def set_agent_credentials(db: Database, agent_id: int, *, password_hash: str | None = None,
                          failed_logins: int | None = None, locked_until: datetime | None | str = "keep") -> None:
    """Update password hash / failed-login counter / lockout time."""
    if password_hash is not None:
        db.execute("UPDATE agents SET password_hash = ? WHERE id = ?", (password_hash, agent_id))
    if failed_logins is not None:
        db.execute("UPDATE agents SET failed_logins = ? WHERE id = ?", (failed_logins, agent_id))
    if locked_until != "keep":
        value = to_iso(locked_until) if isinstance(locked_until, datetime) else None
        db.execute("UPDATE agents SET locked_until = ? WHERE id = ?", (value, agent_id))


# ---- drafts -------------------------------------------------------------------------------------------

_DRAFT_COLS = ("id, mention_uid, author_id, body, signed_text, platform, state, approver_id, comment, "
               "charter_version, charter_result, needs_approval, platform_post_id, permalink, created_at, "
               "updated_at, sent_at, scheduled_at, submitted_at, approved_at, approved_text, approval_reasons, media")


def _opt_iso(value: datetime | None) -> str | None:
    return to_iso(value) if value else None


def _draft(r: Sequence[Any]) -> Draft:
    return Draft(id=r[0], mention_uid=r[1], author_id=r[2], body=r[3], signed_text=r[4], platform=Platform(r[5]),
                 state=DraftState(r[6]), approver_id=r[7], comment=r[8], charter_version=r[9],
                 charter_result=tuple(json.loads(r[10] or "[]")), needs_approval=bool(r[11]),
                 platform_post_id=r[12], permalink=r[13], created_at=from_iso(r[14]),  # type: ignore[arg-type]
                 updated_at=from_iso(r[15]), sent_at=from_iso(r[16]),  # type: ignore[arg-type]
                 scheduled_at=from_iso(r[17]), submitted_at=from_iso(r[18]), approved_at=from_iso(r[19]),
                 approved_text=r[20], approval_reasons=tuple(json.loads(r[21] or "[]")),
                 media=tuple(json.loads(r[22] or "[]")))


def create_draft(db: Database, *, mention_uid: str | None, author_id: int, body: str, signed_text: str,
                 platform: Platform, state: DraftState = DraftState.DRAFT, needs_approval: bool = False,
                 charter_version: int | None = None, charter_result: Iterable[dict[str, Any]] = (),
                 now: datetime) -> Draft:
    """Store a new draft and return it."""
    cur = db.execute(
        "INSERT INTO drafts (mention_uid, author_id, body, signed_text, platform, state, needs_approval, "
        "charter_version, charter_result, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (mention_uid, author_id, body, signed_text, str(platform), str(state), int(needs_approval),
         charter_version, json.dumps(list(charter_result), ensure_ascii=False), to_iso(now), to_iso(now)))
    return get_draft(db, int(cur.lastrowid or 0))


def get_draft(db: Database, draft_id: int) -> Draft:
    """One draft, or NotFoundError."""
    row = db.execute(f"SELECT {_DRAFT_COLS} FROM drafts WHERE id = ?", (draft_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no draft {draft_id}")
    return _draft(row)


def save_draft(db: Database, draft: Draft) -> None:
    """Write back every mutable field of ``draft``."""
    db.execute(
        "UPDATE drafts SET body = ?, signed_text = ?, state = ?, approver_id = ?, comment = ?, charter_version = ?, "
        "charter_result = ?, needs_approval = ?, platform_post_id = ?, permalink = ?, updated_at = ?, sent_at = ?, "
        "scheduled_at = ?, submitted_at = ?, approved_at = ?, approved_text = ?, approval_reasons = ?, media = ? "
        "WHERE id = ?",
        (draft.body, draft.signed_text, str(draft.state), draft.approver_id, draft.comment, draft.charter_version,
         json.dumps(list(draft.charter_result), ensure_ascii=False), int(draft.needs_approval),
         draft.platform_post_id, draft.permalink, to_iso(draft.updated_at),
         to_iso(draft.sent_at) if draft.sent_at else None, _opt_iso(draft.scheduled_at),
         _opt_iso(draft.submitted_at), _opt_iso(draft.approved_at), draft.approved_text,
         json.dumps(list(draft.approval_reasons)), json.dumps(list(draft.media), ensure_ascii=False), draft.id))


def drafts_for(db: Database, mention_uid: str) -> list[Draft]:
    """Drafts and sent replies on a mention, oldest first."""
    return [_draft(r) for r in db.execute(f"SELECT {_DRAFT_COLS} FROM drafts WHERE mention_uid = ? ORDER BY id",
                                          (mention_uid,))]


def drafts_in_state(db: Database, states: Sequence[DraftState], *, limit: int = 200) -> list[Draft]:
    """Drafts in any of ``states``, oldest update first."""
    marks = ",".join("?" * len(states))
    return [_draft(r) for r in db.execute(
        f"SELECT {_DRAFT_COLS} FROM drafts WHERE state IN ({marks}) ORDER BY updated_at LIMIT ?",
        [*(str(s) for s in states), limit])]


# ---- connector state & worker heartbeat --------------------------------------------------------------

def connector_health(db: Database, name: str) -> ConnectorHealth:
    """Stored health of connector ``name`` (status ``never`` if it never ran)."""
    row = db.execute("SELECT name, status, last_sync_at, last_error, rate_limited_until, cursor, fetched_total "
                     "FROM connector_state WHERE name = ?", (name,)).fetchone()
    if row is None:
        return ConnectorHealth(name=name, status="never")
    return ConnectorHealth(name=row[0], status=row[1], last_sync_at=from_iso(row[2]), last_error=row[3],
                           rate_limited_until=from_iso(row[4]), cursor=row[5], fetched_total=row[6])


def all_connector_health(db: Database) -> list[ConnectorHealth]:
    """Health of every connector that ever ran."""
    return [connector_health(db, r[0]) for r in db.execute("SELECT name FROM connector_state ORDER BY name")]


def save_connector_state(db: Database, name: str, *, platform: str, status: str, now: datetime,
                         cursor: str | None | object = ..., last_error: str | None = None,
                         rate_limited_until: datetime | None = None, fetched: int = 0,
                         counts: dict[str, int] | None = None) -> None:
    """Upsert a connector's cursor and health after a sync attempt (``cursor=...`` keeps the stored one)."""
    db.execute("INSERT OR IGNORE INTO connector_state (name, platform) VALUES (?, ?)", (name, platform))
    if cursor is not ...:
        db.execute("UPDATE connector_state SET cursor = ? WHERE name = ?", (cursor, name))
    db.execute(
        "UPDATE connector_state SET status = ?, last_sync_at = ?, last_error = ?, rate_limited_until = ?, "
        "fetched_total = fetched_total + ?, last_counts = ? WHERE name = ?",
        (status, to_iso(now), last_error, to_iso(rate_limited_until) if rate_limited_until else None, fetched,
         json.dumps(counts or {}), name))


def request_sync(db: Database, name: str, platform: str, *, now: datetime) -> None:
    """Ask the worker to sync connector ``name`` at its next tick."""
    db.execute("INSERT OR IGNORE INTO connector_state (name, platform) VALUES (?, ?)", (name, platform))
    db.execute("UPDATE connector_state SET sync_requested_at = ? WHERE name = ?", (to_iso(now), name))


def take_sync_requests(db: Database) -> list[str]:
    """Names of connectors with a pending "sync now" request; clears the requests."""
    names = [r[0] for r in db.execute("SELECT name FROM connector_state WHERE sync_requested_at IS NOT NULL")]
    if names:
        db.execute("UPDATE connector_state SET sync_requested_at = NULL WHERE sync_requested_at IS NOT NULL")
    return names


def connector_counts(db: Database, name: str) -> dict[str, int]:
    """Counts of the last sync of connector ``name``."""
    row = db.execute("SELECT last_counts FROM connector_state WHERE name = ?", (name,)).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def beat(db: Database, name: str, *, pid: int, started_at: datetime, now: datetime,
         info: dict[str, Any] | None = None) -> None:
    """Record that worker ``name`` is alive."""
    db.execute("INSERT INTO worker_heartbeat (name, pid, started_at, beat_at, info) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, "
               "beat_at = excluded.beat_at, info = excluded.info",
               (name, pid, to_iso(started_at), to_iso(now), json.dumps(info or {})))


def last_beat(db: Database, name: str = "worker") -> datetime | None:
    """When worker ``name`` last reported, or None."""
    row = db.execute("SELECT beat_at FROM worker_heartbeat WHERE name = ?", (name,)).fetchone()
    return from_iso(row[0]) if row else None


# ---- editorial: charters, sessions, saved replies, approvals (issue #5) ---------------------------------

def latest_charter(db: Database) -> dict[str, Any] | None:
    """The charter version in force (highest version), or None if none was ever saved."""
    row = db.execute("SELECT version, name, data, yaml, sha256, comment, created_by, created_at FROM charters "
                     "ORDER BY version DESC LIMIT 1").fetchone()
    return _charter_row(row) if row else None


def get_charter(db: Database, version: int) -> dict[str, Any]:
    """One stored charter version, or NotFoundError."""
    row = db.execute("SELECT version, name, data, yaml, sha256, comment, created_by, created_at FROM charters "
                     "WHERE version = ?", (version,)).fetchone()
    if row is None:
        raise NotFoundError(f"no charter version {version}")
    return _charter_row(row)


def _charter_row(r: Sequence[Any]) -> dict[str, Any]:
    return {"version": r[0], "name": r[1], "data": json.loads(r[2]), "yaml": r[3], "sha256": r[4],
            "comment": r[5], "created_by": r[6], "created_at": from_iso(r[7])}


def list_charters(db: Database, *, limit: int = 100) -> list[dict[str, Any]]:
    """Charter versions, newest first (without their YAML)."""
    return [{"version": r[0], "name": r[1], "sha256": r[2], "comment": r[3], "created_by": r[4],
             "created_at": from_iso(r[5])}
            for r in db.execute("SELECT version, name, sha256, comment, created_by, created_at FROM charters "
                                "ORDER BY version DESC LIMIT ?", (limit,))]


def insert_charter(db: Database, *, name: str, data: dict[str, Any], yaml_text: str, sha256: str, comment: str,
                   created_by: str, now: datetime) -> int:
    """Append a new charter version (previous + 1) and return its number."""
    row = db.execute("SELECT COALESCE(MAX(version), 0) FROM charters").fetchone()
    version = int(row[0]) + 1
    db.execute("INSERT INTO charters (version, name, data, yaml, sha256, comment, created_by, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (version, name, json.dumps(data, ensure_ascii=False, sort_keys=True), yaml_text, sha256, comment,
                created_by, to_iso(now)))
    return version


def create_session(db: Database, *, token_hash: str, agent_id: int, method: str, now: datetime,
                   expires_at: datetime) -> None:
    """Store a new sign-in session (the token itself is never stored)."""
    db.execute("INSERT INTO sessions (token_hash, agent_id, method, created_at, last_seen_at, expires_at) "
               "VALUES (?, ?, ?, ?, ?, ?)", (token_hash, agent_id, method, to_iso(now), to_iso(now),
                                             to_iso(expires_at)))


def get_session(db: Database, token_hash: str) -> dict[str, Any] | None:
    """A session by token hash, or None."""
    r = db.execute("SELECT token_hash, agent_id, method, created_at, last_seen_at, expires_at, revoked_at "
                   "FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone()
    if r is None:
        return None
    return {"token_hash": r[0], "agent_id": r[1], "method": r[2], "created_at": from_iso(r[3]),
            "last_seen_at": from_iso(r[4]), "expires_at": from_iso(r[5]), "revoked_at": from_iso(r[6])}


def touch_session(db: Database, token_hash: str, *, now: datetime) -> None:
    """Record activity on a session (idle timeout restarts)."""
    db.execute("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (to_iso(now), token_hash))


def revoke_sessions(db: Database, *, now: datetime, token_hash: str | None = None,
                    agent_id: int | None = None) -> int:
    """Revoke one session, or every open session of an agent; return how many."""
    if token_hash is not None:
        cur = db.execute("UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                         (to_iso(now), token_hash))
    else:
        cur = db.execute("UPDATE sessions SET revoked_at = ? WHERE agent_id = ? AND revoked_at IS NULL",
                         (to_iso(now), agent_id))
    return cur.rowcount


def count_agents(db: Database, *, role: Role | None = None) -> int:
    """Active agents (with ``role`` if given)."""
    if role is None:
        return int(db.execute("SELECT count(*) FROM agents WHERE active = 1").fetchone()[0])
    return int(db.execute("SELECT count(*) FROM agents WHERE active = 1 AND role = ?", (str(role),)).fetchone()[0])


_SAVED_COLS = "id, title, body, active, created_by, created_at, updated_at"


def _saved(r: Sequence[Any]) -> dict[str, Any]:
    return {"id": r[0], "title": r[1], "body": r[2], "active": bool(r[3]), "created_by": r[4],
            "created_at": from_iso(r[5]), "updated_at": from_iso(r[6])}


def create_saved_reply(db: Database, *, title: str, body: str, created_by: int, now: datetime) -> int:
    """Store a saved reply; ValidationError if an active one has the same title."""
    if db.execute("SELECT 1 FROM saved_replies WHERE active = 1 AND title = ? COLLATE NOCASE", (title,)).fetchone():
        raise ValidationError(f"un modèle nommé « {title} » existe déjà")
    cur = db.execute("INSERT INTO saved_replies (title, body, created_by, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?)", (title, body, created_by, to_iso(now), to_iso(now)))
    return int(cur.lastrowid or 0)


def update_saved_reply(db: Database, reply_id: int, *, title: str, body: str, active: bool, now: datetime) -> None:
    """Change a saved reply's title/body, or deactivate it."""
    db.execute("UPDATE saved_replies SET title = ?, body = ?, active = ?, updated_at = ? WHERE id = ?",
               (title, body, int(active), to_iso(now), reply_id))


def get_saved_reply(db: Database, reply_id: int) -> dict[str, Any]:
    """One saved reply, or NotFoundError."""
    r = db.execute(f"SELECT {_SAVED_COLS} FROM saved_replies WHERE id = ?", (reply_id,)).fetchone()
    if r is None:
        raise NotFoundError(f"no saved reply {reply_id}")
    return _saved(r)


def list_saved_replies(db: Database, *, active_only: bool = True) -> list[dict[str, Any]]:
    """Saved replies by title."""
    where = "WHERE active = 1" if active_only else ""
    return [_saved(r) for r in db.execute(f"SELECT {_SAVED_COLS} FROM saved_replies {where} ORDER BY title")]


def drafts_due(db: Database, *, now: datetime, limit: int = 50) -> list[Draft]:
    """Scheduled drafts whose time has come, oldest first (for the worker)."""
    return [_draft(r) for r in db.execute(
        f"SELECT {_DRAFT_COLS} FROM drafts WHERE state = 'scheduled' AND scheduled_at <= ? "
        "ORDER BY scheduled_at LIMIT ?", (to_iso(now), limit))]


def count_sent_between(db: Database, start: datetime, end: datetime) -> int:
    """Replies sent in ``[start, end)``."""
    return int(db.execute("SELECT count(*) FROM drafts WHERE state = 'sent' AND sent_at >= ? AND sent_at < ?",
                          (to_iso(start), to_iso(end))).fetchone()[0])
