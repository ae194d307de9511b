"""DML for moderation (issue #4): agents' sentiment corrections, priority refresh, crisis counts.

Schema: core/migrations/moderation.py m010. Like core/repo.py, functions do not open transactions: services wrap a
change and its audit record in :func:`core.db.write_transaction`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from core import repo
from core.clock import from_iso, to_iso
from core.errors import NotFoundError, ValidationError
from core.repo.retention import ERASED_AUTHOR_SQL

SENTIMENT_LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class SentimentFeedback:
    """An agent's correction, with the mention's current text (for retraining)."""

    mention_uid: str
    text: str
    label: str
    previous_label: str | None
    agent_id: int | None
    created_at: datetime


def record_sentiment_feedback(db: Database, uid: str, label: str, *, agent_id: int | None,
                              now: datetime) -> str | None:
    """Store an agent's sentiment label for ``uid`` (kept over later model scores); return the previous label."""
    if label not in SENTIMENT_LABELS:
        raise ValidationError(f"sentiment must be one of {', '.join(SENTIMENT_LABELS)}, got {label!r}")
    row = db.execute("SELECT sentiment, model_version FROM mentions WHERE uid = ?", (uid,)).fetchone()
    if row is None:
        raise NotFoundError(f"no mention {uid}")
    db.execute("INSERT INTO sentiment_feedback (mention_uid, label, previous_label, model_version, agent_id, "
               "created_at) VALUES (?, ?, ?, ?, ?, ?)", (uid, label, row[0], row[1], agent_id, to_iso(now)))
    repo.set_agent_sentiment(db, uid, label, now=now)
    return row[0]


def sentiment_feedback(db: Database) -> list[SentimentFeedback]:
    """The latest correction of each corrected mention, oldest first; never a message of a resident who asked for
    erasure (training does not use them, decision 0316)."""
    rows = db.execute(
        "SELECT f.mention_uid, m.text, f.label, f.previous_label, f.agent_id, f.created_at "
        "FROM sentiment_feedback f JOIN mentions m ON m.uid = f.mention_uid "
        "WHERE f.id = (SELECT max(id) FROM sentiment_feedback g WHERE g.mention_uid = f.mention_uid) "
        f"AND NOT {ERASED_AUTHOR_SQL} ORDER BY f.id").fetchall()
    return [SentimentFeedback(mention_uid=r[0], text=r[1], label=r[2], previous_label=r[3], agent_id=r[4],
                              created_at=from_iso(r[5]))  # type: ignore[arg-type]
            for r in rows]


def update_priorities(db: Database, priorities: Iterable[tuple[str, float]]) -> int:
    """Store new priorities (from ``moderation.priority.reprioritize``); return how many rows changed."""
    cur = db.conn.executemany("UPDATE mentions SET priority = ? WHERE uid = ?",
                              [(value, uid) for uid, value in priorities])
    return max(cur.rowcount, 0)


def negative_or_risky_times(db: Database, since: datetime, *, risk_min: float = 0.5) -> list[datetime]:
    """Creation times of mentions since ``since`` that are negative or have a risk score >= ``risk_min``."""
    rows = db.execute("SELECT created_at FROM mentions WHERE created_at >= ? AND (sentiment = 'negative' "
                      "OR risk_score >= ?) ORDER BY created_at", (to_iso(since), risk_min)).fetchall()
    return [from_iso(r[0]) for r in rows]  # type: ignore[misc]
