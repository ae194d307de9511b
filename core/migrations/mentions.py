"""Migrations of the mentions table, its full-text index and keys (m001, m006-m008)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlite_utils import Database

from core import mention_keys
from core.clock import from_iso

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def m001_mentions(db: Database) -> None:
    """Mentions with the team's work on them, their revisions, tags, notes and full-text index."""
    db.executescript("""
    CREATE TABLE mentions (
        uid TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_id TEXT NOT NULL,
        account TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'mention',
        conversation_id TEXT,
        in_reply_to TEXT,
        author_id TEXT NOT NULL,
        author_handle TEXT NOT NULL,
        author_name TEXT NOT NULL DEFAULT '',
        author_followers INTEGER,
        text TEXT NOT NULL,
        lang TEXT,
        created_at TEXT NOT NULL,
        permalink TEXT,
        media TEXT NOT NULL DEFAULT '[]',
        raw TEXT NOT NULL DEFAULT '{}',
        ingested_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new',
        assigned_to INTEGER,
        sentiment TEXT,
        sentiment_confidence REAL,
        sentiment_source TEXT,
        risk_score REAL NOT NULL DEFAULT 0,
        risk_flags TEXT NOT NULL DEFAULT '[]',
        priority REAL NOT NULL DEFAULT 0,
        model_version TEXT,
        hidden INTEGER NOT NULL DEFAULT 0,
        edited_at TEXT,
        deleted_at TEXT,
        first_response_at TEXT
    );
    CREATE INDEX idx_mentions_open_priority ON mentions (priority DESC, created_at DESC)
        WHERE status IN ('new', 'assigned', 'waiting', 'escalated');
    CREATE INDEX idx_mentions_open_created ON mentions (created_at DESC)
        WHERE status IN ('new', 'assigned', 'waiting', 'escalated');
    CREATE INDEX idx_mentions_created ON mentions (created_at DESC);
    CREATE INDEX idx_mentions_platform_status ON mentions (platform, status, created_at DESC);
    CREATE INDEX idx_mentions_assigned ON mentions (assigned_to, status, created_at DESC);
    CREATE INDEX idx_mentions_conversation ON mentions (platform, conversation_id, created_at);
    CREATE INDEX idx_mentions_author ON mentions (platform, author_id, created_at DESC);

    CREATE VIRTUAL TABLE mentions_fts USING fts5 (
        text, author_handle, author_name,
        content='mentions', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER mentions_fts_ai AFTER INSERT ON mentions BEGIN
        INSERT INTO mentions_fts (rowid, text, author_handle, author_name)
        VALUES (new.rowid, new.text, new.author_handle, new.author_name);
    END;
    CREATE TRIGGER mentions_fts_ad AFTER DELETE ON mentions BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, text, author_handle, author_name)
        VALUES ('delete', old.rowid, old.text, old.author_handle, old.author_name);
    END;
    CREATE TRIGGER mentions_fts_au AFTER UPDATE OF text, author_handle, author_name ON mentions BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, text, author_handle, author_name)
        VALUES ('delete', old.rowid, old.text, old.author_handle, old.author_name);
        INSERT INTO mentions_fts (rowid, text, author_handle, author_name)
        VALUES (new.rowid, new.text, new.author_handle, new.author_name);
    END;

    CREATE TABLE mention_revisions (
        id INTEGER PRIMARY KEY,
        mention_uid TEXT NOT NULL REFERENCES mentions(uid),
        seen_at TEXT NOT NULL,
        change TEXT NOT NULL,
        old_text TEXT,
        new_text TEXT,
        raw TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX idx_revisions_mention ON mention_revisions (mention_uid, id);

    CREATE TABLE mention_tags (
        mention_uid TEXT NOT NULL REFERENCES mentions(uid),
        tag TEXT NOT NULL,
        PRIMARY KEY (mention_uid, tag)
    ) WITHOUT ROWID;
    CREATE INDEX idx_tags_tag ON mention_tags (tag, mention_uid);
    """)


def m006_bulk_fts_insert(db: Database) -> None:
    """New mentions enter the full-text index in one statement per batch (core.repo.upsert_mentions), not per row."""
    db.executescript("DROP TRIGGER mentions_fts_ai;")


def m007_time_ordered_mention_keys(db: Database) -> None:
    """Renumber mentions so that rowid follows created_at (core/mention_keys.py), then rebuild the full-text
    index, which shares those rowids."""
    rows = db.execute("SELECT rowid, created_at FROM mentions ORDER BY rowid").fetchall()
    if not rows:
        return
    shift = 1 << 62  # above every time key: old and new rowids never meet while renumbering
    db.execute("UPDATE mentions SET rowid = rowid + ?", (shift,))
    top: dict[int, int] = {}
    moves = []
    for rowid, created_at in rows:  # in arrival order, so that ties keep it
        block = mention_keys.block_start(from_iso(created_at) or _EPOCH)
        key = top[block] + 1 if block in top else block
        top[block] = key
        moves.append((key, rowid + shift))
    db.conn.executemany("UPDATE mentions SET rowid = ? WHERE rowid = ?", moves)
    db.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild')")


def m008_drop_redundant_open_index(db: Database) -> None:
    """Open items newest first are served by idx_mentions_open_backlog (created_at first, same partial WHERE);
    one index fewer to maintain on every insert."""
    db.executescript("DROP INDEX IF EXISTS idx_mentions_open_created;")
