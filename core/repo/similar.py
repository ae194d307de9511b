"""Answered conversations found by full text (similar answers, decision 0171): ``answered_fts`` (m171) holds the
resident's message and the reply's body of every reply that went out, keyed by the reply's draft id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from core.clock import from_iso, to_iso


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


def answered_by_ids(db: Database, draft_ids: list[int]) -> list[AnsweredMatch]:
    """The answered messages of these sent replies (rank 0), in no particular order; gone ones are left out."""
    if not draft_ids:
        return []
    marks = ",".join("?" * len(draft_ids))
    rows = db.execute(
        "SELECT d.id, d.mention_uid, m.platform, m.conversation_id, m.text, d.body, d.signed_text, "
        "COALESCE(d.sent_at, d.updated_at) FROM drafts d JOIN mentions m ON m.uid = d.mention_uid "
        f"WHERE d.state = 'sent' AND d.id IN ({marks})", list(draft_ids)).fetchall()
    return [AnsweredMatch(draft_id=r[0], mention_uid=r[1], platform=r[2], conversation_id=r[3], text=r[4] or "",
                          body=r[5], signed_text=r[6], sent_at=from_iso(r[7]),  # type: ignore[arg-type]
                          rank=0.0) for r in rows]


def answered_to_embed(db: Database, *, limit: int) -> list[tuple[int, str, str]]:
    """Up to ``limit`` sent replies without a vector, newest first: (draft id, resident's text, reply body)."""
    return [(int(r[0]), r[1] or "", r[2] or "") for r in db.execute(
        "SELECT d.id, m.text, d.body FROM answered_fts f JOIN drafts d ON d.id = f.rowid "
        "JOIN mentions m ON m.uid = d.mention_uid LEFT JOIN answered_vectors v ON v.draft_id = d.id "
        "WHERE d.state = 'sent' AND v.draft_id IS NULL ORDER BY d.id DESC LIMIT ?", (limit,)).fetchall()]


def mentions_to_embed(db: Database, *, since: datetime, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` residents' messages created since ``since`` without a vector, newest first: (uid, text)."""
    return [(r[0], r[1] or "") for r in db.execute(
        "SELECT m.uid, m.text FROM mentions m LEFT JOIN mention_vectors v ON v.mention_uid = m.uid "
        "WHERE m.created_at >= ? AND v.mention_uid IS NULL AND m.text IS NOT NULL AND m.text != '' "
        "ORDER BY m.created_at DESC LIMIT ?", (to_iso(since), limit)).fetchall()]


def store_answered_vectors(db: Database, rows: list[tuple[int, bytes]], *, model: str) -> None:
    """Store (draft id, vector bytes) pairs (call inside a write transaction)."""
    db.conn.executemany("INSERT OR REPLACE INTO answered_vectors (draft_id, model, vec) VALUES (?, ?, ?)",
                        [(d, model, v) for d, v in rows])


def store_mention_vectors(db: Database, rows: list[tuple[str, bytes]], *, model: str) -> None:
    """Store (mention uid, vector bytes) pairs (call inside a write transaction)."""
    db.conn.executemany("INSERT OR REPLACE INTO mention_vectors (mention_uid, model, vec) VALUES (?, ?, ?)",
                        [(u, model, v) for u, v in rows])


def mention_vector(db: Database, uid: str) -> bytes | None:
    """The stored vector of a resident's message, if the worker computed it."""
    row = db.execute("SELECT vec FROM mention_vectors WHERE mention_uid = ?", (uid,)).fetchone()
    return None if row is None else bytes(row[0])


def mention_vectors_of(db: Database, uids: list[str], *, model: str) -> dict[str, bytes]:
    """The stored vectors (of ``model``) of these residents' messages, for those that have one."""
    out: dict[str, bytes] = {}
    for start in range(0, len(uids), 500):
        chunk = uids[start:start + 500]
        out.update((r[0], bytes(r[1])) for r in db.execute(
            f"SELECT mention_uid, vec FROM mention_vectors WHERE model = ? AND mention_uid IN "
            f"({','.join('?' * len(chunk))})", [model, *chunk]).fetchall())
    return out


def answered_vectors_state(db: Database) -> tuple[int, int]:
    """(highest ``seq``, row count) of the stored answered vectors: what a reader's cache compares."""
    # two statements: alone, each is one b-tree lookup; together SQLite scans the whole index (15 ms at 100,000)
    top = db.execute("SELECT COALESCE(max(seq), 0) FROM answered_vectors").fetchone()[0]
    return int(top), int(db.execute("SELECT count(*) FROM answered_vectors").fetchone()[0])


def answered_vectors_after(db: Database, seq: int) -> list[tuple[int, int, bytes]]:
    """Stored answered vectors with ``seq`` above ``seq``: (seq, draft id, vector bytes), in ``seq`` order."""
    return [(int(r[0]), int(r[1]), bytes(r[2])) for r in db.execute(
        "SELECT seq, draft_id, vec FROM answered_vectors WHERE seq > ? ORDER BY seq", (seq,)).fetchall()]


def answered_vectors_of(db: Database, draft_ids: list[int]) -> dict[int, bytes]:
    """The stored vectors of these sent replies (those that have one)."""
    if not draft_ids:
        return {}
    marks = ",".join("?" * len(draft_ids))
    return {int(r[0]): bytes(r[1]) for r in db.execute(
        f"SELECT draft_id, vec FROM answered_vectors WHERE draft_id IN ({marks})", list(draft_ids)).fetchall()}
