"""Migrations of the publishing calendar: posts and their outbox, worker leases, the reply outbox (m050-m052)."""

from __future__ import annotations

from sqlite_utils import Database


def m050_posts_outbox(db: Database) -> None:
    """Posts, their per-account outbox rows, the publish attempts log and recurring posts."""
    db.executescript("""
    CREATE TABLE recurrences (
        id INTEGER PRIMARY KEY,
        author_id INTEGER NOT NULL REFERENCES agents(id),
        text TEXT NOT NULL,
        variants TEXT NOT NULL DEFAULT '{}',
        media TEXT NOT NULL DEFAULT '[]',
        accounts TEXT NOT NULL,
        native_schedule INTEGER NOT NULL DEFAULT 0,
        freq TEXT NOT NULL CHECK (freq IN ('daily', 'weekly')),
        every_n INTEGER NOT NULL DEFAULT 1 CHECK (every_n >= 1),
        weekdays TEXT NOT NULL DEFAULT '[]',
        local_time TEXT NOT NULL,
        start_date TEXT NOT NULL,
        until_date TEXT,
        exceptions TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        content_hash TEXT NOT NULL,
        approved_hash TEXT,
        approver_id INTEGER REFERENCES agents(id),
        submitted_at TEXT,
        approved_at TEXT,
        comment TEXT NOT NULL DEFAULT '',
        materialized_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX idx_recurrences_state ON recurrences (state);

    CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        author_id INTEGER NOT NULL REFERENCES agents(id),
        text TEXT NOT NULL,
        variants TEXT NOT NULL DEFAULT '{}',
        media TEXT NOT NULL DEFAULT '[]',
        scheduled_at TEXT NOT NULL,
        state TEXT NOT NULL,
        native_schedule INTEGER NOT NULL DEFAULT 0,
        content_hash TEXT NOT NULL,
        approved_hash TEXT,
        approver_id INTEGER REFERENCES agents(id),
        submitted_at TEXT,
        approved_at TEXT,
        comment TEXT NOT NULL DEFAULT '',
        hold_reason TEXT NOT NULL DEFAULT '',
        recurrence_id INTEGER REFERENCES recurrences(id),
        recurrence_revision INTEGER,
        occurrence_date TEXT,
        charter_version INTEGER,
        charter_result TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX idx_posts_scheduled ON posts (scheduled_at);
    CREATE INDEX idx_posts_state ON posts (state, scheduled_at);
    CREATE UNIQUE INDEX idx_posts_occurrence ON posts (recurrence_id, recurrence_revision, occurrence_date)
        WHERE recurrence_id IS NOT NULL;

    CREATE TABLE post_targets (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        account TEXT NOT NULL,
        platform TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        due_at TEXT,
        not_before TEXT,
        deadline_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        needs_check INTEGER NOT NULL DEFAULT 0,
        claim_token TEXT,
        claimed_by TEXT,
        claimed_at TEXT,
        sent_text TEXT,
        platform_id TEXT,
        permalink TEXT,
        published_at TEXT,
        error_code TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        UNIQUE (post_id, account)
    );
    CREATE INDEX idx_targets_due ON post_targets (state, not_before);
    CREATE UNIQUE INDEX idx_targets_platform_id ON post_targets (platform, account, platform_id)
        WHERE platform_id IS NOT NULL;

    CREATE TABLE publish_attempts (
        id INTEGER PRIMARY KEY,
        target_id INTEGER NOT NULL REFERENCES post_targets(id),
        post_id INTEGER NOT NULL REFERENCES posts(id),
        attempt INTEGER NOT NULL,
        kind TEXT NOT NULL,
        worker TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT NOT NULL DEFAULT 'started',
        error_code TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        platform_id TEXT
    );
    CREATE INDEX idx_attempts_target ON publish_attempts (target_id, id);
    """)


def m051_worker_leases(db: Database) -> None:
    """A lease row per singleton job, so that two workers on one database never both publish."""
    db.executescript("""
    CREATE TABLE worker_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        token INTEGER NOT NULL,
        acquired_at TEXT NOT NULL,
        renewed_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """)


def m052_reply_outbox(db: Database) -> None:
    """Claim columns on drafts, so that a reply goes out once: the same claim/record/reconcile as posts."""
    db.executescript("""
    ALTER TABLE drafts ADD COLUMN claim_token TEXT;
    ALTER TABLE drafts ADD COLUMN claimed_by TEXT;
    ALTER TABLE drafts ADD COLUMN claimed_at TEXT;
    ALTER TABLE drafts ADD COLUMN send_attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE drafts ADD COLUMN not_before TEXT;
    ALTER TABLE drafts ADD COLUMN needs_check INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE drafts ADD COLUMN sent_text TEXT;
    ALTER TABLE drafts ADD COLUMN send_error_code TEXT NOT NULL DEFAULT '';
    ALTER TABLE drafts ADD COLUMN send_error TEXT NOT NULL DEFAULT '';
    CREATE INDEX idx_drafts_claimed ON drafts (claimed_at) WHERE state = 'publishing';
    CREATE INDEX idx_drafts_platform_post ON drafts (platform, platform_post_id) WHERE platform_post_id IS NOT NULL;
    """)
