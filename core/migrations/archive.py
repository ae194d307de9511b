"""Migrations of the legal archive, legal holds, retention and RGPD requests (m030-m031)."""

from __future__ import annotations

from sqlite_utils import Database


def m030_legal_archive(db: Database) -> None:
    """Legal archive of published messages and their later platform changes (append-only, searchable)."""
    db.executescript("""
    CREATE TABLE archive_messages (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        platform TEXT NOT NULL,
        account TEXT NOT NULL DEFAULT '',
        platform_id TEXT NOT NULL,
        permalink TEXT,
        text TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        signature TEXT NOT NULL DEFAULT '',
        author TEXT NOT NULL,
        author_name TEXT NOT NULL DEFAULT '',
        approver TEXT,
        approver_name TEXT,
        charter_version INTEGER,
        charter_result TEXT NOT NULL DEFAULT '[]',
        in_reply_to TEXT,
        in_reply_to_snapshot TEXT NOT NULL DEFAULT '{}',
        published_at TEXT NOT NULL,
        archived_at TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        payload_sha256 TEXT NOT NULL,
        record_sha256 TEXT NOT NULL,
        UNIQUE (platform, platform_id)
    );
    CREATE INDEX idx_archive_published ON archive_messages (published_at);
    CREATE INDEX idx_archive_author ON archive_messages (author, published_at);
    CREATE INDEX idx_archive_approver ON archive_messages (approver, published_at);
    CREATE INDEX idx_archive_account ON archive_messages (platform, account, published_at);
    CREATE INDEX idx_archive_reply_to ON archive_messages (in_reply_to);

    CREATE TABLE archive_changes (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES archive_messages(id),
        seen_at TEXT NOT NULL,
        change TEXT NOT NULL CHECK (change IN ('edited', 'deleted', 'hidden', 'unhidden')),
        text TEXT,
        actor TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        payload_sha256 TEXT NOT NULL,
        record_sha256 TEXT NOT NULL
    );
    CREATE INDEX idx_archive_changes ON archive_changes (message_id, id);

    CREATE TRIGGER archive_messages_no_update BEFORE UPDATE ON archive_messages
    BEGIN SELECT RAISE(ABORT, 'archive_messages is append-only'); END;
    CREATE TRIGGER archive_messages_no_delete BEFORE DELETE ON archive_messages
    BEGIN SELECT RAISE(ABORT, 'archive_messages is append-only'); END;
    CREATE TRIGGER archive_changes_no_update BEFORE UPDATE ON archive_changes
    BEGIN SELECT RAISE(ABORT, 'archive_changes is append-only'); END;
    CREATE TRIGGER archive_changes_no_delete BEFORE DELETE ON archive_changes
    BEGIN SELECT RAISE(ABORT, 'archive_changes is append-only'); END;

    CREATE VIRTUAL TABLE archive_fts USING fts5 (
        message_id UNINDEXED, text, tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER archive_fts_message AFTER INSERT ON archive_messages BEGIN
        INSERT INTO archive_fts (message_id, text) VALUES (new.id,
            new.text || ' ' || COALESCE(json_extract(new.in_reply_to_snapshot, '$.text'), '') || ' ' ||
            COALESCE(json_extract(new.in_reply_to_snapshot, '$.author_handle'), ''));
    END;
    CREATE TRIGGER archive_fts_change AFTER INSERT ON archive_changes WHEN new.text IS NOT NULL BEGIN
        INSERT INTO archive_fts (message_id, text) VALUES (new.message_id, new.text);
    END;
    """)


def m031_legal_holds_retention_rgpd(db: Database) -> None:
    """Legal holds, the retention job's log, and residents' RGPD requests with their outcome."""
    db.executescript("""
    CREATE TABLE legal_holds (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL CHECK (scope IN ('conversation', 'author')),
        platform TEXT NOT NULL,
        key TEXT NOT NULL,
        reason TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL,
        lifted_by TEXT,
        lifted_at TEXT,
        lift_reason TEXT
    );
    CREATE INDEX idx_holds_active ON legal_holds (platform, scope, key) WHERE lifted_at IS NULL;

    CREATE TABLE retention_runs (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        policy TEXT NOT NULL,
        counts TEXT NOT NULL,
        held TEXT NOT NULL
    );

    CREATE TABLE rgpd_requests (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('access', 'erasure')),
        query TEXT NOT NULL,
        authors TEXT NOT NULL DEFAULT '[]',
        requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}',
        completed_at TEXT
    );
    CREATE INDEX idx_notes_created ON notes (created_at);
    """)
