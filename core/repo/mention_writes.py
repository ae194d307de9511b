"""Storing mentions: idempotent upsert with time-ordered keys, full-text and roll-up upkeep, platform changes,
scores."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core import json_text, mention_keys
from core.clock import from_iso, to_iso
from core.db import write_transaction
from core.errors import ValidationError
from core.models import Mention
from core.repo.rollups import RISK_FLAGS_EACH, RISK_KIND


@dataclass(frozen=True, slots=True)
class Scores:
    """Moderation output stored with a mention (computed by moderation/, stored here)."""

    sentiment: str | None = None
    sentiment_confidence: float | None = None
    risk_score: float = 0.0
    risk_flags: tuple[dict[str, Any], ...] = ()
    priority: float = 0.0
    model_version: str | None = None  # the sentiment model / tier (``offline-sentiment-…``, ``rich-…``)
    risk_model_version: str | None = None  # the toxicity model and lexicon behind the flags (decision 0325)


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
    "priority", "model_version", "quote_of", "risk_model_version",
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
        sc.model_version, m.quote_of, sc.risk_model_version,
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


class DeferredIndexing:
    """New mentions whose full-text and roll-up entries are added later, in a few large statements
    (:mod:`core.repo.mention_bulk`); ``keys`` are their rowids."""

    def __init__(self) -> None:
        self.keys: list[int] = []

    def flush(self, db: Database, chunk: int = 100_000) -> None:
        """Add the pending mentions to the full-text index and the roll-ups, in rowid order."""
        self.keys.sort()
        for start in range(0, len(self.keys), chunk):
            index_new_mentions(db, json.dumps(self.keys[start:start + chunk]))
        self.keys.clear()


def index_new_mentions(db: Database, new_keys: str) -> None:
    """Add just-inserted mentions (``new_keys``: their rowids as a JSON array) to the full-text index and the
    dashboard roll-ups, one statement each."""
    db.execute("INSERT INTO mentions_fts (rowid, text, author_handle, author_name) "
               f"SELECT rowid, text, author_handle, author_name FROM mentions WHERE rowid IN {_IN_KEYS}",
               (new_keys,))
    _rollup_new_mentions(db, new_keys)


def _upsert(db: Database, mentions: Sequence[Mention], *, now: datetime,
            scores: Sequence[Scores] | None, deferred: DeferredIndexing | None = None) -> UpsertResult:
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
        ordered = sorted(((k, *r) for k, r in zip(keys, new_rows, strict=True)), key=lambda row: row[0])
        db.conn.executemany(_INSERT_SQL, ordered)
        if deferred is None:
            index_new_mentions(db, json.dumps(keys))
        else:
            deferred.keys.extend(keys)
        result.inserted.extend(r[0] for r in new_rows)
    if existing and deferred is not None:
        # The updates below fire the full-text and roll-up triggers, which must find earlier rows of the load
        # already indexed (an FTS5 'delete' of a row never added corrupts the index).
        deferred.flush(db)
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
        if m.quote_of is not None:
            db.execute("UPDATE mentions SET quote_of = ? WHERE uid = ? AND quote_of IS NOT ?", (m.quote_of, uid,
                                                                                             m.quote_of))
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
    statement each; updates and deletes are kept exact by the triggers of migration m060)."""
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
    db.execute(  # mentions imported with a first response already known (migration m061)
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
        "risk_flags = ?, priority = ?, model_version = ?, risk_model_version = ? "
        "WHERE uid = ? AND COALESCE(sentiment_source, '') != 'agent'",
        (scores.sentiment, scores.sentiment_confidence, scores.risk_score,
         json.dumps(list(scores.risk_flags), ensure_ascii=False), scores.priority, scores.model_version,
         scores.risk_model_version, uid))
