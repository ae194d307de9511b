"""Answered conversations found by full text (similar answers, decision 0171): ``answered_fts`` (m171) holds the
resident's message and the reply's body of every reply that went out, keyed by the reply's draft id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from core.clock import from_iso


@dataclass(frozen=True, slots=True)
class AnsweredMatch:
    """A resident's message the city answered, the reply that went out, and its full-text rank (lower: closer)."""

    draft_id: int
    mention_uid: str
    platform: str
    conversation_id: str | None
    text: str
    body: str
    signed_text: str
    sent_at: datetime
    rank: float


def answered_matches(db: Database, match: str, *, limit: int = 20) -> list[AnsweredMatch]:
    """The ``limit`` best answered messages for the FTS5 query ``match``, best first (BM25)."""
    rows = db.execute(
        "SELECT d.id, d.mention_uid, m.platform, m.conversation_id, m.text, d.body, d.signed_text, "
        "COALESCE(d.sent_at, d.updated_at), f.rank FROM "
        "(SELECT rowid AS rid, bm25(answered_fts, 1.0, 1.0) AS rank FROM answered_fts WHERE answered_fts MATCH ? "
        " ORDER BY rank LIMIT ?) f "
        "JOIN drafts d ON d.id = f.rid JOIN mentions m ON m.uid = d.mention_uid "
        "WHERE d.state = 'sent' ORDER BY f.rank, d.id DESC", (match, limit)).fetchall()
    return [AnsweredMatch(draft_id=r[0], mention_uid=r[1], platform=r[2], conversation_id=r[3], text=r[4] or "",
                          body=r[5], signed_text=r[6], sent_at=from_iso(r[7]),  # type: ignore[arg-type]
                          rank=float(r[8])) for r in rows]


def answered_count(db: Database) -> int:
    """How many sent replies the index holds."""
    return int(db.execute("SELECT count(*) FROM answered_fts").fetchone()[0])
