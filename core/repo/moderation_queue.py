"""Reading the moderation queue: flagged mentions without a final decision, filtered, counted exactly, ranked.

Ranking (docs/moderation-queue.md): first the items with a *severe* flag — a threat, self-harm or a resident's
personal data with a flag score >= :data:`SEVERE_MIN_SCORE` — then the rest; inside each tier, priority, then
newest. So a threat is never buried under a flood of reports of one known incident (a storm), whatever their
number or priority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import to_iso
from core.models import InboxItem
from core.repo.inbox import MENTION_COLUMNS, _items, fts_query

SEVERE_KINDS = ("threat", "self_harm", "personal_data")
SEVERE_MIN_SCORE = 0.5
FINAL_ACTIONS = ("hide", "delete", "ban", "spam", "dismiss")
MARK_FILTERS = ("any", "elected", "opposition", "marked", "unmarked")

_SEVERE_SQL = (
    "EXISTS (SELECT 1 FROM json_each(m.risk_flags) AS j WHERE json_extract(j.value, '$.kind') IN "
    f"({', '.join(repr(k) for k in SEVERE_KINDS)}) AND json_extract(j.value, '$.score') >= {SEVERE_MIN_SCORE})")
_UNDECIDED_SQL = ("NOT EXISTS (SELECT 1 FROM moderation_decisions AS d WHERE d.mention_uid = m.uid AND d.action IN "
                  f"({', '.join(repr(a) for a in FINAL_ACTIONS)}))")
_MARK_SQL = ("(SELECT a.mark FROM author_marks AS a WHERE a.platform = m.platform "
             "AND a.author_platform_id = m.author_id)")


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueQuery:
    """Filters of the moderation queue (all optional, AND-ed; several kinds or platforms are OR-ed)."""

    min_risk: float = 0.5
    kinds: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    since: datetime | None = None  # created at or after
    mark: str = "any"  # one of MARK_FILTERS
    search: str = ""
    limit: int = 25
    offset: int = 0


def _where(q: QueueQuery) -> tuple[list[str], list[Any]]:
    if q.mark not in MARK_FILTERS:
        raise ValueError(f"unknown author mark filter {q.mark!r}")
    clauses = ["m.risk_score >= ?", "m.hidden = 0", "m.deleted_at IS NULL", _UNDECIDED_SQL]
    params: list[Any] = [q.min_risk]
    if q.kinds:
        clauses.append("EXISTS (SELECT 1 FROM json_each(m.risk_flags) AS k WHERE json_extract(k.value, '$.kind') "
                       f"IN ({','.join('?' * len(q.kinds))}))")
        params.extend(q.kinds)
    if q.platforms:
        clauses.append(f"m.platform IN ({','.join('?' * len(q.platforms))})")
        params.extend(q.platforms)
    if q.since is not None:
        clauses.append("m.created_at >= ?")
        params.append(to_iso(q.since))
    if q.mark in ("elected", "opposition"):
        clauses.append(f"{_MARK_SQL} = ?")
        params.append(q.mark)
    elif q.mark == "marked":
        clauses.append(f"{_MARK_SQL} IS NOT NULL")
    elif q.mark == "unmarked":
        clauses.append(f"{_MARK_SQL} IS NULL")
    if q.search.strip():
        clauses.append("m.rowid IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)")
        params.append(fts_query(q.search) or '""')
    return clauses, params


def list_queue(db: Database, q: QueueQuery) -> list[InboxItem]:
    """One page of the queue: severe items first, then by priority, newest first among equals."""
    clauses, params = _where(q)
    cols = ", ".join("m." + c.strip() for c in MENTION_COLUMNS.split(","))
    sql = (f"SELECT {cols} FROM mentions m WHERE {' AND '.join(clauses)} "
           f"ORDER BY {_SEVERE_SQL} DESC, m.priority DESC, m.created_at DESC LIMIT ? OFFSET ?")
    return _items(db, db.execute(sql, [*params, q.limit, q.offset]).fetchall())


def count_queue(db: Database, q: QueueQuery) -> int:
    """How many items match ``q`` (no cap; limit and offset ignored)."""
    clauses, params = _where(q)
    row = db.execute(f"SELECT count(*) FROM mentions m WHERE {' AND '.join(clauses)}", params).fetchone()
    return int(row[0])


def queue_uids(db: Database, q: QueueQuery) -> list[str]:
    """Every uid matching ``q`` in queue order (limit and offset ignored): what a bulk action applies to."""
    clauses, params = _where(q)
    sql = (f"SELECT m.uid FROM mentions m WHERE {' AND '.join(clauses)} "
           f"ORDER BY {_SEVERE_SQL} DESC, m.priority DESC, m.created_at DESC")
    return [r[0] for r in db.execute(sql, params).fetchall()]


def count_by_kind(db: Database, q: QueueQuery) -> dict[str, int]:
    """How many items matching ``q`` (its ``kinds`` ignored) carry each risk kind."""
    clauses, params = _where(QueueQuery(min_risk=q.min_risk, platforms=q.platforms, since=q.since, mark=q.mark,
                                        search=q.search))
    sql = (f"SELECT json_extract(k.value, '$.kind'), count(DISTINCT m.uid) FROM mentions m, "
           f"json_each(m.risk_flags) AS k WHERE {' AND '.join(clauses)} GROUP BY 1")
    return {str(kind): int(n) for kind, n in db.execute(sql, params).fetchall() if kind}

