"""The rich tier's re-scoring queue: recent mentions still scored by the fast tier, newest first (decision 0012).

No index of its own (a bulk load rebuilds the mentions' indexes, and ingest pays for each): the query walks
``idx_mentions_created`` over a recent window only, so an idle pass reads that window's rows and stops.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

from core.clock import to_iso
from core.models import InboxItem
from core.repo.inbox import MENTION_COLUMNS, _items
from core.repo.mention_writes import Scores

# Only the fast tier's scores (``offline…``, or none yet) are upgraded: a score from a transformers model an
# administrator chose (``transformers:…``) or from the rich tier itself is kept, and so is an agent's correction.
TO_RESCORE_SQL = ("(COALESCE(model_version, '') = '' OR model_version LIKE 'offline%') "
                  "AND COALESCE(sentiment_source, '') != 'agent'")


def mentions_to_rescore(db: Database, *, since: datetime, limit: int = 64) -> list[InboxItem]:
    """Up to ``limit`` mentions created since ``since`` scored by the fast tier and not corrected by an agent."""
    rows = db.execute(f"SELECT {MENTION_COLUMNS} FROM mentions INDEXED BY idx_mentions_created "
                      f"WHERE created_at >= ? AND {TO_RESCORE_SQL} ORDER BY created_at DESC LIMIT ?",
                      (to_iso(since), limit)).fetchall()
    return _items(db, rows)


def rescore_backlog(db: Database, *, since: datetime) -> int:
    """How many mentions created since ``since`` still wait for the rich tier."""
    return int(db.execute(f"SELECT count(*) FROM mentions INDEXED BY idx_mentions_created "
                          f"WHERE created_at >= ? AND {TO_RESCORE_SQL}", (to_iso(since),)).fetchone()[0])


def store_rescored(db: Database, uid: str, scores: Scores, *, text: str | None) -> bool:
    """Store the rich tier's ``scores`` unless an agent corrected the sentiment or the text changed meanwhile."""
    cur = db.execute(
        "UPDATE mentions SET sentiment = ?, sentiment_confidence = ?, sentiment_source = 'model', risk_score = ?, "
        "risk_flags = ?, priority = ?, model_version = ?, risk_model_version = ? WHERE uid = ? AND text IS ? "
        "AND COALESCE(sentiment_source, '') != 'agent'",
        (scores.sentiment, scores.sentiment_confidence, scores.risk_score,
         json.dumps(list(scores.risk_flags), ensure_ascii=False), scores.priority, scores.model_version,
         scores.risk_model_version, uid, text))
    return bool(cur.rowcount)
