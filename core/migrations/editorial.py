"""Migrations of editorial work: charters, saved replies, draft review (m020, m022, m023)."""

from __future__ import annotations

from sqlite_utils import Database


def m020_charters(db: Database) -> None:
    """Versioned editorial charters: append-only, the highest version is the one in force."""
    db.executescript("""
    CREATE TABLE charters (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        data TEXT NOT NULL,
        yaml TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TRIGGER charters_no_update BEFORE UPDATE ON charters
    BEGIN SELECT RAISE(ABORT, 'charter versions are append-only'); END;
    CREATE TRIGGER charters_no_delete BEFORE DELETE ON charters
    BEGIN SELECT RAISE(ABORT, 'charter versions are append-only'); END;
    """)


def m022_saved_replies(db: Database) -> None:
    """Saved replies (modèles de réponse) with {prenom} {service} {lien} variables."""
    db.executescript("""
    CREATE TABLE saved_replies (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_by INTEGER NOT NULL REFERENCES agents(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX idx_saved_replies_title ON saved_replies (title COLLATE NOCASE) WHERE active = 1;
    """)


def m023_draft_review(db: Database) -> None:
    """Approval details on drafts: desired time, why approval is needed, what was approved, attachments."""
    db.executescript("""
    ALTER TABLE drafts ADD COLUMN scheduled_at TEXT;
    ALTER TABLE drafts ADD COLUMN submitted_at TEXT;
    ALTER TABLE drafts ADD COLUMN approved_at TEXT;
    ALTER TABLE drafts ADD COLUMN approved_text TEXT;
    ALTER TABLE drafts ADD COLUMN approval_reasons TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE drafts ADD COLUMN media TEXT NOT NULL DEFAULT '[]';
    CREATE INDEX idx_drafts_scheduled ON drafts (state, scheduled_at);
    """)
